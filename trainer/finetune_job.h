// RunFinetune: the built-in fine-tuning job (trainer/job/): set up the model family, tokenizer,
// task and data on this rank's part of the topology, resume, run the step loop {batch, forward,
// backward, clip, step, schedule, log, eval, checkpoint}, then the final evaluation and the export
// to the model dir. Same math as Hugging Face's Trainer: AdamW without decay on biases and
// normalisation weights, linear warmup/decay with its step convention, global-norm clipping,
// epoch e visiting randperm(N) seeded seed + e.
#ifndef TRAINRT_TRAINER_FINETUNE_JOB_H_
#define TRAINRT_TRAINER_FINETUNE_JOB_H_

#include "runtime/process_env.h"
#include "runtime/status.h"
#include "trainer/finetune_args.h"

namespace trainrt::trainer {

// Cancelled when a stop signal ended the run after a checkpoint (the job then exits 0).
runtime::Status RunFinetune(const FinetuneArgs& args, const runtime::EnvMap& env);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_FINETUNE_JOB_H_
