// Where this process stands in a distributed fine-tuning job: torchrun's variables (RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_*), which
// `train` and `trainrt launch` set, else OpenMPI's (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK,
// _LOCAL_SIZE) under a plain mpirun: runtime/worker_protocol.h names them. No libtorch here.
#ifndef TRAINRT_TRAINER_DISTRIBUTED_DISTRIBUTED_ENV_H_
#define TRAINRT_TRAINER_DISTRIBUTED_DISTRIBUTED_ENV_H_

#include <string>

#include "runtime/process_env.h"
#include "runtime/status.h"
#include "runtime/worker_protocol.h"

namespace trainrt::trainer {

struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = runtime::worker::kDefaultMasterPort;
  bool agent_store = false;  // TORCHELASTIC_USE_AGENT_STORE=True: the launcher serves the store
  int restart_count = 0;     // TORCHELASTIC_RESTART_COUNT: the launcher's restart attempt
  std::string source;        // "torchrun variables", "OpenMPI variables" or "single process"
};

// InvalidArgument names the variable and the value when one is malformed or out of range.
runtime::Result<DistributedEnv> ReadDistributedEnv(const runtime::EnvMap& env);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_DISTRIBUTED_DISTRIBUTED_ENV_H_
