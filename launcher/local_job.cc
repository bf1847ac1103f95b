#include "launcher/local_job.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "launcher/supervisor.h"
#include "runtime/contract_names.h"
#include "runtime/file_util.h"
#include "runtime/process_env.h"
#include "runtime/python_json.h"
#include "runtime/python_value.h"

namespace trainrt::launcher {
namespace {

namespace fs = std::filesystem;
namespace names = runtime::names;
using runtime::PyValue;
using runtime::Status;
using Clock = std::chrono::steady_clock;

constexpr int kSageMakerKillSeconds = 120;  // SIGTERM to SIGKILL when SageMaker stops a job

std::string RandomSuffix(size_t n) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kChars[rd() % (sizeof kChars - 1)];
  return s;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

std::string StripFileUri(const std::string& s) { return s.rfind("file://", 0) == 0 ? s.substr(7) : s; }

// json.dump(obj, f): Python's default separators, insertion order.
Status WriteJson(const std::string& path, const PyValue& value) {
  return runtime::WriteFileAtomically(path, runtime::PythonJsonDump(value));
}

// tar.gz of everything under `dir` (paths relative to it), as SageMaker packs model and output.
Status WriteTarGz(const std::string& dir, const std::string& archive_path) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, archive_path.c_str()) != ARCHIVE_OK) {
    Status s = Status::IOError(archive_path + ": " + archive_error_string(a));
    archive_write_free(a);
    return s;
  }
  std::error_code ec;
  std::vector<fs::path> paths;
  if (fs::is_directory(dir, ec)) {
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
      paths.push_back(it->path());
    }
  }
  std::sort(paths.begin(), paths.end());
  Status result = Status::Ok();
  for (const fs::path& p : paths) {
    const std::string name = fs::relative(p, dir, ec).string();
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    const bool is_dir = fs::is_directory(p, ec);
    archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, is_dir ? 0755 : 0644);
    archive_entry_set_mtime(e, ::time(nullptr), 0);
    std::string contents;
    if (!is_dir) {
      auto read = runtime::ReadFileToString(p.string());
      if (!read.ok()) {
        archive_entry_free(e);
        result = read.status();
        break;
      }
      contents = std::move(*read);
      archive_entry_set_size(e, static_cast<la_int64_t>(contents.size()));
    }
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (!contents.empty() && archive_write_data(a, contents.data(), contents.size()) < 0)) {
      result = Status::IOError(archive_path + ": " + archive_error_string(a));
    }
    archive_entry_free(e);
    if (!result.ok()) break;
  }
  if (archive_write_close(a) != ARCHIVE_OK && result.ok()) result = Status::IOError(archive_path + ": " + archive_error_string(a));
  archive_write_free(a);
  return result;
}

struct Host {
  std::string name;
  std::string base;  // its /opt/ml
};

// One attempt of the job: fresh host trees (a new set of instances), the same checkpoints.
struct Attempt {
  std::string root;
  std::vector<Host> hosts;
  std::string model_dir;  // shared by the hosts, as the SDK mounts it
};

