#include "runtime/process_env.h"

#include <charconv>
#include <cstring>

extern char** environ;

namespace trainrt::runtime {

EnvMap CurrentProcessEnv() {
  EnvMap env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    env.emplace(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

std::string EnvOr(const EnvMap& env, const std::string& name, const std::string& fallback) {
  auto it = env.find(name);
  return it == env.end() ? fallback : it->second;
}

Result<int> EnvInt(const EnvMap& env, const std::string& name, int fallback, int min, int max,
                   const std::string& expected) {
  auto it = env.find(name);
  if (it == env.end()) return fallback;
  const std::string& s = it->second;
  int value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || value < min || value > max) {
    return Status::InvalidArgument(name + "='" + s + "': expected " + expected);
  }
  return value;
}

std::vector<std::string> ToEnvStrings(const EnvMap& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace trainrt::runtime
