// The launcher/worker protocol: what `train` and `trainrt launch` hand each worker process, and
// what a worker hands back, in one place for both sides. launcher/ writes it; trainer/ reads it;
// unmodified PyTorch programs read it as torchrun's (torch/distributed/run.py, the
// torchelastic agent; shared/reference/distributed.md).
//   - the rank variables: torchrun's, or OpenMPI's under a plain mpirun;
//   - the error file a failing worker writes (torchelastic's error.json), whose message the
//     launcher puts in the failure report;
//   - the rendezvous store's key namespace: everything trainrt writes there, the launcher's and
//     the workers' keys alike, lives under kStoreKeyPrefix, per attempt.
#ifndef TRAINRT_RUNTIME_WORKER_PROTOCOL_H_
#define TRAINRT_RUNTIME_WORKER_PROTOCOL_H_

#include <cstdint>
#include <string>

#include "runtime/contract_names.h"

namespace trainrt::runtime::worker {

// ---- rank variables: torchrun's names and meanings ----
inline constexpr char kRankEnv[] = "RANK";
inline constexpr char kLocalRankEnv[] = "LOCAL_RANK";
inline constexpr char kWorldSizeEnv[] = "WORLD_SIZE";
inline constexpr char kLocalWorldSizeEnv[] = "LOCAL_WORLD_SIZE";
inline constexpr char kGroupRankEnv[] = "GROUP_RANK";
inline constexpr char kGroupWorldSizeEnv[] = "GROUP_WORLD_SIZE";
inline constexpr char kRoleRankEnv[] = "ROLE_RANK";
inline constexpr char kRoleWorldSizeEnv[] = "ROLE_WORLD_SIZE";
inline constexpr char kRoleNameEnv[] = "ROLE_NAME";
inline constexpr const char* kMasterAddrEnv = names::kMasterAddrEnv;
inline constexpr const char* kMasterPortEnv = names::kMasterPortEnv;
inline constexpr char kRestartCountEnv[] = "TORCHELASTIC_RESTART_COUNT";
inline constexpr char kMaxRestartsEnv[] = "TORCHELASTIC_MAX_RESTARTS";
inline constexpr char kRunIdEnv[] = "TORCHELASTIC_RUN_ID";
inline constexpr char kUseAgentStoreEnv[] = "TORCHELASTIC_USE_AGENT_STORE";  // "True": the launcher serves the store
inline constexpr char kErrorFileEnv[] = "TORCHELASTIC_ERROR_FILE";
// torchrun's default rendezvous port (the PyTorch toolkit's jobs use names::kDefaultMasterPort).
inline constexpr uint16_t kDefaultMasterPort = 29500;

// ---- OpenMPI's rank variables, under a plain mpirun ----
inline constexpr char kOmpiRankEnv[] = "OMPI_COMM_WORLD_RANK";
inline constexpr char kOmpiLocalRankEnv[] = "OMPI_COMM_WORLD_LOCAL_RANK";
inline constexpr char kOmpiSizeEnv[] = "OMPI_COMM_WORLD_SIZE";
inline constexpr char kOmpiLocalSizeEnv[] = "OMPI_COMM_WORLD_LOCAL_SIZE";

// ---- the error file ----
// torchelastic's error.json for `message`: {"message": {"message": ..., "extraInfo": {}}}.
std::string ErrorFileContents(const std::string& message);
// The message of an error file's contents, in torchelastic's nested form or as a plain
// {"message": "..."}; "" when it holds none.
std::string ErrorFileMessage(const std::string& contents);

// ---- the store ----
inline constexpr char kStoreKeyPrefix[] = "trainrt/";
// A launcher key of restart attempt `attempt`: "trainrt/attempt_<n>/<what>".
std::string AttemptKey(int attempt, const std::string& what);
// A worker's key of restart attempt `attempt` (TORCHELASTIC_RESTART_COUNT):
// "trainrt/attempt_<n>/worker/<what>". A restart never sees the keys of an earlier attempt.
std::string WorkerKey(int attempt, const std::string& what);

}  // namespace trainrt::runtime::worker

#endif  // TRAINRT_RUNTIME_WORKER_PROTOCOL_H_
