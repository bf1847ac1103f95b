// RunFinetune: the built-in fine-tuning job, read top to bottom in train_loop.cc's FinetuneJob:
// prepare (model, tokenizer, data, ranks, stages, optimizer), resume, the loop {batch, forward,
// backward, clip, step, schedule, log, eval, checkpoint}, then the final evaluation and the export
// to the model dir. Same math as Hugging Face's Trainer: AdamW without decay on biases and
// LayerNorm weights, linear warmup/decay with its step convention, global-norm clipping, epoch e
// visiting randperm(N) seeded seed + e.
#ifndef TRAINRT_TRAINER_TRAIN_LOOP_H_
#define TRAINRT_TRAINER_TRAIN_LOOP_H_

#include "runtime/process_env.h"
#include "runtime/status.h"
#include "trainer/finetune_args.h"

namespace trainrt::trainer {

runtime::Status RunFinetune(const FinetuneArgs& args, const runtime::EnvMap& env);

// The model folder for --model_name_or_path: a folder with config.json, the model channel
// (SM_CHANNEL_MODEL), a Hugging Face hub cache snapshot ($HF_HUB_CACHE, $HF_HOME/hub,
// ~/.cache/huggingface/hub), or else a Hub repository downloaded into that cache (HF_ENDPOINT,
// HF_TOKEN; never with HF_HUB_OFFLINE=1).
runtime::Result<std::string> ResolveModelPath(const std::string& name, const runtime::EnvMap& env);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TRAIN_LOOP_H_
