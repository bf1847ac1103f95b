#include "runtime/worker_protocol.h"

#include <nlohmann/json.hpp>

namespace trainrt::runtime::worker {

std::string ErrorFileContents(const std::string& message) {
  return nlohmann::json{{"message", {{"message", message}, {"extraInfo", nlohmann::json::object()}}}}.dump();
}

std::string ErrorFileMessage(const std::string& contents) {
  const auto j = nlohmann::json::parse(contents, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("message")) return "";
  const auto& m = j["message"];
  if (m.is_string()) return m.get<std::string>();
  if (m.is_object() && m.contains("message") && m["message"].is_string()) return m["message"].get<std::string>();
  return "";
}

std::string AttemptKey(int attempt, const std::string& what) {
  return kStoreKeyPrefix + ("attempt_" + std::to_string(attempt) + "/" + what);
}

std::string WorkerKey(int attempt, const std::string& what) { return AttemptKey(attempt, "worker/" + what); }

}  // namespace trainrt::runtime::worker
