// trainrt-finetune: the built-in libtorch fine-tuner that `train` runs when a job names no program.
// Arguments are the job's hyperparameters (`--name value`); see trainer/finetune_args.h.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <c10/util/Exception.h>

#include "trainer/build_info.h"
#include "trainer/crash_handler.h"
#include "trainer/finetune_args.h"
#include "trainer/finetune_job.h"
#include "trainer/trainer_log.h"

namespace {

constexpr char kUsage[] =
    "usage: trainrt-finetune --model_name_or_path DIR [--name value ...]\n"
    "\n"
    "Fine-tunes a Hugging Face model (config.json, model.safetensors, tokenizer.json or vocab.txt) on the\n"
    "train channel and evaluates on the test channel, with Hugging Face Trainer's math and log lines, then\n"
    "writes a Hugging Face model to the model dir: BERT and DistilBERT for sequence classification;\n"
    "Llama, Mistral, Qwen2, Qwen3 and GPT-2 as causal LMs (supervised fine-tuning as TRL's SFTTrainer).\n"
    "`train` runs it with the job's hyperparameters when the job names no program.\n"
    "\n"
    "Arguments (Trainer's names and defaults; the seed script's spellings in parentheses):\n"
    "  --model_name_or_path (--model_name)   folder, model channel, or Hub name (cache, else downloaded:\n"
    "      HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE=1 never downloads); default SM_CHANNEL_MODEL\n"
    "  --num_train_epochs (--epochs) 3       --max_steps -1   --per_device_train_batch_size (--train_batch_size) 8\n"
    "  --per_device_eval_batch_size (--eval_batch_size) 8     --gradient_accumulation_steps 1\n"
    "  --learning_rate 5e-05  --warmup_steps 0  --warmup_ratio 0  --weight_decay 0  --max_grad_norm 1.0\n"
    "  --lr_scheduler_type linear|cosine|constant|constant_with_warmup\n"
    "  --adam_beta1 0.9  --adam_beta2 0.999  --adam_epsilon 1e-08  --seed 42\n"
    "  --max_length (--max_seq_length) 512 for classification, 1024 for causal LMs (SFTConfig's)\n"
    "  --task sequence-classification|causal-lm (default: the model family's)\n"
    "Causal LMs (TRL's SFT data, any file type under Data): a text column (--dataset_text_field text), prompt/completion\n"
    "  columns (--completion_only_loss True: the loss on the completions), or messages (conversations,\n"
    "  rendered with the model's chat template); EOS appended to plain text as TRL appends it\n"
    "  --assistant_only_loss False: conversations' loss on what the template's {% generation %} blocks write\n"
    "  --chat_template_path FILE.jinja: this chat template instead of the model's (exported with the model)\n"
    "  --packing False  --packing_strategy bfd|bfd_split|wrapped  --eval_packing (as packing): examples\n"
    "    share rows of max_length ids, positions restarting and attention kept inside each example\n"
    "  Unset, these take TRL SFTConfig's defaults: --learning_rate 2e-05 --logging_steps 10\n"
    "    --gradient_checkpointing True --bf16 True (unless --fp16 True)\n"
    "  --logging_steps 500  --logging_first_step False  --eval_strategy (--evaluation_strategy) no|steps|epoch\n"
    "  --eval_steps (logging_steps)  --bf16 False  --fp16 False  --group_by_length False\n"
    "  --gradient_checkpointing False: each layer's activations recomputed in backward (less memory)\n"
    "Checkpoints (checkpoint-<step>/ with a manifest; resumed exactly; SIGTERM/SIGINT checkpoints and exits 0):\n"
    "  --output_dir (checkpointconfig.json LocalPath, else $SAGEMAKER_BASE_DIR/checkpoints)\n"
    "  --save_strategy steps|epoch|no  --save_steps 500  --save_total_limit (keep all)\n"
    "  --resume_from_checkpoint auto|True|False|DIR (auto: the newest valid one, else a fresh start)\n"
    "  --load_best_model_at_end False  --metric_for_best_model (loss with load_best_model_at_end)\n"
    "  TRAINRT_STOP_DEADLINE_SECONDS 85: from SIGTERM to a forced exit\n"
    "  --stall_timeout (TRAINRT_STALL_SECONDS, 600; 0: never): a run without progress for that long, or 10x its\n"
    "    slowest step if longer, ends with its stack and 'stalled' in the failure\n"
    "Distributed (several ranks: data parallel; with partitions > 1: pipeline model parallel):\n"
    "  --mp_parameters partitions=2,microbatches=4,pipeline=interleaved|simple,placement_strategy=cluster|spread,\n"
    "    ddp=True (or SM_HP_MP_PARAMETERS; the same names as plain arguments win)\n"
    "  --ddp_timeout (TRAINRT_COLLECTIVE_TIMEOUT_SECONDS, 600): seconds before a hung collective ends the job\n"
    "  --model_dir (SM_MODEL_DIR)  --training_dir (SM_CHANNEL_TRAIN)  --test_dir (SM_CHANNEL_TEST)\n"
    "  --output_data_dir (SM_OUTPUT_DATA_DIR)  --text_column text  --text_pair_column  --label_column label\n"
    "  --num_labels (from the data)\n"
    "Data: .jsonl/.json, .csv, .tsv, .parquet, or a datasets save_to_disk folder (pre-tokenized too).\n"
    "Booleans are True or False. Unknown arguments are reported once and ignored.\n"
    "  --version   the libtorch build and the GPUs it sees\n"
    "Environment: TRAINRT_MALLOC_TUNING=0 keeps glibc's malloc defaults (by default big blocks stay in the heap).\n";

int Fail(const trainrt::runtime::EnvMap& env, const std::string& message) {
  trainrt::trainer::ReportFailure(env, message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  trainrt::trainer::InstallCrashHandlers();
  // glibc hands allocations above 32 MiB to mmap and unmaps them on free, so the tensors that are
  // made afresh every step (an embedding's dense gradient: 47 MB for BERT's vocabulary) would pay a
  // page fault per 4 KiB each time, about 20 ms a step on CPU. Keep big blocks in the heap for
  // reuse instead (TRAINRT_MALLOC_TUNING=0 keeps glibc's defaults).
  if (const char* tuning = std::getenv("TRAINRT_MALLOC_TUNING"); tuning == nullptr || std::strcmp(tuning, "0") != 0) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--version") {
      std::printf("trainrt-finetune 0.1.0 (%s)\n",
                  trainrt::trainer::DescribeBuildInfo(trainrt::trainer::QueryBuildInfo()).c_str());
      return 0;
    }
  }
  const auto env = trainrt::runtime::CurrentProcessEnv();
  auto parsed = trainrt::trainer::FinetuneArgs::Parse(args, env);
  if (!parsed.ok()) return Fail(env, parsed.status().ToString());
  try {
    auto status = trainrt::trainer::RunFinetune(*parsed, env);
    if (status.code() == trainrt::runtime::Status::Code::kCancelled) {  // a stop signal, honoured
      std::fprintf(stderr, "trainrt-finetune: %s\n", status.message().c_str());
      return 0;
    }
    if (!status.ok()) return Fail(env, status.ToString());
  } catch (const c10::Error& e) {
    return Fail(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Fail(env, e.what());
  }
  return 0;
}
