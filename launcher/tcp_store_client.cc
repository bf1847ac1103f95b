#include "launcher/tcp_store_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "launcher/tcp_store_protocol.h"

namespace trainrt::launcher {
namespace {

namespace proto = store_protocol;
using Clock = std::chrono::steady_clock;

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void PutField(std::string& out, const std::string& b) {
  Put<uint64_t>(out, b.size());
  out += b;
}
std::string KeysMessage(proto::Query q, const std::vector<std::string>& keys) {
  std::string m;
  Put(m, static_cast<uint8_t>(q));
  Put<uint64_t>(m, keys.size());
  for (const auto& k : keys) PutField(m, k);
  return m;
}

// One connection attempt to every address of host:port; -1 with `error` set on failure.
int TryConnect(const std::string& host, uint16_t port, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (gai != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(gai);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = "cannot connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

}  // namespace

runtime::Result<std::unique_ptr<TcpStoreClient>> TcpStoreClient::Connect(const std::string& host, uint16_t port,
                                                                         std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string error;
  auto delay = std::chrono::milliseconds(20);
  while (true) {
    int fd = TryConnect(host, port, error);
    if (fd >= 0) {
      std::unique_ptr<TcpStoreClient> client(new TcpStoreClient(fd));
      std::string hello;
      Put(hello, static_cast<uint8_t>(proto::Query::kValidate));
      Put(hello, proto::kValidationMagic);
      const uint32_t nonce = static_cast<uint32_t>(::getpid());
      Put(hello, static_cast<uint8_t>(proto::Query::kPing));
      Put(hello, nonce);
      TRAINRT_RETURN_IF_ERROR(client->Send(hello));
      uint32_t echo = 0;
      TRAINRT_RETURN_IF_ERROR(client->Recv(&echo, sizeof echo, timeout));
      if (echo != nonce) return runtime::Status::IOError("rendezvous store at " + host + ": bad handshake reply");
      return client;
    }
    if (Clock::now() + delay >= deadline) {
      return runtime::Status::Cancelled("rendezvous store: " + error + " (gave up after " +
                                        std::to_string(timeout.count() / 1000) + " s)");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

TcpStoreClient::~TcpStoreClient() { ::close(fd_); }

runtime::Status TcpStoreClient::Send(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return runtime::Status::FromErrno("rendezvous store: send", errno);
    }
    done += static_cast<size_t>(n);
  }
  return runtime::Status::Ok();
}

runtime::Status TcpStoreClient::Recv(void* out, size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  size_t done = 0;
  while (done < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return runtime::Status::Cancelled("rendezvous store: timed out waiting for a reply");
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (rc < 0 && errno != EINTR) return runtime::Status::FromErrno("rendezvous store: poll", errno);
    if (rc <= 0) continue;
    ssize_t got = ::recv(fd_, static_cast<char*>(out) + done, n - done, 0);
    if (got == 0) return runtime::Status::IOError("rendezvous store: connection closed by the master");
    if (got < 0) {
      if (errno == EINTR) continue;
      return runtime::Status::FromErrno("rendezvous store: recv", errno);
    }
    done += static_cast<size_t>(got);
  }
  return runtime::Status::Ok();
}

runtime::Status TcpStoreClient::Set(const std::string& key, const std::string& value) {
  std::string m;
  Put(m, static_cast<uint8_t>(proto::Query::kSet));
  PutField(m, key);
  PutField(m, value);
  return Send(m);
}

runtime::Result<int64_t> TcpStoreClient::Add(const std::string& key, int64_t delta) {
  std::string m;
  Put(m, static_cast<uint8_t>(proto::Query::kAdd));
  PutField(m, key);
  Put(m, delta);
  TRAINRT_RETURN_IF_ERROR(Send(m));
  int64_t value = 0;
  TRAINRT_RETURN_IF_ERROR(Recv(&value, sizeof value, std::chrono::seconds(60)));
  return value;
}

runtime::Result<bool> TcpStoreClient::Check(const std::vector<std::string>& keys) {
  TRAINRT_RETURN_IF_ERROR(Send(KeysMessage(proto::Query::kCheck, keys)));
  uint8_t r = 0;
  TRAINRT_RETURN_IF_ERROR(Recv(&r, 1, std::chrono::seconds(60)));
  return r == proto::kCheckReady;
}

runtime::Status TcpStoreClient::Wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout) {
  TRAINRT_RETURN_IF_ERROR(Send(KeysMessage(proto::Query::kWait, keys)));
  uint8_t r = 0;
  runtime::Status s = Recv(&r, 1, timeout);
  if (s.ok()) return s;
  if (s.code() != runtime::Status::Code::kCancelled) return s;
  // Timed out: cancel, then drain up to the cancel acknowledgement (a late STOP_WAITING may come first).
  std::string cancel;
  Put(cancel, static_cast<uint8_t>(proto::Query::kCancelWait));
  TRAINRT_RETURN_IF_ERROR(Send(cancel));
  do {
    TRAINRT_RETURN_IF_ERROR(Recv(&r, 1, std::chrono::seconds(60)));
  } while (r != proto::kWaitCanceled);
  return runtime::Status::Cancelled("rendezvous store: keys not set within " + std::to_string(timeout.count()) + " ms");
}

runtime::Result<std::string> TcpStoreClient::RecvField() {
  uint64_t len = 0;
  TRAINRT_RETURN_IF_ERROR(Recv(&len, sizeof len, std::chrono::seconds(60)));
  if (len > (uint64_t{1} << 30)) return runtime::Status::Corruption("rendezvous store: absurd value length");
  std::string value(len, '\0');
  TRAINRT_RETURN_IF_ERROR(Recv(value.data(), len, std::chrono::seconds(60)));
  return value;
}

runtime::Result<std::string> TcpStoreClient::CompareSet(const std::string& key, const std::string& expected,
                                                        const std::string& desired) {
  std::string m;
  Put(m, static_cast<uint8_t>(proto::Query::kCompareSet));
  PutField(m, key);
  PutField(m, expected);
  PutField(m, desired);
  TRAINRT_RETURN_IF_ERROR(Send(m));
  return RecvField();
}

runtime::Result<std::string> TcpStoreClient::Get(const std::string& key, std::chrono::milliseconds timeout) {
  TRAINRT_RETURN_IF_ERROR(Wait({key}, timeout));
  std::string m;
  Put(m, static_cast<uint8_t>(proto::Query::kGet));
  PutField(m, key);
  TRAINRT_RETURN_IF_ERROR(Send(m));
  return RecvField();
}

}  // namespace trainrt::launcher
