#include "trainer/trainer_log.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "runtime/file_util.h"
#include "runtime/worker_protocol.h"
#include "runtime/python_value.h"

namespace trainrt::trainer {
namespace {

runtime::PyValue ToPy(const LogValue& v) {
  if (std::holds_alternative<int64_t>(v)) return runtime::PyValue::Int(std::get<int64_t>(v));
  return runtime::PyValue::Float(std::get<double>(v));
}

}  // namespace

double PyRound(double x, int digits) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);  // glibc prints the exact binary value, rounded half-even
  return std::strtod(buf, nullptr);
}

std::string PythonDictLine(const LogDict& dict) {
  runtime::PyValue::Dict items;
  for (const auto& [k, v] : dict) items.emplace_back(k, ToPy(v));
  return runtime::PythonRepr(runtime::PyValue::MakeDict(std::move(items)));
}

std::string ResultsBlock(const std::string& title, const LogDict& dict) {
  LogDict sorted = dict;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "***** " + title + " *****\n";
  for (const auto& [k, v] : sorted) out += k + " = " + runtime::PythonStr(ToPy(v)) + "\n";
  return out;
}

nlohmann::json HistoryEntry(const LogDict& values, double epoch, int64_t step) {
  nlohmann::json entry = nlohmann::json::object();
  for (const auto& [k, v] : values) {
    if (k == "epoch") continue;
    if (std::holds_alternative<double>(v)) entry[k] = std::get<double>(v); else entry[k] = std::get<int64_t>(v);
  }
  entry["epoch"] = epoch;
  entry["step"] = step;
  return entry;
}

void ReportFailure(const runtime::EnvMap& env, const std::string& message) {
  std::fprintf(stderr, "trainrt-finetune: error: %s\n", message.c_str());
  const std::string error_file = runtime::EnvOr(env, runtime::worker::kErrorFileEnv, "");
  if (error_file.empty()) return;
  (void)runtime::WriteFileAtomically(error_file, runtime::worker::ErrorFileContents("trainrt-finetune: " + message));
}

}  // namespace trainrt::trainer
