// TcpStoreServer: a key-value rendezvous store that speaks the wire protocol of PyTorch's
// c10d::TCPStore (torch 2.x), so that unmodified workers calling
// init_process_group("env://") with TORCHELASTIC_USE_AGENT_STORE=True, and trainrt-finetune's
// c10d::TCPStore client, connect to the launcher as clients. The launcher keeps the store alive
// for the whole job (it does not die with rank 0) and uses it for its own host rendezvous.
//
// The server runs on its own thread; all public methods are thread-safe.
#ifndef TRAINRT_LAUNCHER_TCP_STORE_SERVER_H_
#define TRAINRT_LAUNCHER_TCP_STORE_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/status.h"

namespace trainrt::launcher {

class TcpStoreServer {
 public:
  // Listens on `port` (0: any free port) on all interfaces (IPv4 and IPv6 where available).
  static runtime::Result<std::unique_ptr<TcpStoreServer>> Start(uint16_t port);
  virtual ~TcpStoreServer() = default;  // stops the thread and closes every connection
  TcpStoreServer(const TcpStoreServer&) = delete;
  TcpStoreServer& operator=(const TcpStoreServer&) = delete;

  virtual uint16_t port() const = 0;
  // Number of keys stored (as TCPStore's getNumKeys).
  virtual int64_t NumKeys() const = 0;
  // Deletes every key that does not start with `keep_prefix`. torch's workers do not namespace
  // their keys by attempt (they expect a fresh store per restart), so the launcher clears theirs
  // between attempts, while no worker runs.
  virtual void DeleteKeysWithout(const std::string& keep_prefix) = 0;

 protected:
  TcpStoreServer() = default;
};

}  // namespace trainrt::launcher

#endif  // TRAINRT_LAUNCHER_TCP_STORE_SERVER_H_
