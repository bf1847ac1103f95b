#include "trainer/checkpoint/training_progress.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/core/Generator.h>

#include "trainer/checkpoint/checkpoint_folder.h"

namespace trainrt::trainer {

using runtime::Result;
using runtime::Status;

nlohmann::json DataLayout::ToJson() const {
  return {{"architecture", architecture}, {"labels", labels}, {"world_size", world_size},
          {"pipeline_partitions", pipeline_partitions},
          {"per_device_train_batch_size", per_device_train_batch_size},
          {"gradient_accumulation_steps", gradient_accumulation_steps}, {"seed", seed},
          {"num_train_examples", num_train_examples}, {"group_by_length", group_by_length}};
}

nlohmann::json TrainrtState(const Progress& p, const DataLayout& layout) {
  return {{"format", "trainrt training state 1"}, {"global_step", p.global_step},
          {"scheduler_step", p.scheduler_step}, {"epoch", p.epoch}, {"next_batch", p.next_batch},
          {"last_logged_step", p.last_logged_step}, {"total_loss", p.total_loss},
          {"epoch_progress", p.epoch_progress}, {"total_flos", p.total_flos}, {"layout", layout.ToJson()}};
}

nlohmann::json TrainerState(const Progress& p, const FinetuneArgs& args, const StepSettings& steps) {
  const int64_t max_steps = steps.max_steps, num_epochs = steps.num_epochs, logging_steps = steps.logging_steps,
                eval_steps = steps.eval_steps, save_steps = steps.save_steps;
  auto or_null = [](bool has, auto value) { return has ? nlohmann::json(value) : nlohmann::json(nullptr); };
  return {{"best_global_step", or_null(p.best_global_step >= 0, p.best_global_step)},
          {"best_metric", or_null(p.best_metric.has_value(), p.best_metric.value_or(0.0))},
          {"best_model_checkpoint", or_null(!p.best_model_checkpoint.empty(), p.best_model_checkpoint)},
          {"epoch", p.epoch_progress}, {"eval_steps", eval_steps}, {"global_step", p.global_step},
          {"is_hyper_param_search", false}, {"is_local_process_zero", true}, {"is_world_process_zero", true},
          {"log_history", p.log_history}, {"logging_steps", logging_steps}, {"max_steps", max_steps},
          {"num_input_tokens_seen", 0}, {"num_train_epochs", num_epochs}, {"save_steps", save_steps},
          {"stateful_callbacks", {{"TrainerControl", {{"args", {{"should_epoch_stop", false}, {"should_evaluate", false},
                                                                {"should_log", false}, {"should_save", true},
                                                                {"should_training_stop", false}}},
                                                      {"attributes", nlohmann::json::object()}}}}},
          {"total_flos", p.total_flos}, {"train_batch_size", args.per_device_train_batch_size},
          {"trial_name", nullptr}, {"trial_params", nullptr}};
}

Status RestoreProgress(const nlohmann::json& s, const nlohmann::json& t, const std::string& path,
                       const DataLayout& layout, Progress& p) {
  try {
    const nlohmann::json expected = layout.ToJson();
    for (const auto& [key, value] : expected.items()) {
      if (!s.at("layout").contains(key) || s["layout"][key] != value) {
        return Status::InvalidArgument(path + " was written with " + key + " " + s["layout"].value(key, nlohmann::json()).dump() +
                                       ", this run has " + value.dump() +
                                       ": resume with the same settings, or pass --resume_from_checkpoint False");
      }
    }
    p.global_step = s.at("global_step").get<int64_t>();
    p.scheduler_step = s.at("scheduler_step").get<int64_t>();
    p.epoch = s.at("epoch").get<int64_t>();
    p.next_batch = s.at("next_batch").get<int64_t>();
    p.last_logged_step = s.at("last_logged_step").get<int64_t>();
    p.total_loss = s.at("total_loss").get<double>();
    p.epoch_progress = s.at("epoch_progress").get<double>();
    p.total_flos = s.at("total_flos").get<double>();
    p.log_history = t.at("log_history");
    if (!t.at("best_metric").is_null()) p.best_metric = t["best_metric"].get<double>();
    if (!t.at("best_global_step").is_null()) p.best_global_step = t["best_global_step"].get<int64_t>();
    if (!t.at("best_model_checkpoint").is_null()) p.best_model_checkpoint = t["best_model_checkpoint"].get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(path + "/trainrt_state.json or trainer_state.json: " + e.what());
  }
  return Status::Ok();
}

void SaveRngState(const c10::Device& device, TensorMap& out) {
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  out["rng.cpu"] = cpu.get_state();
  if (device.is_cuda()) {
    at::Generator gpu = at::globalContext().defaultGenerator(device);
    out["rng.cuda"] = gpu.get_state();
  }
}

Status RestoreRngState(const c10::Device& device, const TensorMap& state) {
  auto cpu = state.find("rng.cpu");
  if (cpu == state.end()) return Status::NotFound("rank state: rng.cpu missing");
  at::Generator cpu_gen = at::detail::getDefaultCPUGenerator();
  cpu_gen.set_state(cpu->second);
  if (device.is_cuda()) {
    auto cuda = state.find("rng.cuda");
    at::Generator gpu_gen = at::globalContext().defaultGenerator(device);
    if (cuda != state.end()) gpu_gen.set_state(cuda->second);
  }
  return Status::Ok();
}

std::string AgeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "?";
  const long long seconds = std::max<long long>(0, static_cast<long long>(::time(nullptr) - st.st_mtime));
  char out[64];
  if (seconds >= 3600) {
    std::snprintf(out, sizeof out, "%lldh%02lldm", seconds / 3600, seconds / 60 % 60);
  } else {
    std::snprintf(out, sizeof out, "%lldm%02llds", seconds / 60, seconds % 60);
  }
  return out;
}

Result<std::string> ChooseCheckpoint(const FinetuneArgs& args) {
  const std::string& r = args.resume_from_checkpoint;
  if (r == "False" || r == "false" || r == "no" || r == "none" || r == "None" || r.empty()) return std::string();
  RemoveStagingFolders(args.output_dir);
  if (r == "auto" || r == "True" || r == "true") {
    std::string found = NewestValidCheckpoint(args.output_dir);
    if (found.empty() && r != "auto") {
      return Status::NotFound("--resume_from_checkpoint True: no valid checkpoint in " + args.output_dir);
    }
    return found;
  }
  Status s = VerifyCheckpoint(r);
  if (!s.ok()) return s.WithContext("--resume_from_checkpoint");
  return r;
}

}  // namespace trainrt::trainer
