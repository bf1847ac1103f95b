#include "launcher/host_resolution.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "runtime/strings.h"

namespace trainrt::launcher {
namespace {

using runtime::JoinComma;

bool Resolves(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return false;
  freeaddrinfo(res);
  return true;
}

}  // namespace

runtime::Status WaitForHosts(const std::vector<std::string>& hosts, int timeout_seconds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto next_report = start + std::chrono::seconds(15);
  auto delay = std::chrono::milliseconds(100);
  std::vector<std::string> pending = hosts;
  while (true) {
    pending.erase(std::remove_if(pending.begin(), pending.end(), Resolves), pending.end());
    if (pending.empty()) return runtime::Status::Ok();
    const auto now = Clock::now();
    if (now - start >= std::chrono::seconds(timeout_seconds)) {
      return runtime::Status::Cancelled("host names did not resolve within " + std::to_string(timeout_seconds) +
                                        " s: " + JoinComma(pending));
    }
    if (now >= next_report) {
      std::fprintf(stderr, "train: waiting for host names to resolve: %s\n", JoinComma(pending).c_str());
      next_report = now + std::chrono::seconds(15);
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
}

}  // namespace trainrt::launcher