Status LayOut(const LocalJobOptions& o, const std::string& root, const std::vector<std::string>& host_names,
              const PyValue::Dict& hyperparameters, const std::string& source_dir, const std::string& checkpoint_dir,
              Attempt& at) {
  at.root = root;
  at.model_dir = root + "/model";
  TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(at.model_dir));
  PyValue::List hosts_list;
  for (const auto& h : host_names) hosts_list.push_back(PyValue::String(h));
  for (const auto& name : host_names) {
    Host h{name, root + "/" + name};
    for (const char* d : {"/input/config", "/input/data", "/output/data"}) TRAINRT_RETURN_IF_ERROR(runtime::MakeDirs(h.base + d));
    std::error_code ec;
    fs::create_directory_symlink(at.model_dir, h.base + "/model", ec);
    if (ec) return Status::IOError("linking " + h.base + "/model: " + ec.message());
    PyValue::Dict input;
    for (const auto& [channel, dir] : o.channels) {
      fs::create_directory_symlink(fs::absolute(StripFileUri(dir)), h.base + "/input/data/" + channel, ec);
      if (ec) return Status::IOError("linking channel " + channel + ": " + ec.message());
      input.emplace_back(channel, PyValue::MakeDict({{names::kTrainingInputModeKey, PyValue::String("File")}}));
    }
    PyValue::Dict hps = hyperparameters;
    if (!o.entry_point.empty()) {
      fs::copy(source_dir, h.base + "/code", fs::copy_options::recursive, ec);
      if (ec) return Status::IOError("copying " + source_dir + " to " + h.base + "/code: " + ec.message());
      // The SDK mounts local code at /opt/ml/code and points sagemaker_submit_directory there.
      for (auto& [k, v] : hps) {
        if (k == names::kSubmitDirParam) v = PyValue::String(runtime::PythonJsonDump(PyValue::String(h.base + "/code")));
      }
    }
    TRAINRT_RETURN_IF_ERROR(WriteJson(h.base + "/input/config/hyperparameters.json", PyValue::MakeDict(hps)));
    TRAINRT_RETURN_IF_ERROR(WriteJson(
        h.base + "/input/config/resourceconfig.json",
        PyValue::MakeDict({{names::kCurrentHostKey, PyValue::String(name)},
                           {names::kHostsKey, PyValue::MakeList(hosts_list)},
                           {names::kNetworkInterfaceNameKey, PyValue::String(names::kDefaultNetworkInterface)},
                           {"current_instance_type", PyValue::String(o.instance_type)}})));
    TRAINRT_RETURN_IF_ERROR(WriteJson(h.base + "/input/config/inputdataconfig.json", PyValue::MakeDict(input)));
    // What SageMaker writes when the job has a checkpoint config: all hosts share the folder here.
    TRAINRT_RETURN_IF_ERROR(WriteJson(h.base + "/input/config/checkpointconfig.json",
                                      PyValue::MakeDict({{names::kLocalPathKey, PyValue::String(checkpoint_dir)}})));
    at.hosts.push_back(h);
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeHyperparameter(const std::string& value) {
  auto parsed = runtime::ParsePythonJson(value);
  return runtime::PythonJsonDump(parsed.ok() ? *parsed : PyValue::String(value));
}

int RunLocalJob(const LocalJobOptions& given) {
  LocalJobOptions o = given;
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "trainrt local: error: %s\n", message.c_str());
    return 2;
  };
  std::error_code ec;
  if (o.output_path.empty()) return fail("--output-path: required");
  if (o.instance_type != "local" && o.instance_type != "local_gpu") {
    return fail("--instance-type '" + o.instance_type + "': expected local or local_gpu");
  }
  if (o.instance_count < 1) return fail("--instance-count: expected at least 1");
  for (const auto& [channel, dir] : o.channels) {
    if (dir.rfind("s3://", 0) == 0) return fail("--channel " + channel + "=" + dir + ": S3 is not reachable locally; give a folder");
    if (!fs::is_directory(StripFileUri(dir), ec)) return fail("--channel " + channel + "=" + dir + ": no such folder");
  }
  const std::string output = fs::absolute(StripFileUri(o.output_path)).string();
  const std::string checkpoints = o.checkpoint_dir.empty() ? output + "/checkpoints" : fs::absolute(o.checkpoint_dir).string();
  std::string job_name = o.job_name;
  if (job_name.empty()) {
    char stamp[32];
    const time_t now = ::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d-%H-%M-%S", std::gmtime(&now));
    job_name = std::string("trainrt-local-") + stamp;
  }
  if (runtime::Status s = runtime::MakeDirs(output); !s.ok()) return fail(s.ToString());
  if (runtime::Status s = runtime::MakeDirs(checkpoints); !s.ok()) return fail(s.ToString());
  std::string work = "/tmp/trainrt-local-XXXXXX";
  if (::mkdtemp(work.data()) == nullptr) return fail("mkdtemp: " + std::string(std::strerror(errno)));

  SuperviseOptions supervise;
  supervise.kill_grace_seconds = kSageMakerKillSeconds;
  supervise.failure_stop_seconds = kSageMakerKillSeconds;

  // The code: a git checkout (the SDK's git_config) or a folder.
  std::string source_dir = o.source_dir.empty() ? "." : o.source_dir;
  if (!o.git_repo.empty()) {
    WorkerSpec git;
    git.argv = {"git", "clone", "--depth", "1"};
    if (!o.git_branch.empty()) git.argv.insert(git.argv.end(), {"--branch", o.git_branch});
    git.argv.insert(git.argv.end(), {o.git_repo, work + "/git"});
    git.env = runtime::ToEnvStrings(runtime::CurrentProcessEnv());
    git.log_prefix = "[git] ";
    auto cloned = RunWorkers({git}, supervise);
    if (!cloned.ok() || !cloned->AllSucceeded()) return fail("git clone " + o.git_repo + " failed");
    source_dir = work + "/git/" + (o.source_dir.empty() ? "" : o.source_dir);
  }
  if (!o.entry_point.empty() && o.source_dir.empty() && o.git_repo.empty()) {
    // As the SDK: without a source dir the entry point file alone is the code.
    const fs::path file = fs::absolute(o.entry_point);
    if (!fs::is_regular_file(file, ec)) return fail("--entry-point " + o.entry_point + ": no such file");
    source_dir = work + "/entry-point";
    fs::create_directories(source_dir, ec);
    fs::copy_file(file, fs::path(source_dir) / file.filename(), ec);
    if (ec) return fail("copying " + file.string() + ": " + ec.message());
    o.entry_point = file.filename().string();
  }
  if (!o.entry_point.empty() && !fs::is_regular_file(fs::path(source_dir) / o.entry_point, ec)) {
    return fail("--entry-point " + o.entry_point + ": not found in " + source_dir);
  }
  source_dir = fs::absolute(source_dir).lexically_normal().string();

  // Hyperparameters as the SDK writes them: every value json.dumps-encoded, script-mode keys added.
  PyValue::Dict hps;
  auto set_hp = [&](const std::string& key, const std::string& encoded) {
    for (auto& [k, v] : hps) {
      if (k == key) {
        v = PyValue::String(encoded);
        return;
      }
    }
    hps.emplace_back(key, PyValue::String(encoded));
  };
  if (!o.hyperparameters_file.empty()) {
    auto text = runtime::ReadFileToString(o.hyperparameters_file);
    if (!text.ok()) return fail("--hyperparameters: " + text.status().ToString());
    auto parsed = runtime::ParsePythonJson(*text);
    if (!parsed.ok() || !parsed->is_dict()) return fail("--hyperparameters " + o.hyperparameters_file + ": expected a JSON object");
    for (const auto& [k, v] : parsed->dict()) set_hp(k, runtime::PythonJsonDump(v));
  }
  for (const auto& [k, v] : o.hyperparameters) set_hp(k, EncodeHyperparameter(v));
  if (!o.entry_point.empty()) {
    set_hp(names::kSubmitDirParam, runtime::PythonJsonDump(PyValue::String("file://" + source_dir)));
    set_hp(names::kProgramParam, runtime::PythonJsonDump(PyValue::String(o.entry_point)));
    set_hp(names::kLogLevelParam, std::to_string(names::kDefaultLogLevel));
    set_hp(names::kJobNameParam, runtime::PythonJsonDump(PyValue::String(job_name)));
  }

  const std::string suffix = RandomSuffix(5);
  std::vector<std::string> host_names;
  for (int i = 1; i <= o.instance_count; ++i) host_names.push_back("algo-" + std::to_string(i) + "-" + suffix);
  std::fprintf(stderr, "trainrt local: job %s on %d host(s) (%s), instance type %s, checkpoints in %s\n",
               job_name.c_str(), o.instance_count, [&] {
                 std::string s;
                 for (const auto& h : host_names) s += (s.empty() ? "" : ", ") + h;
                 return s;
               }().c_str(), o.instance_type.c_str(), checkpoints.c_str());

  const auto job_start = Clock::now();
  int interruptions_left = o.interrupt_after_seconds > 0 ? o.interruptions : 0;
  int exit_code = 1;
  Attempt last;
  bool max_run_hit = false;
  for (int attempt = 1;; ++attempt) {
    Attempt at;
    if (Status s = LayOut(o, work + "/attempt-" + std::to_string(attempt), host_names, hps, source_dir, checkpoints, at);
        !s.ok()) {
      return fail(s.ToString());
    }
    const int port = FreePort();
    std::string addresses;
    for (const auto& h : host_names) addresses += (addresses.empty() ? "" : ",") + h + "=127.0.0.1";
    std::vector<WorkerSpec> specs;
    for (size_t i = 0; i < at.hosts.size(); ++i) {
      WorkerSpec w;
      w.argv = {o.train_binary};
      w.cwd = at.hosts[i].base;
      w.rank = static_cast<int>(i);
      w.log_prefix = "[" + at.hosts[i].name + "] ";
      // The host's settings replace inherited ones of the same name (a process sees the first of
      // two), and --env replaces both.
      runtime::EnvMap env = runtime::CurrentProcessEnv();
      env[names::kBaseDirEnv] = at.hosts[i].base;
      env[names::kTrainingJobNameEnv] = job_name;
      env[names::kHostAddressesEnv] = addresses;
      env[names::kMasterPortOverrideEnv] = std::to_string(port);
      env[names::kGlooSocketIfnameEnv] = env[names::kNcclSocketIfnameEnv] = "lo";
      env[names::kLogPrefixEnv] = "[rank {rank}] ";
      if (o.instance_type == names::kDefaultInstanceType) {  // SDK local mode gives the container no GPUs: nor do we
        env[names::kNumGpusOverrideEnv] = "0";
        env[names::kCudaVisibleDevicesEnv] = "";
      }
      for (const auto& kv : o.env) {
        const size_t eq = kv.find('=');
        env[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
      }
      w.env = runtime::ToEnvStrings(env);
      specs.push_back(std::move(w));
    }
    // max_run and spot interruptions: SIGTERM to every host, SIGKILL 120 s later, as SageMaker.
    const auto attempt_start = Clock::now();
    const bool interrupt = interruptions_left > 0;
    std::string stop_reason;
    supervise.remote_stop = [&]() -> std::string {
      const auto now = Clock::now();
      if (o.max_run_seconds > 0 && now - job_start >= std::chrono::seconds(o.max_run_seconds)) {
        max_run_hit = true;
        return stop_reason = "max run of " + std::to_string(o.max_run_seconds) + " s reached (MaxRuntimeExceeded)";
      }
      if (interrupt && now - attempt_start >= std::chrono::seconds(o.interrupt_after_seconds)) {
        return stop_reason = "simulated spot interruption after " + std::to_string(o.interrupt_after_seconds) + " s";
      }
      return "";
    };
    std::fprintf(stderr, "trainrt local: attempt %d: starting %zu host(s)\n", attempt, specs.size());
    auto outcome = RunWorkers(specs, supervise);
    if (!outcome.ok()) return fail(outcome.status().ToString());
    last = at;
    bool all_succeeded = true;
    exit_code = 0;
    for (size_t i = 0; i < at.hosts.size(); ++i) {
      all_succeeded = all_succeeded && runtime::PathExists(at.hosts[i].base + "/output/success");
      const int code = outcome->workers[i].exit.StatusCode();
      if (code != 0 && exit_code == 0) exit_code = code;
    }
    if (all_succeeded && exit_code == 0) break;
    if (!stop_reason.empty() && exit_code == 0) {
      std::fprintf(stderr, "trainrt local: attempt %d stopped: %s\n", attempt, stop_reason.c_str());
      if (max_run_hit) {
        exit_code = 124;
        break;
      }
      --interruptions_left;
      continue;  // a new set of instances, the same checkpoint folder
    }
    if (exit_code == 0) exit_code = 1;
    break;
  }

  // Artifacts, as SageMaker uploads them: the shared model dir, every host's output merged.
  const std::string merged = work + "/merged-output";
  for (const Host& h : last.hosts) fs::copy(h.base + "/output", merged, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  for (const auto& [dir, name] : {std::pair<std::string, std::string>{last.model_dir, "model.tar.gz"}, {merged, "output.tar.gz"}}) {
    if (Status s = WriteTarGz(dir, output + "/" + name); !s.ok()) std::fprintf(stderr, "trainrt local: %s\n", s.ToString().c_str());
  }
  fs::remove(output + "/failure", ec);
  for (const Host& h : last.hosts) {
    auto reason = runtime::ReadFileToString(h.base + "/output/failure");
    if (reason.ok()) {
      (void)runtime::WriteFileAtomically(output + "/failure", *reason);
      std::fprintf(stderr, "trainrt local: %s failed: %s\n", h.name.c_str(), reason->substr(0, 1024).c_str());
      break;
    }
  }
  if (max_run_hit) {
    (void)runtime::WriteFileAtomically(output + "/failure", "MaxRuntimeExceeded: the job ran past --max-run " +
                                                                std::to_string(o.max_run_seconds) + " s\n");
  }
  if (o.keep_work_dir) {
    std::fprintf(stderr, "trainrt local: host trees kept in %s\n", work.c_str());
  } else {
    fs::remove_all(work, ec);
  }
  std::fprintf(stderr, "trainrt local: model.tar.gz and output.tar.gz in %s\n", output.c_str());
  if (exit_code == 0) std::printf("===== Job Complete =====\n");
  return exit_code;
}

}  // namespace trainrt::launcher
