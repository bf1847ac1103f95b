#include "trainer/finetune_args.h"

#include <charconv>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "runtime/container_paths.h"
#include "runtime/contract_names.h"
#include "runtime/job_config.h"

namespace trainrt::trainer {
namespace {

using runtime::Result;
using runtime::Status;

using Setter = std::function<bool(const std::string&)>;

bool ParseDouble(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0';
}

bool ParseInt(const std::string& s, int64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc() && ptr == s.data() + s.size()) return true;
  double d;  // SageMaker may render an int hyperparameter as 3.0
  if (ParseDouble(s, d) && d == static_cast<double>(static_cast<int64_t>(d))) {
    out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

// Python's bool spellings as SageMaker passes them (str(True) -> "True"), plus lower case.
bool ParseBool(const std::string& s, bool& out) {
  if (s == "True" || s == "true" || s == "1") return out = true, true;
  if (s == "False" || s == "false" || s == "0") return out = false, true;
  return false;
}

// mp_parameters: "k=v,k=v" (SageMaker's argv rendering of a dict) or a JSON object (its
// SM_HP_MP_PARAMETERS). Keys this trainer does not use are reported in `ignored`.
Status ParseMpParameters(const std::string& text, const std::string& source, PipelineArgs& out,
                         std::vector<std::string>& ignored) {
  std::vector<std::pair<std::string, std::string>> items;
  const std::string t = text.substr(text.find_first_not_of(" \t\n") == std::string::npos ? 0 : text.find_first_not_of(" \t\n"));
  if (!t.empty() && t[0] == '{') {
    auto j = nlohmann::json::parse(t, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return Status::InvalidArgument(source + ": expected a JSON object, got '" + text + "'");
    for (const auto& [k, v] : j.items()) items.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  } else {
    size_t start = 0;
    while (start < t.size()) {
      const size_t comma = t.find(',', start);
      const std::string item = t.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      const size_t eq = item.find('=');
      if (eq == std::string::npos) return Status::InvalidArgument(source + ": '" + item + "' is not key=value");
      items.emplace_back(item.substr(0, eq), item.substr(eq + 1));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  for (const auto& [key, value] : items) {
    bool ok = true;
    if (key == "partitions" || key == "pipeline_parallel_degree") {
      ok = ParseInt(value, out.partitions) && out.partitions >= 1;
    } else if (key == "microbatches") {
      ok = ParseInt(value, out.microbatches) && out.microbatches >= 1;
    } else if (key == "pipeline") {
      out.pipeline = value;
      ok = value == "interleaved" || value == "simple";
    } else if (key == "placement_strategy") {
      out.placement_strategy = value;
      ok = value == "cluster" || value == "spread";
    } else if (key == "ddp") {
      ok = ParseBool(value, out.ddp);
    } else {
      ignored.push_back(source + " " + key + "=" + value);
    }
    if (!ok) {
      return Status::InvalidArgument(source + " " + key + "='" + value + "': expected " +
                                     (key == "pipeline" ? "interleaved or simple"
                                      : key == "placement_strategy" ? "cluster or spread"
                                      : key == "ddp" ? "True or False" : "a positive integer"));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<FinetuneArgs> FinetuneArgs::Parse(const std::vector<std::string>& argv, const runtime::EnvMap& env) {
  FinetuneArgs a;
  namespace names = runtime::names;
  a.model_dir = runtime::EnvOr(env, names::kModelDirEnv, names::kDefaultModelDir);
  a.training_dir = runtime::EnvOr(env, std::string(names::kChannelEnvPrefix) + "TRAIN", "");
  a.test_dir = runtime::EnvOr(env, std::string(names::kChannelEnvPrefix) + "TEST", "");
  a.output_data_dir = runtime::EnvOr(env, names::kOutputDataDirEnv, names::kDefaultOutputDataDir);
  a.model_name_or_path = runtime::EnvOr(env, std::string(names::kChannelEnvPrefix) + "MODEL", "");

  std::map<std::string, std::pair<const char*, Setter>> options;  // name -> (expected, setter)
  auto text = [&](std::string& field) { return std::make_pair("a value", Setter([&field](const std::string& v) { field = v; return true; })); };
  auto number = [&](double& field) { return std::make_pair("a number", Setter([&field](const std::string& v) { return ParseDouble(v, field); })); };
  auto integer = [&](int64_t& field) { return std::make_pair("an integer", Setter([&field](const std::string& v) { return ParseInt(v, field); })); };
  auto boolean = [&](bool& field) { return std::make_pair("True or False", Setter([&field](const std::string& v) { return ParseBool(v, field); })); };
  auto optional_boolean = [&](std::optional<bool>& field) {  // None: unset, the peer decides
    return std::make_pair("True, False or None", Setter([&field](const std::string& v) {
                            if (v == "None") return field.reset(), true;
                            bool b = false;
                            if (!ParseBool(v, b)) return false;
                            field = b;
                            return true;
                          }));
  };
  for (const char* n : {"model_name_or_path", "model_name"}) options[n] = text(a.model_name_or_path);
  for (const char* n : {"epochs", "num_train_epochs"}) options[n] = number(a.num_train_epochs);
  options["max_steps"] = integer(a.max_steps);
  for (const char* n : {"per_device_train_batch_size", "train_batch_size"}) options[n] = integer(a.per_device_train_batch_size);
  for (const char* n : {"per_device_eval_batch_size", "eval_batch_size"}) options[n] = integer(a.per_device_eval_batch_size);
  options["gradient_accumulation_steps"] = integer(a.gradient_accumulation_steps);
  options["learning_rate"] = number(a.learning_rate);
  options["weight_decay"] = number(a.weight_decay);
  options["adam_beta1"] = number(a.adam_beta1);
  options["adam_beta2"] = number(a.adam_beta2);
  options["adam_epsilon"] = number(a.adam_epsilon);
  options["max_grad_norm"] = number(a.max_grad_norm);
  options["warmup_steps"] = number(a.warmup_steps);
  options["warmup_ratio"] = number(a.warmup_ratio);
  options["lr_scheduler_type"] = text(a.lr_scheduler_type);
  options["logging_steps"] = number(a.logging_steps);
  options["logging_first_step"] = boolean(a.logging_first_step);
  for (const char* n : {"eval_strategy", "evaluation_strategy"}) options[n] = text(a.eval_strategy);
  options["eval_steps"] = number(a.eval_steps);
  options["save_strategy"] = text(a.save_strategy);
  options["save_steps"] = number(a.save_steps);
  options["save_total_limit"] = integer(a.save_total_limit);
  options["resume_from_checkpoint"] = text(a.resume_from_checkpoint);
  options["load_best_model_at_end"] = boolean(a.load_best_model_at_end);
  options["metric_for_best_model"] = text(a.metric_for_best_model);
  options["seed"] = integer(a.seed);
  options["ddp_timeout"] = integer(a.ddp_timeout);
  options["stall_timeout"] = integer(a.stall_timeout);
  // Pipeline parallelism: mp_parameters first (env, then argv), plain arguments after (they win).
  std::string mp_parameters;
  std::vector<std::pair<std::string, std::string>> pipeline_args;
  options["mp_parameters"] = text(mp_parameters);
  for (const char* n : {"partitions", "pipeline_parallel_degree", "microbatches", "pipeline", "placement_strategy", "ddp"}) {
    options[n] = std::make_pair("a value", Setter([&pipeline_args, n](const std::string& v) {
                                  pipeline_args.emplace_back(n, v);
                                  return true;
                                }));
  }
  for (const char* n : {"max_seq_length", "max_length"}) {
    options[n] = std::make_pair("an integer", Setter([&a](const std::string& v) {
                                  a.max_seq_length_given = true;
                                  return ParseInt(v, a.max_seq_length);
                                }));
  }
  options["task"] = text(a.task);
  options["dataset_text_field"] = text(a.dataset_text_field);
  options["completion_only_loss"] = optional_boolean(a.completion_only_loss);
  options["assistant_only_loss"] = boolean(a.assistant_only_loss);
  options["chat_template_path"] = text(a.chat_template_path);
  options["packing"] = boolean(a.packing);
  options["packing_strategy"] = text(a.packing_strategy);
  options["eval_packing"] = optional_boolean(a.eval_packing);
  options["bf16"] = boolean(a.bf16);
  options["fp16"] = boolean(a.fp16);
  options["gradient_checkpointing"] = boolean(a.gradient_checkpointing);
  options["group_by_length"] = boolean(a.group_by_length);
  options["output_dir"] = text(a.output_dir);
  for (const char* n : {"model_dir", "model-dir"}) options[n] = text(a.model_dir);
  options["training_dir"] = text(a.training_dir);
  options["test_dir"] = text(a.test_dir);
  options["output_data_dir"] = text(a.output_data_dir);
  options["text_column"] = text(a.text_column);
  options["text_pair_column"] = text(a.text_pair_column);
  options["label_column"] = text(a.label_column);
  options["num_labels"] = integer(a.num_labels);

  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.rfind("--", 0) != 0 && !(arg.size() == 2 && arg[0] == '-')) {
      a.ignored.push_back(arg);
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string value;
    bool inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inline_value = true;
    }
    auto it = options.find(name);
    if (it == options.end()) {
      a.ignored.push_back(arg);
      if (!inline_value && i + 1 < argv.size() && argv[i + 1].rfind("--", 0) != 0) ++i;  // its value
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) return Status::InvalidArgument("argument --" + name + ": expected " + it->second.first);
      value = argv[++i];
    }
    if (!it->second.second(value)) {
      return Status::InvalidArgument("argument --" + name + "='" + value + "': expected " + it->second.first);
    }
    a.given.insert(name);
  }
  auto in = [](const std::string& v, std::initializer_list<const char*> allowed) {
    for (const char* a : allowed) {
      if (v == a) return true;
    }
    return false;
  };
  if (a.model_name_or_path.empty()) {
    return Status::InvalidArgument("argument --model_name_or_path: required (a model folder, a channel, or a Hugging "
                                   "Face hub name present in the local cache)");
  }
  if (a.training_dir.empty()) return Status::InvalidArgument("argument --training_dir: required (or SM_CHANNEL_TRAIN)");
  if (!in(a.eval_strategy, {"no", "steps", "epoch"})) {
    return Status::InvalidArgument("argument --eval_strategy='" + a.eval_strategy + "': expected no, steps or epoch");
  }
  if (!in(a.save_strategy, {"no", "steps", "epoch"})) {
    return Status::InvalidArgument("argument --save_strategy='" + a.save_strategy + "': expected no, steps or epoch");
  }
  if (a.per_device_train_batch_size < 1 || a.per_device_eval_batch_size < 1 || a.gradient_accumulation_steps < 1) {
    return Status::InvalidArgument("batch sizes and --gradient_accumulation_steps must be at least 1");
  }
  if (a.learning_rate < 0 || a.num_train_epochs <= 0 || a.max_seq_length < 2 || a.logging_steps <= 0) {
    return Status::InvalidArgument("arguments out of range: learning_rate >= 0, epochs > 0, max_seq_length >= 2, "
                                   "logging_steps > 0 expected");
  }
  if (a.bf16 && a.fp16) return Status::InvalidArgument("arguments --bf16 and --fp16: choose one");
  if (!ParseLrSchedule(a.lr_scheduler_type, a.lr_schedule)) {
    return Status::InvalidArgument("argument --lr_scheduler_type='" + a.lr_scheduler_type +
                                   "': expected linear, cosine, constant or constant_with_warmup");
  }
  if (!ParsePackingStrategy(a.packing_strategy, a.packing_strategy_parsed)) {
    return Status::InvalidArgument("argument --packing_strategy='" + a.packing_strategy +
                                   "': expected bfd, bfd_split or wrapped");
  }
  if (const std::string env_mp = runtime::EnvOr(env, runtime::names::kMpParametersEnv, ""); !env_mp.empty() && mp_parameters.empty()) {
    TRAINRT_RETURN_IF_ERROR(ParseMpParameters(env_mp, runtime::names::kMpParametersEnv, a.pipeline, a.ignored));
  }
  if (!mp_parameters.empty()) TRAINRT_RETURN_IF_ERROR(ParseMpParameters(mp_parameters, "--mp_parameters", a.pipeline, a.ignored));
  for (const auto& [name, value] : pipeline_args) {
    TRAINRT_RETURN_IF_ERROR(ParseMpParameters(name + "=" + value, "argument", a.pipeline, a.ignored));
  }
  if (a.pipeline.enabled() && a.fp16) {
    return Status::InvalidArgument("arguments --fp16 True with pipeline parallelism: not supported (use --bf16 True)");
  }
  if (a.ddp_timeout < 0) return Status::InvalidArgument("argument --ddp_timeout: expected seconds >= 1");
  if (a.stall_timeout < -1 || a.stall_timeout > 86400 * 30) {
    return Status::InvalidArgument("argument --stall_timeout: expected seconds from 0 (never) to 2592000 (30 days)");
  }
  if (a.save_steps <= 0) return Status::InvalidArgument("argument --save_steps: expected a number > 0");
  auto collective_timeout =
      runtime::EnvInt(env, "TRAINRT_COLLECTIVE_TIMEOUT_SECONDS", 600, 1, 86400, "seconds from 1 to 86400");
  if (!collective_timeout.ok()) return collective_timeout.status();
  a.collective_timeout = a.ddp_timeout > 0 ? a.ddp_timeout : *collective_timeout;
  if (a.stall_timeout < 0) {
    auto stall = runtime::EnvInt(env, "TRAINRT_STALL_SECONDS", 600, 0, 86400 * 30, "seconds (0: never)");
    if (!stall.ok()) return stall.status();
    a.stall_timeout = *stall;
  }
  // From SIGTERM to a forced exit: inside the launcher's 90 s grace and SageMaker's 120 s.
  auto stop_deadline = runtime::EnvInt(env, "TRAINRT_STOP_DEADLINE_SECONDS", 85, 1, 3600, "seconds from 1 to 3600");
  if (!stop_deadline.ok()) return stop_deadline.status();
  a.stop_deadline = *stop_deadline;
  if (const std::string progress = runtime::EnvOr(env, "TRAINRT_PROGRESS_SECONDS", ""); !progress.empty()) {
    if (!ParseDouble(progress, a.progress_seconds) || !(a.progress_seconds > 0)) {
      return Status::InvalidArgument("TRAINRT_PROGRESS_SECONDS='" + progress + "': expected seconds > 0");
    }
  }
  if (a.load_best_model_at_end) {
    if (a.eval_strategy == "no" || a.save_strategy != a.eval_strategy) {
      return Status::InvalidArgument("argument --load_best_model_at_end=True: needs --eval_strategy steps or epoch, "
                                     "the same as --save_strategy (got eval '" + a.eval_strategy + "', save '" +
                                     a.save_strategy + "')");
    }
    if (a.metric_for_best_model.empty()) a.metric_for_best_model = "loss";
  }
  // Checkpoints go where SageMaker syncs them with S3, never into the model dir (they would bloat
  // model.tar.gz, and the seed's notebooks did exactly that).
  const runtime::ContainerPaths paths = runtime::ContainerPaths::FromEnv(env);
  std::string default_checkpoints = runtime::JoinPath(paths.base_dir, "checkpoints");
  auto checkpoint_config = runtime::LoadCheckpointConfig(paths);
  if (!checkpoint_config.ok()) return checkpoint_config.status();
  if (checkpoint_config->present) default_checkpoints = checkpoint_config->local_path;
  auto inside = [](const std::string& path, const std::string& dir) {
    auto trim = [](std::string p) {
      while (p.size() > 1 && p.back() == '/') p.pop_back();
      return p;
    };
    const std::string p = trim(path), d = trim(dir);
    return p == d || p.rfind(d + "/", 0) == 0;
  };
  // Scripts name container paths ("--output_dir /opt/ml/checkpoints"); where /opt/ml is moved
  // (SAGEMAKER_BASE_DIR: local runs, tests) they mean the moved tree, and /opt/ml/checkpoints means
  // the checkpoint folder SageMaker syncs, which is the checkpoint config's LocalPath.
  if (paths.base_dir != runtime::names::kDefaultBaseDir) {
    const std::string container = runtime::names::kDefaultBaseDir;
    for (std::string* p : {&a.output_dir, &a.model_dir, &a.training_dir, &a.test_dir, &a.output_data_dir,
                           &a.model_name_or_path}) {
      if (*p == runtime::names::kDefaultCheckpointDir) {
        *p = default_checkpoints;
      } else if (*p == container || p->rfind(container + "/", 0) == 0) {
        *p = paths.base_dir + p->substr(container.size());
      }
    }
  }
  if (a.output_dir.empty()) {
    a.output_dir = default_checkpoints;
  } else if (inside(a.output_dir, a.model_dir)) {
    a.warnings.push_back("--output_dir " + a.output_dir + " is inside the model dir " + a.model_dir +
                         ": checkpoints go to " + default_checkpoints + " instead (they would end up in model.tar.gz)");
    a.output_dir = default_checkpoints;
  }
  return a;
}

std::vector<std::string> FinetuneArgs::ApplySftConfigDefaults() {
  std::vector<std::string> set;
  auto unless_given = [&](const char* name, auto& field, auto value, const std::string& shown) {
    if (given.count(name) != 0) return;
    field = value;
    set.push_back(std::string(name) + "=" + shown);
  };
  unless_given("learning_rate", learning_rate, 2e-5, "2e-05");
  unless_given("logging_steps", logging_steps, 10.0, "10");
  unless_given("gradient_checkpointing", gradient_checkpointing, true, "True");
  if (!fp16) unless_given("bf16", bf16, true, "True");
  return set;
}

}  // namespace trainrt::trainer
