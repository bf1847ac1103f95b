#include "launcher/job_launch.h"

#include <algorithm>
#include <cctype>

#include "runtime/contract_names.h"
#include "runtime/sm_env.h"

namespace trainrt::launcher {
namespace {

namespace names = runtime::names;

int IndexOf(const std::vector<std::string>& list, const std::string& item) {
  auto it = std::find(list.begin(), list.end(), item);
  return it == list.end() ? -1 : static_cast<int>(it - list.begin());
}

bool FlagSet(const runtime::JobConfig& job, const char* name) {
  const runtime::PyValue* v = job.FrameworkParameter(name);
  return v != nullptr && v->Truthy();
}

bool LooksSecret(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : {"password", "passwd", "secret", "token", "key", "credential"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

runtime::Result<std::string> HostAddress(const runtime::EnvMap& env, const std::string& host) {
  const std::string spec = runtime::EnvOr(env, names::kHostAddressesEnv, "");
  size_t start = 0;
  while (start < spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return runtime::Status::InvalidArgument("TRAINRT_HOST_ADDRESSES item '" + item + "': expected name=address");
    }
    if (item.substr(0, eq) == host) return item.substr(eq + 1);
    start = end + 1;
  }
  return host;
}

std::string MaskedCommand(const std::vector<std::string>& argv) {
  std::string out;
  bool mask_next = false;
  for (const auto& a : argv) {
    std::string shown = a;
    bool masked = false;
    if (mask_next) {
      shown = "****";
      masked = true;
      mask_next = false;
    } else if (a.rfind("-", 0) == 0) {
      const size_t eq = a.find('=');
      if (eq != std::string::npos && LooksSecret(a.substr(0, eq))) {
        shown = a.substr(0, eq + 1) + "****";
        masked = true;
      } else if (eq == std::string::npos && LooksSecret(a)) {
        mask_next = true;
      }
    }
    const bool quote =
        !masked && (shown.empty() || shown.find_first_of(" \t\n'\"$*?;&|<>()\\`") != std::string::npos);
    out += (out.empty() ? "" : " ") + (quote ? "'" + shown + "'" : shown);
  }
  return out;
}

runtime::Result<JobLaunchPlan> PlanJobLaunch(const runtime::JobConfig& job, const UserProgram& program,
                                             const runtime::EnvMap& env) {
  JobLaunchPlan plan;
  LaunchOptions& l = plan.launch;
  l.argv = program.argv;
  l.cwd = program.cwd;
  l.env = env;
  for (auto& [name, value] : runtime::ProgramEnvironment(job, env)) l.env[name] = value;
  if (program.kind == ProgramKind::kPythonProgram || program.kind == ProgramKind::kPythonPackage) {
    l.env.emplace("PYTHONUNBUFFERED", "1");  // logs appear as they are written, not at exit
  }
  l.host_name = job.current_host;
  l.log_dir = runtime::JoinPath(job.paths.output_data_dir, "trainrt-logs/" + job.current_host);
  auto port = runtime::EnvInt(env, names::kMasterPortOverrideEnv, std::stoi(names::kDefaultMasterPort), 1, 65535,
                              "a port 1-65535");
  if (!port.ok()) return port.status();
  l.master_port = static_cast<uint16_t>(*port);
  l.run_id = job.job_name.value_or(job.sagemaker_job_name.empty() ? "none" : job.sagemaker_job_name);

  const bool builtin = program.kind == ProgramKind::kBuiltinFinetuner;
  const bool native_flag = FlagSet(job, names::kTorchDistributedEnabledParam) ||
                           FlagSet(job, names::kPytorchDdpEnabledParam) || FlagSet(job, names::kSmddpEnabledParam);
  const bool mpi_flag = FlagSet(job, names::kMpiEnabledParam);
  const int gpus = job.devices.num_gpus;

  // Processes per host: TRAINRT_NPROC_PER_HOST, else sagemaker_mpi_num_of_processes_per_host,
  // else one per GPU, else one per Neuron core (distribution runners only), else one.
  auto processes_per_host = [&](bool neurons_count) -> runtime::Result<int> {
    if (env.count(names::kNprocPerHostEnv)) {
      return runtime::EnvInt(env, names::kNprocPerHostEnv, 1, 1, 4096, "a positive integer");
    }
    const runtime::PyValue* ppn = job.FrameworkParameter(names::kMpiProcessesPerHostParam);
    if (ppn != nullptr && ppn->Truthy()) {
      auto n = ppn->AsInt64();
      if (!n || *n < 1 || *n > 4096) {
        return runtime::Status::InvalidArgument(std::string("hyperparameter ") + names::kMpiProcessesPerHostParam +
                                                "=" + runtime::PythonStr(*ppn) + ": expected a positive integer");
      }
      return static_cast<int>(*n);
    }
    if (gpus > 0) return gpus;
    if (neurons_count && job.devices.num_neurons > 0) return job.devices.num_neurons;
    return 1;
  };
  std::vector<std::string> hosts;
  // The built-in fine-tuner runs through trainrt's own rendezvous unless the job asks for MPI.
  const bool mpi_job = job.DistributionEnabled() && mpi_flag;
  if (builtin && !mpi_job) {
    plan.mode = JobMode::kNativeDistributed;
    hosts = job.hosts;  // the same list, in the same order, on every host
    l.master_addr = hosts[0];
    auto n = processes_per_host(false);
    if (!n.ok()) return n.status();
    l.nproc_per_node = *n;
  } else if (job.DistributionEnabled() && (mpi_flag || native_flag)) {
    plan.mode = mpi_flag ? JobMode::kMpi : JobMode::kNativeDistributed;
    hosts = job.distribution_hosts;
    l.master_addr = job.master_hostname;
    auto n = processes_per_host(true);
    if (!n.ok()) return n.status();
    l.nproc_per_node = *n;
  } else {
    plan.mode = JobMode::kSingleProcess;
    hosts = {job.current_host};
    l.master_addr = job.master_hostname;
  }
  // More ranks than GPUs is almost always a mistake (two ranks on one GPU fail in NCCL, or share it
  // slowly); TRAINRT_OVERSUBSCRIBE_GPUS=1 allows it on purpose.
  if (gpus > 0 && l.nproc_per_node > gpus && runtime::EnvOr(env, "TRAINRT_OVERSUBSCRIBE_GPUS", "") != "1") {
    return runtime::Status::InvalidArgument(
        std::to_string(l.nproc_per_node) + " processes per host (TRAINRT_NPROC_PER_HOST or " +
        names::kMpiProcessesPerHostParam + ") but this host has " + std::to_string(gpus) +
        " GPU(s): at most one process per GPU (TRAINRT_OVERSUBSCRIBE_GPUS=1 allows more)");
  }
  l.nnodes = static_cast<int>(hosts.size());
  l.node_rank = IndexOf(hosts, job.current_host);
  l.host_names = hosts;
  if (l.node_rank < 0) {
    return runtime::Status::InvalidArgument("host " + job.current_host + " is not among the distribution hosts");
  }
  auto master_address = HostAddress(env, l.master_addr);
  if (!master_address.ok()) return master_address.status();
  l.master_addr = *master_address;
  const int world = l.nnodes * l.nproc_per_node;
  const char* backend = plan.mode == JobMode::kMpi ? "mpirun"
                        : plan.mode == JobMode::kSingleProcess ? "single process"
                        : gpus > 0 ? "native rendezvous, NCCL" : "native rendezvous, Gloo";
  plan.summary = std::to_string(l.nnodes) + " host(s) x " + std::to_string(l.nproc_per_node) +
                 " process(es) = world size " + std::to_string(world) + ", " + backend + ", interface " +
                 job.network_interface_name + ", " + ProgramKindName(program.kind) + ", command: " +
                 MaskedCommand(program.argv);
  return plan;
}

}  // namespace trainrt::launcher
