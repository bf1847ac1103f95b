// Hugging Face's step counting: the learning-rate schedules of TrainingArguments'
// lr_scheduler_type (transformers' optimization.py lambdas, computed in the same order) and step
// settings that are ratios of the total when below 1 (warmup_steps, logging_steps, ...).
#ifndef TRAINRT_TRAINER_OPTIM_LR_SCHEDULE_H_
#define TRAINRT_TRAINER_OPTIM_LR_SCHEDULE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace trainrt::trainer {

// The learning-rate factor at 0-based optimizer step `step`: linear warmup, then linear decay to 0.
inline double LinearSchedule(int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<int64_t>(1, total - warmup)));
}

// lr_scheduler_type: linear (get_linear_schedule_with_warmup), cosine (half a cosine after the
// warmup), constant (no warmup), constant_with_warmup.
enum class LrSchedule { kLinear, kCosine, kConstant, kConstantWithWarmup };

// The schedule named `name`; false for a name transformers has but trainrt has not.
inline bool ParseLrSchedule(const std::string& name, LrSchedule& out) {
  if (name == "linear") return out = LrSchedule::kLinear, true;
  if (name == "cosine") return out = LrSchedule::kCosine, true;
  if (name == "constant") return out = LrSchedule::kConstant, true;
  if (name == "constant_with_warmup") return out = LrSchedule::kConstantWithWarmup, true;
  return false;
}

// The factor of the learning rate at 0-based optimizer step `step` of `total`, `warmup` of them warming up.
inline double ScheduleFactor(LrSchedule schedule, int64_t step, int64_t warmup, int64_t total) {
  if (schedule == LrSchedule::kConstant) return 1.0;
  if (schedule == LrSchedule::kLinear) return LinearSchedule(step, warmup, total);
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  if (schedule == LrSchedule::kConstantWithWarmup) return 1.0;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * 0.5 * 2.0 * progress)));  // num_cycles 0.5
}

// A step setting: values below 1 are a ratio of `total` (rounded up), others a step count.
inline int64_t StepsFor(double value, int64_t total) {
  return value < 1 ? static_cast<int64_t>(std::ceil(static_cast<double>(total) * value)) : static_cast<int64_t>(value);
}

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_OPTIM_LR_SCHEDULE_H_
