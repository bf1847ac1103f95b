#include "launcher/tcp_store_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "launcher/tcp_store_protocol.h"

namespace trainrt::launcher {
namespace {

namespace proto = store_protocol;
using Bytes = std::string;
constexpr uint64_t kMaxFieldBytes = uint64_t{1} << 30;  // a longer field is a protocol error

// Reads fields from a connection's input buffer without consuming it until a message is complete.
class Reader {
 public:
  explicit Reader(const Bytes& buf) : buf_(buf) {}
  template <typename T>
  bool Value(T& out) {
    if (buf_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&out, buf_.data() + pos_, sizeof(T));  // little-endian hosts only (x86-64, arm64)
    pos_ += sizeof(T);
    return true;
  }
  // nullopt: incomplete. Sets `bad` on an absurd length.
  bool Field(Bytes& out, bool& bad) {
    uint64_t len = 0;
    const size_t start = pos_;
    if (!Value(len)) return false;
    if (len > kMaxFieldBytes) {
      bad = true;
      return false;
    }
    if (buf_.size() - pos_ < len) {
      pos_ = start;
      return false;
    }
    out.assign(buf_, pos_, len);
    pos_ += len;
    return true;
  }
  size_t consumed() const { return pos_; }

 private:
  const Bytes& buf_;
  size_t pos_ = 0;
};

struct Connection {
  int fd = -1;
  Bytes in;
  Bytes out;
  size_t keys_awaited = 0;  // > 0 while a WAIT is pending
};

class TcpStoreServerImpl final : public TcpStoreServer {
 public:
  TcpStoreServerImpl(int listen_fd, uint16_t port, int stop_read, int stop_write)
      : listen_fd_(listen_fd), port_(port), stop_read_(stop_read), stop_write_(stop_write) {
    thread_ = std::thread([this] { Run(); });
  }
  ~TcpStoreServerImpl() override {
    (void)!::write(stop_write_, "x", 1);
    thread_.join();
    for (auto& [fd, c] : conns_) ::close(fd);
    ::close(listen_fd_);
    ::close(stop_read_);
    ::close(stop_write_);
  }
  uint16_t port() const override { return port_; }
  int64_t NumKeys() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int64_t>(data_.size());
  }
  void DeleteKeysWithout(const std::string& keep_prefix) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = data_.begin(); it != data_.end();) {
      it = it->first.rfind(keep_prefix, 0) == 0 ? std::next(it) : data_.erase(it);
    }
  }

 private:
  void Run() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);  // signals belong to the launcher's main thread
    while (true) {
      std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}, {stop_read_, POLLIN, 0}};
      for (auto& [fd, c] : conns_) {
        fds.push_back({fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents) return;
      if (fds[0].revents & POLLIN) Accept();
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        auto it = conns_.find(fds[i].fd);
        if (it == conns_.end()) continue;
        bool ok = true;
        if (fds[i].revents & POLLOUT) ok = Flush(it->second);
        if (ok && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) ok = ReadAndServe(it->second);
        if (!ok) Close(fds[i].fd);
      }
    }
  }

  void Accept() {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns_[fd].fd = fd;
  }

  void Close(int fd) {
    for (auto wit = waiters_.begin(); wit != waiters_.end();) {
      auto& v = wit->second;
      v.erase(std::remove(v.begin(), v.end(), fd), v.end());
      wit = v.empty() ? waiters_.erase(wit) : std::next(wit);
    }
    ::close(fd);
    conns_.erase(fd);
  }

  bool Flush(Connection& c) {
    while (!c.out.empty()) {
      ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      c.out.erase(0, static_cast<size_t>(n));
    }
    return true;
  }

  bool ReadAndServe(Connection& c) {
    char buf[65536];
    ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c.in.append(buf, static_cast<size_t>(n));
    while (!c.in.empty()) {
      bool bad = false;
      size_t used = ServeOne(c, bad);
      if (bad) return false;
      if (used == 0) break;
      c.in.erase(0, used);
    }
    return Flush(c);
  }

  template <typename T>
  static void Put(Bytes& out, T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  static void PutField(Bytes& out, const Bytes& b) {
    Put<uint64_t>(out, b.size());
    out += b;
  }

  // Serves one complete message at the front of c.in; returns its length, 0 when incomplete.
  size_t ServeOne(Connection& c, bool& bad) {
    Reader r(c.in);
    uint8_t type = 0;
    if (!r.Value(type)) return 0;
    std::lock_guard<std::mutex> lock(mu_);
    switch (static_cast<proto::Query>(type)) {
      case proto::Query::kValidate: {
        uint32_t magic = 0;
        if (!r.Value(magic)) return 0;
        if (magic != proto::kValidationMagic) bad = true;
        return r.consumed();
      }
      case proto::Query::kPing: {
        uint32_t nonce = 0;
        if (!r.Value(nonce)) return 0;
        Put(c.out, nonce);
        return r.consumed();
      }
      case proto::Query::kSet:
      case proto::Query::kAppend: {
        Bytes key, value;
        if (!r.Field(key, bad) || !r.Field(value, bad)) return 0;
        Bytes& slot = data_[key];
        if (type == static_cast<uint8_t>(proto::Query::kSet)) slot = std::move(value); else slot += value;
        WakeWaiters(key);
        return r.consumed();
      }
      case proto::Query::kGet: {
        Bytes key;
        if (!r.Field(key, bad)) return 0;
        auto it = data_.find(key);
        if (it == data_.end()) {  // torch's server throws and drops the client too
          bad = true;
          return 0;
        }
        PutField(c.out, it->second);
        return r.consumed();
      }
      case proto::Query::kAdd: {
        Bytes key;
        int64_t delta = 0;
        if (!r.Field(key, bad) || !r.Value(delta)) return 0;
        int64_t value = delta;
        auto it = data_.find(key);
        if (it != data_.end()) {
          char* end = nullptr;
          value += std::strtoll(it->second.c_str(), &end, 10);
        }
        data_[key] = std::to_string(value);
        Put(c.out, value);
        WakeWaiters(key);
        return r.consumed();
      }
      case proto::Query::kCompareSet: {
        Bytes key, expected, desired;
        if (!r.Field(key, bad) || !r.Field(expected, bad) || !r.Field(desired, bad)) return 0;
        auto it = data_.find(key);
        if (it == data_.end()) {
          if (expected.empty()) {
            data_[key] = desired;
            PutField(c.out, desired);
            WakeWaiters(key);
          } else {
            PutField(c.out, expected);
          }
        } else {
          if (it->second == expected) it->second = desired;
          PutField(c.out, it->second);
        }
        return r.consumed();
      }
      case proto::Query::kCheck:
      case proto::Query::kWait:
      case proto::Query::kMultiGet: {
        uint64_t n = 0;
        if (!r.Value(n)) return 0;
        std::vector<Bytes> keys(std::min<uint64_t>(n, 1 << 20));
        if (n > keys.size()) {
          bad = true;
          return 0;
        }
        for (auto& k : keys) {
          if (!r.Field(k, bad)) return 0;
        }
        if (type == static_cast<uint8_t>(proto::Query::kMultiGet)) {
          for (const auto& k : keys) {
            auto it = data_.find(k);
            if (it == data_.end()) {
              bad = true;
              return 0;
            }
            PutField(c.out, it->second);
          }
          return r.consumed();
        }
        size_t missing = 0;
        for (const auto& k : keys) missing += data_.count(k) == 0;
        if (type == static_cast<uint8_t>(proto::Query::kCheck)) {
          Put<uint8_t>(c.out, missing == 0 ? proto::kCheckReady : proto::kCheckNotReady);
        } else if (missing == 0) {
          Put<uint8_t>(c.out, proto::kStopWaiting);
        } else {
          for (const auto& k : keys) {
            if (data_.count(k) == 0) waiters_[k].push_back(c.fd);
          }
          c.keys_awaited = missing;
        }
        return r.consumed();
      }
      case proto::Query::kMultiSet: {
        uint64_t n = 0;
        if (!r.Value(n)) return 0;
        std::vector<std::pair<Bytes, Bytes>> kvs;
        for (uint64_t i = 0; i < n; ++i) {
          Bytes k, v;
          if (!r.Field(k, bad) || !r.Field(v, bad)) return 0;
          kvs.emplace_back(std::move(k), std::move(v));
        }
        for (auto& [k, v] : kvs) {
          data_[k] = std::move(v);
          WakeWaiters(k);
        }
        return r.consumed();
      }
      case proto::Query::kGetNumKeys:
        Put<int64_t>(c.out, static_cast<int64_t>(data_.size()));
        return r.consumed();
      case proto::Query::kDeleteKey: {
        Bytes key;
        if (!r.Field(key, bad)) return 0;
        Put<int64_t>(c.out, static_cast<int64_t>(data_.erase(key)));
        return r.consumed();
      }
      case proto::Query::kCancelWait: {
        for (auto wit = waiters_.begin(); wit != waiters_.end();) {
          auto& v = wit->second;
          v.erase(std::remove(v.begin(), v.end(), c.fd), v.end());
          wit = v.empty() ? waiters_.erase(wit) : std::next(wit);
        }
        c.keys_awaited = 0;
        Put<uint8_t>(c.out, proto::kWaitCanceled);
        return r.consumed();
      }
    }
    bad = true;  // an unknown query type: drop the client, as torch's server does
    return 0;
  }

  // Answers the WAITs that `key` completes. Called with mu_ held; waiters_ and conns_ are only
  // touched by the server thread.
  void WakeWaiters(const std::string& key) {
    auto it = waiters_.find(key);
    if (it == waiters_.end()) return;
    for (int fd : it->second) {
      auto c = conns_.find(fd);
      if (c != conns_.end() && c->second.keys_awaited > 0 && --c->second.keys_awaited == 0) {
        Put<uint8_t>(c->second.out, proto::kStopWaiting);
        Flush(c->second);
      }
    }
    waiters_.erase(it);
  }

  const int listen_fd_;
  const uint16_t port_;
  const int stop_read_;
  const int stop_write_;
  std::thread thread_;
  mutable std::mutex mu_;  // guards data_ (read by NumKeys from other threads)
  std::unordered_map<std::string, Bytes> data_;
  std::unordered_map<std::string, std::vector<int>> waiters_;  // server thread only
  std::map<int, Connection> conns_;                            // server thread only
};

}  // namespace

runtime::Result<std::unique_ptr<TcpStoreServer>> TcpStoreServer::Start(uint16_t port) {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  bool v6 = fd >= 0;
  if (!v6) fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return runtime::Status::FromErrno("rendezvous store: socket", errno);
  int one = 1, zero = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (v6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);  // accept IPv4 clients too
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(port);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(port);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  if (rc != 0 || ::listen(fd, 1024) != 0) {
    const int err = errno;
    ::close(fd);
    return runtime::Status::FromErrno("rendezvous store: cannot listen on port " + std::to_string(port), err);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const uint16_t actual = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(fd);
    return runtime::Status::FromErrno("rendezvous store: pipe", err);
  }
  return std::unique_ptr<TcpStoreServer>(new TcpStoreServerImpl(fd, actual, pipe_fds[0], pipe_fds[1]));
}

}  // namespace trainrt::launcher
