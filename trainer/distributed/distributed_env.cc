#include "trainer/distributed/distributed_env.h"

#include <climits>

#include "runtime/worker_protocol.h"

namespace trainrt::trainer {

namespace worker = runtime::worker;

runtime::Result<DistributedEnv> ReadDistributedEnv(const runtime::EnvMap& env) {
  DistributedEnv d;
  const bool torchrun = env.count(worker::kWorldSizeEnv) > 0;
  const bool mpi = !torchrun && env.count(worker::kOmpiSizeEnv) > 0;
  if (!torchrun && !mpi) {
    d.source = "single process";
    return d;
  }
  d.source = torchrun ? "torchrun variables" : "OpenMPI variables";
  const char* world = torchrun ? worker::kWorldSizeEnv : worker::kOmpiSizeEnv;
  const char* rank = torchrun ? worker::kRankEnv : worker::kOmpiRankEnv;
  const char* local_rank = torchrun ? worker::kLocalRankEnv : worker::kOmpiLocalRankEnv;
  const char* local_world = torchrun ? worker::kLocalWorldSizeEnv : worker::kOmpiLocalSizeEnv;
  auto w = runtime::EnvInt(env, world, 1, 1, INT_MAX, "a positive integer");
  if (!w.ok()) return w.status();
  d.world_size = *w;
  auto r = runtime::EnvInt(env, rank, 0, 0, d.world_size - 1, "an integer from 0 to " + std::to_string(d.world_size - 1));
  if (!r.ok()) return r.status();
  d.rank = *r;
  auto lw = runtime::EnvInt(env, local_world, 1, 1, d.world_size, "an integer from 1 to the world size");
  if (!lw.ok()) return lw.status();
  d.local_world_size = *lw;
  auto lr = runtime::EnvInt(env, local_rank, 0, 0, d.local_world_size - 1,
                            "an integer below the local world size " + std::to_string(d.local_world_size));
  if (!lr.ok()) return lr.status();
  d.local_rank = *lr;
  d.master_addr = runtime::EnvOr(env, worker::kMasterAddrEnv, d.world_size == d.local_world_size ? "127.0.0.1" : "");
  if (d.master_addr.empty()) return runtime::Status::InvalidArgument("MASTER_ADDR: required when ranks span hosts");
  auto port = runtime::EnvInt(env, worker::kMasterPortEnv, worker::kDefaultMasterPort, 1, 65535, "a port from 1 to 65535");
  if (!port.ok()) return port.status();
  d.master_port = *port;
  const std::string agent = runtime::EnvOr(env, worker::kUseAgentStoreEnv, "");
  d.agent_store = agent == "True" || agent == "true" || agent == "1";
  auto restart = runtime::EnvInt(env, worker::kRestartCountEnv, 0, 0, INT_MAX, "a non-negative integer");
  if (!restart.ok()) return restart.status();
  d.restart_count = *restart;
  return d;
}

}  // namespace trainrt::trainer
