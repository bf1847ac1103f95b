#include "launcher/launch.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "launcher/failure_report.h"
#include "launcher/tcp_store_client.h"
#include "launcher/tcp_store_server.h"
#include "runtime/container_paths.h"
#include "runtime/strings.h"
#include "runtime/worker_protocol.h"

namespace trainrt::launcher {
namespace {

using runtime::JoinComma;
using runtime::ReplaceAll;

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;
constexpr int kReportEverySeconds = 15;
constexpr int kExitBarrierSeconds = 30;
constexpr int kReportGraceSeconds = 20;  // after SIGKILL of its workers: their leftovers, then the report

std::string NodeName(const LaunchOptions& o, int node) {
  if (node < static_cast<int>(o.host_names.size()) && !o.host_names[node].empty()) return o.host_names[node];
  return "node " + std::to_string(node);
}

std::string Key(int attempt, const std::string& what) { return runtime::worker::AttemptKey(attempt, what); }

// Waits until every node has set Key(attempt, stage/<node>), printing the missing hosts every
// 15 s. A positive `timeout_seconds` bounds the wait; the error then names the missing hosts. So
// does `bound_once_set`, a key: once it appears, the wait ends `bound_seconds` later.
runtime::Status Barrier(TcpStoreClient& store, const LaunchOptions& o, int attempt, const std::string& stage,
                        const std::string& value, int timeout_seconds, const char* waiting_for,
                        const std::string& bound_once_set = "", int bound_seconds = 0) {
  TRAINRT_RETURN_IF_ERROR(store.Set(Key(attempt, stage + "/" + std::to_string(o.node_rank)), value));
  std::vector<std::string> keys;
  for (int n = 0; n < o.nnodes; ++n) keys.push_back(Key(attempt, stage + "/" + std::to_string(n)));
  const auto start = Clock::now();
  auto deadline = timeout_seconds > 0 ? start + seconds(timeout_seconds) : Clock::time_point::max();
  auto next_report = start + seconds(kReportEverySeconds);
  bool bounded_by_key = false;
  auto missing_hosts = [&]() -> runtime::Result<std::vector<std::string>> {
    std::vector<std::string> missing;
    for (int n = 0; n < o.nnodes; ++n) {
      auto present = store.Check({keys[static_cast<size_t>(n)]});
      if (!present.ok()) return present.status();
      if (!*present) missing.push_back(NodeName(o, n));
    }
    return missing;
  };
  while (true) {
    // Short slices while a key may bound the wait, so it is seen within a second.
    const auto now = Clock::now();
    auto until = std::min({deadline, next_report, bound_once_set.empty() || bounded_by_key ? next_report : now + seconds(1)});
    runtime::Status s = store.Wait(keys, std::max(std::chrono::duration_cast<milliseconds>(until - now), milliseconds(1)));
    if (s.ok()) return s;
    if (s.code() != runtime::Status::Code::kCancelled) return s;
    const auto waited = std::chrono::duration_cast<seconds>(Clock::now() - start).count();
    if (Clock::now() >= deadline) {
      auto missing = missing_hosts();
      if (!missing.ok()) return missing.status();
      if (bounded_by_key) {
        return runtime::Status::Cancelled(std::to_string(missing->size()) + " host(s) did not report within " +
                                          std::to_string(bound_seconds) + " s: " + JoinComma(*missing));
      }
      return runtime::Status::Cancelled("rendezvous timed out after " + std::to_string(waited) + " s: " +
                                        std::to_string(missing->size()) + " host(s) never joined: " + JoinComma(*missing));
    }
    if (!bound_once_set.empty() && !bounded_by_key) {
      auto set = store.Check({bound_once_set});
      if (!set.ok()) return set.status();
      if (*set) {
        bounded_by_key = true;
        deadline = std::min(deadline, Clock::now() + seconds(bound_seconds));
      }
    }
    if (Clock::now() >= next_report) {
      next_report += seconds(kReportEverySeconds);
      auto missing = missing_hosts();
      if (!missing.ok()) return missing.status();
      std::fprintf(stderr, "train: waiting %lld s so far for %zu host(s) %s: %s\n", static_cast<long long>(waited),
                   missing->size(), waiting_for, JoinComma(*missing).c_str());
    }
  }
}

runtime::Result<std::unique_ptr<TcpStoreClient>> ConnectToMaster(const LaunchOptions& o, const std::string& host,
                                                                 uint16_t port) {
  const auto start = Clock::now();
  while (true) {
    const auto waited = std::chrono::duration_cast<seconds>(Clock::now() - start).count();
    const int left = o.rendezvous_timeout_seconds - static_cast<int>(waited);
    auto client = TcpStoreClient::Connect(host, port, seconds(std::max(1, std::min(left, kReportEverySeconds))));
    if (client.ok() || client.status().code() != runtime::Status::Code::kCancelled) return client;
    if (left <= kReportEverySeconds) {
      return runtime::Status::Cancelled("rendezvous timed out after " + std::to_string(o.rendezvous_timeout_seconds) +
                                        " s: master " + NodeName(o, 0) + " (" + host + ":" + std::to_string(port) +
                                        ") is not reachable: " + client.status().ToString());
    }
    std::fprintf(stderr, "train: waiting for master %s at %s:%u (%s)\n", NodeName(o, 0).c_str(), host.c_str(), port,
                 client.status().ToString().c_str());
  }
}

std::vector<WorkerSpec> BuildWorkers(const LaunchOptions& o, int attempt, uint16_t port) {
  const int world = o.nnodes * o.nproc_per_node;
  std::string prefix_template = o.log_prefix;
  if (prefix_template == "auto") prefix_template = world > 1 ? "[{host}:{rank}] " : "";
  std::vector<WorkerSpec> specs;
  for (int local = 0; local < o.nproc_per_node; ++local) {
    const int rank = o.node_rank * o.nproc_per_node + local;
    runtime::EnvMap env = o.env;
    auto set = [&](const char* k, const std::string& v) { env[k] = v; };
    namespace worker = runtime::worker;
    set(worker::kRankEnv, std::to_string(rank));
    set(worker::kLocalRankEnv, std::to_string(local));
    set(worker::kWorldSizeEnv, std::to_string(world));
    set(worker::kLocalWorldSizeEnv, std::to_string(o.nproc_per_node));
    set(worker::kGroupRankEnv, std::to_string(o.node_rank));
    set(worker::kGroupWorldSizeEnv, std::to_string(o.nnodes));
    set(worker::kRoleRankEnv, std::to_string(rank));
    set(worker::kRoleWorldSizeEnv, std::to_string(world));
    set(worker::kRoleNameEnv, o.role);
    set(worker::kMasterAddrEnv, o.master_addr);
    set(worker::kMasterPortEnv, std::to_string(port));
    set(worker::kRestartCountEnv, std::to_string(attempt));
    set(worker::kMaxRestartsEnv, std::to_string(o.max_restarts));
    set(worker::kRunIdEnv, o.run_id);
    set(worker::kUseAgentStoreEnv, "True");  // workers connect to our store as clients
    if (!env.count("TORCH_NCCL_ASYNC_ERROR_HANDLING")) set("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1");
    if (!env.count("OMP_NUM_THREADS") && o.nproc_per_node > 1) set("OMP_NUM_THREADS", "1");
    WorkerSpec spec;
    spec.rank = rank;
    spec.local_rank = local;
    spec.cwd = o.cwd;
    spec.argv = o.argv;
    if (!o.log_dir.empty()) {
      const std::string dir = runtime::JoinPath(o.log_dir, "attempt_" + std::to_string(attempt));
      spec.log_file = runtime::JoinPath(dir, "rank_" + std::to_string(rank) + ".log");
      spec.error_file = runtime::JoinPath(dir, std::to_string(local) + "/error.json");
      set(worker::kErrorFileEnv, spec.error_file);
    }
    spec.log_prefix = ReplaceAll(ReplaceAll(ReplaceAll(prefix_template, "{host}", o.host_name), "{rank}",
                                            std::to_string(rank)),
                                 "{local_rank}", std::to_string(local));
    spec.env = runtime::ToEnvStrings(env);
    specs.push_back(std::move(spec));
  }
  return specs;
}

// The failure key holds "<exit code>\n<reason>"; the first host to report wins.
std::pair<int, std::string> DecodeFailure(const std::string& value) {
  const size_t nl = value.find('\n');
  return {std::atoi(value.substr(0, nl).c_str()), nl == std::string::npos ? "" : value.substr(nl + 1)};
}

LaunchResult Failed(int code, const std::string& reason) { return LaunchResult{code, reason, 0}; }

}  // namespace

LaunchResult RunLaunch(const LaunchOptions& o) {
  if (o.argv.empty()) return Failed(2, "nothing to launch: no program given");
  if (o.nnodes < 1 || o.nproc_per_node < 1 || o.node_rank < 0 || o.node_rank >= o.nnodes) {
    return Failed(2, "invalid layout: nnodes=" + std::to_string(o.nnodes) + " node_rank=" + std::to_string(o.node_rank) +
                         " nproc_per_node=" + std::to_string(o.nproc_per_node));
  }
  if (o.master_port == 0 && o.nnodes > 1) return Failed(2, "master port 0 (any free port) needs a single node");

  std::unique_ptr<TcpStoreServer> server;
  uint16_t port = o.master_port;
  if (o.node_rank == 0) {
    auto started = TcpStoreServer::Start(port);
    if (!started.ok()) return Failed(1, started.status().ToString());
    server = std::move(*started);
    port = server->port();
  }
  auto client = ConnectToMaster(o, o.node_rank == 0 ? "127.0.0.1" : o.master_addr, port);
  if (!client.ok()) return Failed(1, client.status().ToString());
  TcpStoreClient& store = **client;

  LaunchResult result;
  for (int attempt = 0; attempt <= o.max_restarts; ++attempt) {
    result.attempts = attempt + 1;
    // Node 0 clears the workers' keys before it joins: no worker of this attempt can start earlier.
    if (server != nullptr && attempt > 0) server->DeleteKeysWithout(runtime::worker::kStoreKeyPrefix);
    runtime::Status joined = Barrier(store, o, attempt, "joined", o.host_name, o.rendezvous_timeout_seconds, "to join");
    if (!joined.ok()) return Failed(1, joined.ToString());

    SuperviseOptions supervise = o.supervise;
    const std::string failed_key = Key(attempt, "failed");
    supervise.remote_stop = [&]() -> std::string {
      auto set = store.Check({failed_key});
      if (!set.ok() || !*set) return set.ok() ? "" : "lost the rendezvous store: " + set.status().ToString();
      auto value = store.Get(failed_key, seconds(10));
      return "a worker failed on another host: " + (value.ok() ? DecodeFailure(*value).second : "?");
    };
    auto outcome = RunWorkers(BuildWorkers(o, attempt, port), supervise);
    if (!outcome.ok()) return Failed(1, outcome.status().ToString());

    int local_code = 0;
    std::string local_reason;
    for (size_t i = 0; i < outcome->workers.size(); ++i) {
      const WorkerOutcome& w = outcome->workers[i];
      const bool first = outcome->first_failure == static_cast<int>(i);
      if (w.exit.StatusCode() != 0 && (first || (local_code == 0 && outcome->remote_stop_reason.empty()))) {
        local_code = w.exit.StatusCode();
        local_reason = FailureReport(RankSubject(o.host_name, w), w);
      }
    }
    if (local_code != 0) {
      auto first = store.CompareSet(failed_key, "", std::to_string(local_code) + "\n" + local_reason);
      if (!first.ok()) return Failed(local_code, local_reason);
    }
    // Every host reports; wait for all of them: unbounded while others may still be training, but
    // once a failure is known, only as long as stopping their workers can take (SIGTERM, SIGKILL
    // after the failure stop, or after the kill grace when a stop was already under way, then the
    // leftovers): a host that vanished with its workers never reports.
    const int stop_bound = std::max(o.supervise.failure_stop_seconds, o.supervise.kill_grace_seconds) + kReportGraceSeconds;
    runtime::Status reported = Barrier(store, o, attempt, "result", std::to_string(local_code), 0, "to finish",
                                       failed_key, stop_bound);
    if (!reported.ok()) {
      auto value = store.Get(failed_key, seconds(10));
      if (value.ok()) {
        auto [code, reason] = DecodeFailure(*value);
        return Failed(code, reason + "\nafter that failure: " + reported.message());
      }
      return Failed(local_code ? local_code : 1, local_code ? local_reason : "lost the master: " + reported.ToString());
    }
    auto failed = store.Check({failed_key});
    if (!failed.ok()) return Failed(1, failed.status().ToString());
    if (!*failed) {
      result.exit_code = 0;
      result.failure_reason.clear();
    } else {
      auto value = store.Get(failed_key, seconds(10));
      if (!value.ok()) return Failed(1, value.status().ToString());
      std::tie(result.exit_code, result.failure_reason) = DecodeFailure(*value);
    }
    (void)Barrier(store, o, attempt, "exit", "", kExitBarrierSeconds, "to read the verdict");
    result.stop_signal = outcome->StopSignal();
    if (result.exit_code == 0 || outcome->forwarded_signal != 0 || attempt == o.max_restarts) break;
    std::fprintf(stderr, "train: restarting every worker (restart %d of %d) after: %s\n", attempt + 1, o.max_restarts,
                 result.failure_reason.substr(0, result.failure_reason.find('\n')).c_str());
  }
  return result;
}

}  // namespace trainrt::launcher
