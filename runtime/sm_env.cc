#include "runtime/sm_env.h"

#include <algorithm>

#include <utf8proc.h>

#include "runtime/cmd_args.h"
#include "runtime/contract_names.h"
#include "runtime/utf8.h"

namespace trainrt::runtime {
namespace {

PyValue Str(const std::string& s) { return PyValue::String(s); }

PyValue StrList(const std::vector<std::string>& items) {
  PyValue::List list;
  for (const auto& s : items) list.push_back(Str(s));
  return PyValue::MakeList(std::move(list));
}

PyValue OptStr(const std::optional<std::string>& s) { return s ? Str(*s) : PyValue::None(); }

PyValue InstanceGroupsDict(const JobConfig& job) {
  PyValue d = PyValue::MakeDict({});
  for (const InstanceGroup& g : job.instance_groups) d.Set(g.name, g.raw);
  return d;
}

PyValue CurrentGroupHosts(const JobConfig& job) {
  for (const InstanceGroup& g : job.instance_groups) {
    if (g.name == job.current_instance_group) return StrList(g.hosts);
  }
  return PyValue::MakeList({});
}

PyValue ChannelDirs(const JobConfig& job) {
  PyValue d = PyValue::MakeDict({});
  for (const auto& c : job.channels) d.Set(c, Str(job.paths.ChannelDir(c)));
  return d;
}

std::vector<std::string> GroupNames(const JobConfig& job) {
  std::vector<std::string> names;
  for (const InstanceGroup& g : job.instance_groups) names.push_back(g.name);
  return names;
}

// mapping.to_env_vars' value rule: strings raw, None empty, anything else compact sorted JSON.
std::string EnvValue(const PyValue& v) {
  if (v.is_string()) return v.string_value();
  if (v.is_none()) return "";
  return PythonJsonDumps(v, /*sort_keys=*/true);
}

void SetOrdered(EnvList& list, const std::string& name, std::string value) {
  for (auto& [k, v] : list) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  list.emplace_back(name, std::move(value));
}

}  // namespace

std::string PythonUpper(const std::string& s) {
  std::string out;
  for (const char32_t c : DecodeUtf8(s)) {
    AppendUtf8(out, static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))));
  }
  return out;
}

PyValue TrainingEnvDict(const JobConfig& job) {
  const ContainerPaths& p = job.paths;
  PyValue::Dict d = {
      {"additional_framework_parameters", PyValue::MakeDict(job.framework_parameters)},
      {"channel_input_dirs", ChannelDirs(job)},
      {"current_host", Str(job.current_host)},
      {"current_instance_group", Str(job.current_instance_group)},
      {"current_instance_group_hosts", CurrentGroupHosts(job)},
      {"current_instance_type", Str(job.current_instance_type)},
      {"distribution_hosts", StrList(job.distribution_hosts)},
      {"distribution_instance_groups", job.distribution_instance_groups_value},
      {"framework_module", OptStr(job.framework_module)},
      {"hosts", StrList(job.hosts)},
      {"hyperparameters", PyValue::MakeDict(job.hyperparameters)},
      {"input_config_dir", Str(p.input_config_dir)},
      {"input_data_config", job.input_data_config},
      {"input_dir", Str(p.input_dir)},
      {"instance_groups", StrList(GroupNames(job))},
      {"instance_groups_dict", InstanceGroupsDict(job)},
      {"is_hetero", PyValue::Bool(job.is_hetero)},
      {"is_master", PyValue::Bool(job.is_master)},
      {"is_modelparallel_enabled", job.is_modelparallel_enabled},
      {"is_smddpmprun_installed", PyValue::Bool(job.is_smddpmprun_installed)},
      {"is_smddprun_installed", PyValue::Bool(job.is_smddprun_installed)},
      {"job_name", OptStr(job.job_name)},
      {"log_level", job.log_level},
      {"master_hostname", Str(job.master_hostname)},
      {"model_dir", Str(p.model_dir)},
      {"module_dir", Str(job.module_dir)},
      {"module_name", Str(job.module_name)},
      {"network_interface_name", Str(job.network_interface_name)},
      {"num_cpus", PyValue::Int(job.devices.num_cpus)},
      {"num_gpus", PyValue::Int(job.devices.num_gpus)},
      {"num_neurons", PyValue::Int(job.devices.num_neurons)},
      {"output_data_dir", Str(p.output_data_dir)},
      {"output_dir", Str(p.output_dir)},
      {"output_intermediate_dir", Str(p.output_intermediate_dir)},
      {"resource_config", job.resource_config},
      {"topology", job.topology},
      {"user_entry_point", job.user_entry_point},
  };
  return PyValue::MakeDict(std::move(d));
}

