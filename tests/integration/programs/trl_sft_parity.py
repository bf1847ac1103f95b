"""Loss parity with TRL's SFTTrainer: a tiny random decoder LM (Llama or Qwen3 architecture) with a
byte-level BPE tokenizer trained by `tokenizers` (Llama 3's layout: BOS added, EOS appended as TRL
appends it), the same weights, data, batch and hyperparameters on CPU, dropout 0. The loss,
learning rate and grad norm at every logged step must agree to float tolerance; so must the
eval loss, and the exported folder loads in transformers, evaluates to ours, and trainrt-generate's
greedy generation from it equals transformers' generate.

Packed (bfd, bfd_split, wrapped: TRL's packing, rows of max_length, positions restarting per example)
and conversational data (`messages`, rendered with a real model's chat template that llama.cpp ships:
Llama 3.2's for llama, Qwen3's for qwen3) are covered too.

usage: trl_sft_parity.py TRAINRT_FINETUNE SOURCE_DIR WORK_DIR [llama|qwen3|llama2|mistral]
                         [text|prompt_completion|messages|assistant] [GRAD_ACCUMULATION] [no|bfd|bfd_split|wrapped] [gc]

`llama2` and `mistral` are a Llama and a Mistral with SentencePiece-style BPE tokenizers (Llama 2's
legacy Prepend/Replace layout and Mistral's Metaspace layout, both with byte fallback).
`assistant` is `messages` with assistant_only_loss, through the training version of the family's
chat template that TRL ships (trl/chat_templates/*_training.jinja, with {% generation %} blocks),
given to both as chat_template_path; the export must carry it as chat_template.jinja.

With `gc`, both sides use gradient checkpointing, trainrt by SFTConfig's default (the argument is
not passed), TRL by gradient_checkpointing=True; otherwise both train without it.
"""
import json
import os
import random
import shutil
import subprocess
import sys

import torch
from datasets import Dataset
from transformers import (AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, MistralConfig,
                          MistralForCausalLM, Qwen3Config, Qwen3ForCausalLM)
from trl import SFTConfig, SFTTrainer

finetune, src, work = sys.argv[1:4]
family = sys.argv[4] if len(sys.argv) > 4 else "llama"
data_format = sys.argv[5] if len(sys.argv) > 5 else "text"
ga = int(sys.argv[6]) if len(sys.argv) > 6 else 1
packing = sys.argv[7] if len(sys.argv) > 7 else "no"
checkpointing = len(sys.argv) > 8 and sys.argv[8] == "gc"
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)

# The tokenizer: Llama 3's layout, trained by tokenizers' own trainer (scripts/tokenizer).
toks = os.path.join(work, "toks")
subprocess.run([sys.executable, os.path.join(src, "scripts/tokenizer/make_bpe_tokenizers.py"), toks], check=True)
init = os.path.join(work, "init")
os.makedirs(init)
layout = {"llama2": "llama2", "mistral": "mistral"}.get(family, "llama3")
for name in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(os.path.join(toks, layout, name), init)
tok = AutoTokenizer.from_pretrained(init)
assistant = data_format == "assistant"
if assistant:
    data_format = "messages"
    import trl
    training_template = os.path.join(os.path.dirname(trl.__file__), "chat_templates",
                                     "qwen3_training.jinja" if family == "qwen3" else "llama3_training.jinja")
if data_format == "messages":
    # A real chat template, with the special tokens it writes added to the trained vocabulary.
    templates = os.path.join(src, ".third_party", "llama-jinja", "templates")
    if family == "qwen3":
        template = "Qwen-Qwen3-0.6B.jinja"
        tok.add_tokens(["<|im_start|>", "<|im_end|>"], special_tokens=True)
        tok.add_tokens(["<think>", "</think>"])  # added, not special, as in Qwen3's tokenizer
    else:
        template = "meta-llama-Llama-3.2-3B-Instruct.jinja"
        tok.add_tokens(["<|start_header_id|>", "<|end_header_id|>"], special_tokens=True)
    with open(os.path.join(templates, template), encoding="utf-8") as f:
        tok.chat_template = f.read()
    tok.save_pretrained(init)
    tok = AutoTokenizer.from_pretrained(init)

torch.manual_seed(0)
common = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=256, bos_token_id=tok.bos_token_id,
              eos_token_id=tok.eos_token_id, attention_dropout=0.0)
