// TcpStoreClient: a blocking client of the c10d::TCPStore protocol (see tcp_store_protocol.h),
// used by launchers on other hosts to meet the master's launcher. Not thread-safe: one thread
// per client.
#ifndef TRAINRT_LAUNCHER_TCP_STORE_CLIENT_H_
#define TRAINRT_LAUNCHER_TCP_STORE_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace trainrt::launcher {

class TcpStoreClient {
 public:
  // Connects to host:port, retrying refused or unresolvable connections until `timeout` passes.
  static runtime::Result<std::unique_ptr<TcpStoreClient>> Connect(const std::string& host, uint16_t port,
                                                                  std::chrono::milliseconds timeout);
  ~TcpStoreClient();
  TcpStoreClient(const TcpStoreClient&) = delete;
  TcpStoreClient& operator=(const TcpStoreClient&) = delete;

  runtime::Status Set(const std::string& key, const std::string& value);
  runtime::Result<int64_t> Add(const std::string& key, int64_t delta);
  // Sets key to `desired` if it holds `expected` ("" expected: if it does not exist); returns the
  // value the key holds afterwards.
  runtime::Result<std::string> CompareSet(const std::string& key, const std::string& expected,
                                          const std::string& desired);
  // True when every key exists.
  runtime::Result<bool> Check(const std::vector<std::string>& keys);
  // Blocks until every key exists; Cancelled (the store stays usable) after `timeout`.
  runtime::Status Wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout);
  // Waits for the key, then returns its value.
  runtime::Result<std::string> Get(const std::string& key, std::chrono::milliseconds timeout);

 private:
  explicit TcpStoreClient(int fd) : fd_(fd) {}
  runtime::Status Send(const std::string& bytes);
  runtime::Status Recv(void* out, size_t n, std::chrono::milliseconds timeout);
  runtime::Result<std::string> RecvField();
  int fd_;
};

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_TCP_STORE_CLIENT_H_