EnvList SmEnvironment(const JobConfig& job) {
  const ContainerPaths& p = job.paths;
  std::vector<std::string> sorted_channels = job.channels;
  std::sort(sorted_channels.begin(), sorted_channels.end());
  PyValue::List user_args;
  for (auto& a : ToCmdArgs(job.hyperparameters)) user_args.push_back(Str(a));

  // Built first as the toolkit's lower-case dict (later keys replace earlier ones in place)...
  PyValue env = PyValue::MakeDict({});
  env.Set("hosts", StrList(job.hosts));
  env.Set("network_interface_name", Str(job.network_interface_name));
  env.Set("hps", PyValue::MakeDict(job.hyperparameters));
  env.Set("user_entry_point", job.user_entry_point);
  env.Set("framework_params", PyValue::MakeDict(job.framework_parameters));
  env.Set("resource_config", job.resource_config);
  env.Set("input_data_config", job.input_data_config);
  env.Set("output_data_dir", Str(p.output_data_dir));
  env.Set("channels", StrList(sorted_channels));
  env.Set("current_host", Str(job.current_host));
  env.Set("current_instance_type", Str(job.current_instance_type));
  env.Set("current_instance_group", Str(job.current_instance_group));
  env.Set("current_instance_group_hosts", CurrentGroupHosts(job));
  env.Set("instance_groups", StrList(GroupNames(job)));
  env.Set("instance_groups_dict", InstanceGroupsDict(job));
  env.Set("distribution_instance_groups", job.distribution_instance_groups_value);
  env.Set("is_hetero", PyValue::Bool(job.is_hetero));
  env.Set("module_name", Str(job.module_name));
  env.Set("log_level", job.log_level);
  env.Set("framework_module", OptStr(job.framework_module));
  env.Set("input_dir", Str(p.input_dir));
  env.Set("input_config_dir", Str(p.input_config_dir));
  env.Set("output_dir", Str(p.output_dir));
  env.Set("num_cpus", PyValue::Int(job.devices.num_cpus));
  env.Set("num_gpus", PyValue::Int(job.devices.num_gpus));
  env.Set("num_neurons", PyValue::Int(job.devices.num_neurons));
  env.Set("model_dir", Str(p.model_dir));
  env.Set("module_dir", Str(job.module_dir));
  env.Set("training_env", TrainingEnvDict(job));
  env.Set("user_args", PyValue::MakeList(std::move(user_args)));
  env.Set("output_intermediate_dir", Str(p.output_intermediate_dir));
  if (job.topology.Truthy()) env.Set("topology", job.topology);
  for (const auto& c : job.channels) env.Set("channel_" + c, Str(p.ChannelDir(c)));
  for (const auto& [k, v] : job.hyperparameters) env.Set("hp_" + k, v);

  // ...then mapped to SM_<KEY> names, where colliding names again keep the first position.
  EnvList out;
  for (const auto& [key, value] : env.dict()) {
    SetOrdered(out, key.empty() ? "" : names::kSmPrefix + PythonUpper(key), EnvValue(value));
  }
  return out;
}

EnvList ProgramEnvironment(const JobConfig& job, const EnvMap& inherited) {
  EnvList out = SmEnvironment(job);
  const std::string inherited_path = EnvOr(inherited, names::kPythonPathEnv, "");
  SetOrdered(out, names::kPythonPathEnv,
             inherited_path.empty() ? job.paths.code_dir : job.paths.code_dir + ":" + inherited_path);
  SetOrdered(out, names::kJobNameEnv, job.sagemaker_job_name);
  SetOrdered(out, names::kRegionEnv, job.region);
  SetOrdered(out, names::kCurrentHostEnv, job.current_host);
  // The PyTorch toolkit's training.py sets these before every launch.
  SetOrdered(out, names::kNcclSocketIfnameEnv, job.network_interface_name);
  SetOrdered(out, names::kNcclIbDisableEnv, "1");
  SetOrdered(out, names::kNcclDebugEnv, EnvOr(inherited, names::kNcclDebugEnv, "WARN"));
  SetOrdered(out, names::kMasterAddrEnv, job.master_hostname);
  SetOrdered(out, names::kMasterPortEnv, names::kDefaultMasterPort);
  return out;
}

}  // namespace trainrt::runtime