if family == "qwen3":
    model = Qwen3ForCausalLM(Qwen3Config(**common, head_dim=8, tie_word_embeddings=True))
elif family == "mistral":
    model = MistralForCausalLM(MistralConfig(**common, sliding_window=None, tie_word_embeddings=False))
else:
    model = LlamaForCausalLM(LlamaConfig(**common, tie_word_embeddings=False))
model.save_pretrained(init)

rng = random.Random(7)
words = "the a cat dog sat ran on under mat tree quickly slowly big small red blue 12 345 , . ! ?".split()
def sentence(n):
    return " ".join(rng.choice(words) for _ in range(n))
if data_format == "prompt_completion":
    rows = [{"prompt": "Q: " + sentence(rng.randint(2, 8)) + "\nA:", "completion": " " + sentence(rng.randint(1, 10))}
            for _ in range(40)]
elif data_format == "messages":
    def conversation():
        turns = [{"role": "system", "content": sentence(rng.randint(1, 4))}] if rng.random() < 0.3 else []
        for _ in range(rng.randint(1, 2)):
            turns += [{"role": "user", "content": sentence(rng.randint(2, 8)) + "?"},
                      {"role": "assistant", "content": sentence(rng.randint(1, 10)) + "."}]
        return {"messages": turns}
    rows = [conversation() for _ in range(40)]
else:
    rows = [{"text": sentence(rng.randint(3, 30))} for _ in range(40)]
eval_rows = rows[:8]
for split, items in (("train", rows), ("test", eval_rows)):
    os.makedirs(os.path.join(work, "data", split))
    with open(os.path.join(work, "data", split, "data.jsonl"), "w") as f:
        for r in items:
            f.write(json.dumps(r) + "\n")

hp = dict(epochs=2, batch=4, lr=1e-3, warmup=3, wd=0.01, seed=42, max_length=128 if data_format == "messages" else 64 if packing != "no" else 24)
packing_args = dict(packing=True, packing_strategy=packing) if packing != "no" else {}

# TRL's SFTTrainer.
args = SFTConfig(output_dir=os.path.join(work, "trl"), num_train_epochs=hp["epochs"],
                 per_device_train_batch_size=hp["batch"], per_device_eval_batch_size=hp["batch"],
                 gradient_accumulation_steps=ga, learning_rate=hp["lr"], warmup_steps=hp["warmup"],
                 weight_decay=hp["wd"], logging_steps=1, seed=hp["seed"], save_strategy="no", report_to="none",
                 disable_tqdm=True, max_length=hp["max_length"], use_cpu=True, bf16=False,  # SFTConfig defaults to bf16
                 gradient_checkpointing=checkpointing, **packing_args,
                 **(dict(assistant_only_loss=True, chat_template_path=training_template) if assistant else {}))
trainer = SFTTrainer(model=type(model).from_pretrained(init), args=args, train_dataset=Dataset.from_list(rows),
                     eval_dataset=Dataset.from_list(eval_rows), processing_class=tok)
trainer.train()
theirs = [h for h in trainer.state.log_history if "loss" in h]
their_eval = trainer.evaluate()["eval_loss"]

# trainrt-finetune.
out = os.path.join(work, "ours")
p = subprocess.run([finetune, "--model_name_or_path", init, "--epochs", str(hp["epochs"]), "--train_batch_size",
                    str(hp["batch"]), "--eval_batch_size", str(hp["batch"]), "--learning_rate", str(hp["lr"]),
                    "--warmup_steps", str(hp["warmup"]), "--weight_decay", str(hp["wd"]), "--logging_steps", "1",
                    "--gradient_accumulation_steps", str(ga), "--seed", str(hp["seed"]),
                    "--max_length", str(hp["max_length"]), "--training_dir", os.path.join(work, "data", "train"),
                    "--test_dir", os.path.join(work, "data", "test"), "--model_dir", os.path.join(out, "model"),
                    "--output_data_dir", out, "--save_strategy", "no", "--resume_from_checkpoint", "False",
                    "--output_dir", os.path.join(out, "checkpoints")]
                   + (["--packing", "True", "--packing_strategy", packing] if packing != "no" else [])
                   + ["--bf16", "False"] + ([] if checkpointing else ["--gradient_checkpointing", "False"])
                   + (["--assistant_only_loss", "True", "--chat_template_path", training_template] if assistant else []),
                   capture_output=True, text=True)
