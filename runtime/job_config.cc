#include "runtime/job_config.h"

#include <unistd.h>

#include <algorithm>

#include "runtime/contract_names.h"
#include "runtime/file_util.h"
#include "runtime/python_json.h"
#include "runtime/strings.h"
#include "runtime/utf8.h"

namespace trainrt::runtime {
namespace {

const char* TypeName(const PyValue& v) {
  switch (v.type()) {
    case PyValue::Type::kNone: return "null";
    case PyValue::Type::kBool: return "a boolean";
    case PyValue::Type::kInt: return "an integer";
    case PyValue::Type::kFloat: return "a number";
    case PyValue::Type::kString: return "a string";
    case PyValue::Type::kList: return "a list";
    case PyValue::Type::kDict: return "an object";
  }
  return "?";
}

// Reads a config file that must hold a JSON object.
Result<PyValue> ReadJsonObjectFile(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  if (!IsValidUtf8(*text)) return Status::InvalidArgument(path + ": not valid UTF-8");
  auto value = ParsePythonJson(*text);
  if (!value.ok()) return value.status().WithContext(path);
  if (!value->is_dict()) {
    return Status::InvalidArgument(path + ": expected a JSON object at the top level, got " + TypeName(*value));
  }
  return value;
}

Status WrongType(const std::string& file, const std::string& key, const char* expected, const PyValue& got) {
  return Status::InvalidArgument(file + ": key '" + key + "': expected " + expected + ", got " + TypeName(got));
}

// dict[key] as a string; `fallback` when absent (nullopt: the key is required).
Result<std::string> StringField(const std::string& file, const PyValue& dict, const std::string& key,
                                const std::optional<std::string>& fallback) {
  const PyValue* v = dict.Find(key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return Status::InvalidArgument(file + ": missing required key '" + key + "'");
  }
  if (!v->is_string()) return WrongType(file, key, "a string", *v);
  return v->string_value();
}

Result<std::vector<std::string>> StringList(const std::string& file, const std::string& key, const PyValue& v) {
  if (!v.is_list()) return WrongType(file, key, "a list of strings", v);
  std::vector<std::string> out;
  for (const PyValue& item : v.list()) {
    if (!item.is_string()) return WrongType(file, key, "a list of strings", item);
    out.push_back(item.string_value());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool IsToolkitHyperparameter(const std::string& key) {
  return std::find(names::kToolkitHyperparameters.begin(), names::kToolkitHyperparameters.end(), key) !=
         names::kToolkitHyperparameters.end();
}

// Whether `name` is an executable file in one of PATH's folders (which(1)).
bool OnPath(const EnvMap& env, const std::string& name) {
  const std::string path = EnvOr(env, "PATH", "");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(start, end - start);
    if (!dir.empty() && ::access(JoinPath(dir, name).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

Status LoadResourceConfig(const std::string& file, JobConfig& job) {
  auto rc = ReadJsonObjectFile(file);
  if (!rc.ok()) return rc.status();
  job.resource_config = *rc;
  const PyValue& d = job.resource_config;

  auto current_host = StringField(file, d, names::kCurrentHostKey, std::nullopt);
  if (!current_host.ok()) return current_host.status();
  job.current_host = *current_host;
  const PyValue* hosts = d.Find(names::kHostsKey);
  if (hosts == nullptr) return Status::InvalidArgument(file + ": missing required key 'hosts'");
  auto host_list = StringList(file, names::kHostsKey, *hosts);
  if (!host_list.ok()) return host_list.status();
  if (host_list->empty()) return Status::InvalidArgument(file + ": key 'hosts': expected at least one host");
  job.hosts = *host_list;
  if (!Contains(job.hosts, job.current_host)) {
    return Status::InvalidArgument(file + ": key 'current_host': '" + job.current_host +
                                   "' is not one of 'hosts' " + PythonJsonDumps(*hosts));
  }
  auto type = StringField(file, d, names::kCurrentInstanceTypeKey, std::string(names::kDefaultInstanceType));
  if (!type.ok()) return type.status();
  job.current_instance_type = *type;
  auto group = StringField(file, d, names::kCurrentGroupNameKey, std::string(names::kDefaultGroupName));
  if (!group.ok()) return group.status();
  job.current_instance_group = *group;
  auto nic = StringField(file, d, names::kNetworkInterfaceNameKey, std::string(names::kDefaultNetworkInterface));
  if (!nic.ok()) return nic.status();
  job.network_interface_name = *nic;

  if (const PyValue* groups = d.Find(names::kInstanceGroupsKey)) {
    if (!groups->is_list()) return WrongType(file, names::kInstanceGroupsKey, "a list of objects", *groups);
    for (size_t i = 0; i < groups->list().size(); ++i) {
      const PyValue& g = groups->list()[i];
      const std::string where = std::string(names::kInstanceGroupsKey) + "[" + std::to_string(i) + "]";
      if (!g.is_dict()) return WrongType(file, where, "an object", g);
      InstanceGroup group_config;
      auto name = StringField(file, g, names::kInstanceGroupNameKey, std::nullopt);
      if (!name.ok()) return name.status().WithContext(where);
      group_config.name = *name;
      auto itype = StringField(file, g, names::kInstanceTypeKey, std::string());
      if (!itype.ok()) return itype.status().WithContext(where);
      group_config.instance_type = *itype;
      const PyValue* ghosts = g.Find(names::kHostsKey);
      if (ghosts == nullptr) return Status::InvalidArgument(file + ": key '" + where + ".hosts': missing");
      auto glist = StringList(file, where + ".hosts", *ghosts);
      if (!glist.ok()) return glist.status();
      group_config.hosts = *glist;
      group_config.raw = g;
      job.instance_groups.push_back(std::move(group_config));
    }
  }
  const PyValue* topology = d.Find(names::kTopologyKey);
  job.topology = topology ? *topology : PyValue::MakeList({});
  return Status::Ok();
}

Status LoadInputDataConfig(const std::string& file, JobConfig& job) {
  auto idc = ReadJsonObjectFile(file);
  if (!idc.ok()) return idc.status();
  for (const auto& [channel, config] : idc->dict()) {
    if (!config.is_dict()) return WrongType(file, channel, "an object", config);
    if (channel.empty() || channel.find('/') != std::string::npos) {
      return Status::InvalidArgument(file + ": channel name '" + channel + "': expected a non-empty name without '/'");
    }
    job.channels.push_back(channel);
  }
  job.input_data_config = std::move(*idc);
  return Status::Ok();
}

Status LoadHyperparameters(const std::string& file, JobConfig& job) {
  auto hps = ReadJsonObjectFile(file);
  if (!hps.ok()) return hps.status();
  for (const auto& [key, raw] : hps->dict()) {
    PyValue value = raw;
    if (raw.is_string()) {  // json.loads; non-strings raise TypeError and are kept as they are
      auto decoded = ParsePythonJson(raw.string_value());
      if (decoded.ok()) value = std::move(*decoded);
    }
    if (IsToolkitHyperparameter(key)) {
      job.toolkit_parameters.emplace_back(key, std::move(value));
    } else if (key.rfind(names::kSagemakerPrefix, 0) == 0) {
      job.framework_parameters.emplace_back(key, std::move(value));
    } else {
      job.hyperparameters.emplace_back(key, std::move(value));
    }
  }
  return Status::Ok();
}

Result<CheckpointConfig> ReadCheckpointConfig(const std::string& file) {
  CheckpointConfig checkpoint;
  checkpoint.local_path = names::kDefaultCheckpointDir;
  if (!PathExists(file)) return checkpoint;
  auto cc = ReadJsonObjectFile(file);
  if (!cc.ok()) return cc.status();
  checkpoint.present = true;
  auto local = StringField(file, *cc, names::kLocalPathKey, std::string(names::kDefaultCheckpointDir));
  if (!local.ok()) return local.status();
  if (local->empty() || (*local)[0] != '/') {
    return Status::InvalidArgument(file + ": key 'LocalPath': expected an absolute path, got '" + *local + "'");
  }
  checkpoint.local_path = *local;
  auto s3 = StringField(file, *cc, names::kS3UriKey, std::string());
  if (!s3.ok()) return s3.status();
  checkpoint.s3_uri = *s3;
  return checkpoint;
}

const PyValue* FindIn(const PyValue::Dict& dict, const std::string& key) {
  for (const auto& [k, v] : dict) {
    if (k == key) return &v;
  }
  return nullptr;
}

Status DeriveDistribution(const std::string& hp_file, JobConfig& job) {
  if (const PyValue* groups = job.FrameworkParameter(names::kDistributionInstanceGroupsParam)) {
    auto list = StringList(hp_file, names::kDistributionInstanceGroupsParam, *groups);
    if (!list.ok()) return list.status();
    job.distribution_instance_groups = *list;
    job.distribution_instance_groups_value = *groups;
  } else {
    bool enabled = false;
    for (std::string_view flag : names::kDistributionFlags) {
      const PyValue* v = job.FrameworkParameter(std::string(flag));
      enabled = enabled || (v != nullptr && v->Truthy());
    }
    if (enabled) job.distribution_instance_groups.push_back(job.current_instance_group);
    PyValue::List rendered;
    for (const auto& g : job.distribution_instance_groups) rendered.push_back(PyValue::String(g));
    job.distribution_instance_groups_value = PyValue::MakeList(std::move(rendered));
  }
  if (!job.instance_groups.empty()) {
    for (const InstanceGroup& g : job.instance_groups) {
      if (Contains(job.distribution_instance_groups, g.name)) {
        job.distribution_hosts.insert(job.distribution_hosts.end(), g.hosts.begin(), g.hosts.end());
      }
    }
  } else {
    job.distribution_hosts = job.hosts;  // SDK local mode: no instance groups
  }
  job.master_hostname = job.distribution_hosts.empty() ? job.hosts[0] : job.distribution_hosts[0];
  job.is_master = job.current_host == job.master_hostname;
  job.is_hetero = job.instance_groups.size() > 1;
  return Status::Ok();
}

void DeriveProgram(const EnvMap& env, JobConfig& job) {
  const PyValue* program = FindIn(job.toolkit_parameters, names::kProgramParam);
  auto program_env = env.find(names::kProgramEnv);
  std::string module;
  if (program_env != env.end()) {
    module = program_env->second;
  } else {
    module = program ? PythonStr(*program) : "None";
  }
  if (program_env != env.end() && !program_env->second.empty()) {
    job.user_entry_point = PyValue::String(program_env->second);
  } else {
    job.user_entry_point = program ? *program : PyValue::None();
  }
  if (EndsWith(module, ".py")) module.resize(module.size() - 3);
  job.module_name = module;

  const PyValue* submit = FindIn(job.toolkit_parameters, names::kSubmitDirParam);
  job.module_dir = submit ? PythonStr(*submit) : job.paths.code_dir;
  const PyValue* log_level = FindIn(job.toolkit_parameters, names::kLogLevelParam);
  job.log_level = log_level ? *log_level : PyValue::Int(names::kDefaultLogLevel);
}

void DeriveEnvironmentFacts(const EnvMap& env, JobConfig& job) {
  if (auto it = env.find(names::kTrainingModuleEnv); it != env.end()) job.framework_module = it->second;
  if (auto it = env.find(names::kTrainingJobNameEnv); it != env.end()) job.job_name = it->second;
  if (auto it = env.find(names::kMpParametersEnv); it == env.end()) {
    job.is_modelparallel_enabled = PyValue::None();
  } else if (it->second.empty()) {
    job.is_modelparallel_enabled = PyValue::String("");  // Python's `"" and ...` is ""
  } else {
    job.is_modelparallel_enabled = PyValue::Bool(it->second != "{}");
  }
  job.is_smddprun_installed = OnPath(env, "smddprun");
  job.is_smddpmprun_installed = OnPath(env, "smddpmprun");
  const PyValue* job_name = FindIn(job.toolkit_parameters, names::kJobNameParam);
  job.sagemaker_job_name = job_name ? PythonStr(*job_name) : "";
  const PyValue* region = FindIn(job.toolkit_parameters, names::kRegionParam);
  if (region != nullptr) {
    job.region = region->Truthy() ? PythonStr(*region) : "";
  } else {
    job.region = EnvOr(env, names::kAwsDefaultRegionEnv, "");  // boto3's default region
  }
}

}  // namespace

Result<JobConfig> JobConfig::Load(const EnvMap& env) { return Load(env, std::nullopt); }

Result<JobConfig> JobConfig::Load(const EnvMap& env, const std::optional<DeviceCounts>& devices) {
  JobConfig job;
  job.paths = ContainerPaths::FromEnv(env);
  const std::string rc_file = job.paths.ConfigFile(names::kResourceConfigFile);
  const std::string idc_file = job.paths.ConfigFile(names::kInputDataConfigFile);
  const std::string hp_file = job.paths.ConfigFile(names::kHyperparametersFile);
  TRAINRT_RETURN_IF_ERROR(LoadResourceConfig(rc_file, job));
  TRAINRT_RETURN_IF_ERROR(LoadInputDataConfig(idc_file, job));
  TRAINRT_RETURN_IF_ERROR(LoadHyperparameters(hp_file, job));
  auto checkpoint = LoadCheckpointConfig(job.paths);
  if (!checkpoint.ok()) return checkpoint.status();
  job.checkpoint = std::move(*checkpoint);
  TRAINRT_RETURN_IF_ERROR(DeriveDistribution(hp_file, job));
  DeriveProgram(env, job);
  DeriveEnvironmentFacts(env, job);
  if (devices) {
    job.devices = *devices;
  } else {
    auto counted = CountDevices(env, job.current_instance_type);
    if (!counted.ok()) return counted.status();
    job.devices = *counted;
  }
  return job;
}

bool JobConfig::DistributionEnabled() const { return Contains(distribution_instance_groups, current_instance_group); }

const PyValue* JobConfig::FrameworkParameter(const std::string& name) const { return FindIn(framework_parameters, name); }

Result<CheckpointConfig> LoadCheckpointConfig(const ContainerPaths& paths) {
  return ReadCheckpointConfig(paths.ConfigFile(names::kCheckpointConfigFile));
}

}  // namespace trainrt::runtime
