// Hugging Face's step counting: the linear warmup/decay schedule (get_linear_schedule_with_warmup)
// and step settings that are ratios of the total when below 1 (warmup_steps, logging_steps, ...).
#ifndef TRAINRT_TRAINER_OPTIM_LR_SCHEDULE_H_
#define TRAINRT_TRAINER_OPTIM_LR_SCHEDULE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace trainrt::trainer {

// The learning-rate factor at 0-based optimizer step `step`: linear warmup, then linear decay to 0.
inline double LinearSchedule(int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<int64_t>(1, total - warmup)));
}

// A step setting: values below 1 are a ratio of `total` (rounded up), others a step count.
inline int64_t StepsFor(double value, int64_t total) {
  return value < 1 ? static_cast<int64_t>(std::ceil(static_cast<double>(total) * value)) : static_cast<int64_t>(value);
}

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_OPTIM_LR_SCHEDULE_H_