assert p.returncode == 0, p.stderr
assert ("gradient checkpointing" in p.stderr) == checkpointing, p.stderr
ours = [h for h in json.load(open(os.path.join(out, "trainer_state.json")))["log_history"] if "loss" in h]
our_eval = float(open(os.path.join(out, "eval_results.txt")).read().split("eval_loss = ")[1].split()[0])

assert len(ours) == len(theirs) > 0, (len(ours), len(theirs))
worst = 0.0
for a, b in zip(ours, theirs):
    assert a["step"] == b["step"], (a, b)
    rel = abs(a["loss"] - b["loss"]) / abs(b["loss"])
    worst = max(worst, rel)
    assert rel < 1e-4, f"step {a['step']}: loss {a['loss']} vs SFTTrainer's {b['loss']}"
    assert abs(a["learning_rate"] - b["learning_rate"]) <= 1e-12 * max(1.0, b["learning_rate"]), (a, b)
    assert abs(a["grad_norm"] - b["grad_norm"]) <= 1e-3 * b["grad_norm"], (a, b)
assert abs(our_eval - their_eval) <= 1e-4 * their_eval, (our_eval, their_eval)

if assistant:  # the training template went with the export, as TRL's save_model writes it
    with open(os.path.join(out, "model", "chat_template.jinja"), encoding="utf-8") as f, \
            open(training_template, encoding="utf-8") as g:
        assert f.read() == g.read()
    assert "chat_template" not in json.load(open(os.path.join(out, "model", "tokenizer_config.json")))

# The exported folder loads in transformers alone (config, weights, tokenizer) and evaluates as we did.
exported = os.path.join(out, "model")
reloaded = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(exported), args=args, train_dataset=Dataset.from_list(rows),
                      eval_dataset=Dataset.from_list(eval_rows), processing_class=AutoTokenizer.from_pretrained(exported))
reloaded_eval = reloaded.evaluate()["eval_loss"]
assert abs(reloaded_eval - our_eval) <= 1e-4 * our_eval, (reloaded_eval, our_eval)
# Greedy generation: trainrt-generate from the exported folder says what transformers' generate says,
# and the folder has the generation_config.json that generate reads.
assert os.path.exists(os.path.join(exported, "generation_config.json"))
generate = os.path.join(os.path.dirname(finetune), "trainrt-generate")
exported_tok = AutoTokenizer.from_pretrained(exported)
hf_model = AutoModelForCausalLM.from_pretrained(exported)
if data_format == "messages":
    conversation = [m for m in eval_rows[0]["messages"] if m["role"] != "assistant"][:1]
    with open(os.path.join(work, "conversation.json"), "w") as f:
        json.dump(conversation, f)
    prompt_args = ["--messages", os.path.join(work, "conversation.json")]
    hf_ids = exported_tok.apply_chat_template(conversation, add_generation_prompt=True, return_dict=True)["input_ids"]
else:
    prompt = "the cat"
    prompt_args = ["--prompt", prompt]
    hf_ids = exported_tok(prompt)["input_ids"]
g = subprocess.run([generate, "--model", exported, "--max_new_tokens", "12"] + prompt_args, capture_output=True, text=True)
assert g.returncode == 0, g.stderr
mine = json.loads(g.stdout)
hf_out = hf_model.generate(torch.tensor([hf_ids]), attention_mask=torch.ones(1, len(hf_ids), dtype=torch.long),
                           do_sample=False, max_new_tokens=12)[0].tolist()
assert mine["prompt_ids"] == hf_ids, (mine["prompt_ids"], hf_ids)
assert mine["new_ids"] == hf_out[len(hf_ids):], (mine["new_ids"], hf_out[len(hf_ids):])
assert mine["text"] == exported_tok.decode(hf_out[len(hf_ids):], skip_special_tokens=True), (mine["text"],)
print(f"ok: {family} {data_format} (accumulation {ga}, packing {packing}, gradient checkpointing {checkpointing}): {len(ours)} logged steps, worst relative loss difference "
      f"{worst:.2e}; eval loss {our_eval:.6f} vs {their_eval:.6f}, {reloaded_eval:.6f} from the exported folder; greedy "
      f"generation equal to transformers' ({len(mine['new_ids'])} tokens)")
