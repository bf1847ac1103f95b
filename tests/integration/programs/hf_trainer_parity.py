"""Loss parity with Hugging Face's Trainer: the same initial weights, data, batch size and
hyperparameters on CPU, dropout 0; the loss at every logged step must agree to 1e-4 relative.
With `pairs`, every example is a text pair (--text_pair_column; the tokenizer's pair encoding,
token types and longest-first truncation to 24 tokens on both sides).

usage: hf_trainer_parity.py TRAINRT_FINETUNE TOKENIZER_DIR SOURCE_DIR WORK_DIR [bert|distilbert [BATCH [GRAD_ACCUMULATION [pairs]]]]
"""
import json
import os
import shutil
import subprocess
import sys

import torch
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, BertConfig, BertForSequenceClassification,
                          DataCollatorWithPadding, DistilBertConfig, DistilBertForSequenceClassification, Trainer,
                          TrainingArguments)

finetune, tokenizer_dir, src, work = sys.argv[1:5]
family = sys.argv[5] if len(sys.argv) > 5 else "bert"
data = os.path.join(work, "data")
subprocess.run([sys.executable, os.path.join(src, "examples/sentiment/make_data.py"), data, "--train", "44",
                "--test", "8", "--seed", "5"], check=True)
pairs = len(sys.argv) > 8 and sys.argv[8] == "pairs"
if pairs:  # each text paired with the next one
    path = os.path.join(data, "train", "data.jsonl")
    rows = [json.loads(line) for line in open(path)]
    with open(path, "w") as f:
        for i, r in enumerate(rows):
            f.write(json.dumps(dict(r, pair=rows[(i + 1) % len(rows)]["text"])) + "\n")

# A small random BERT or DistilBERT (dropout 0) with the real uncased WordPiece tokenizer, saved
# once for both.
init = os.path.join(work, "init")
torch.manual_seed(0)
if family == "distilbert":
    model = DistilBertForSequenceClassification(DistilBertConfig(
        vocab_size=30522, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=128,
        dropout=0.0, attention_dropout=0.0, seq_classif_dropout=0.0, num_labels=2))
else:
    model = BertForSequenceClassification(BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=128, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, num_labels=2))
model.save_pretrained(init)
for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
    shutil.copy(os.path.join(tokenizer_dir, name), init)

hp = dict(epochs=2, batch=int(sys.argv[6]) if len(sys.argv) > 6 else 8, ga=int(sys.argv[7]) if len(sys.argv) > 7 else 1,
          lr=1e-3, warmup=3, wd=0.01, seed=42, max_len=24 if pairs else 64)

# Hugging Face Trainer.
tok = AutoTokenizer.from_pretrained(init)
rows = [json.loads(line) for line in open(os.path.join(data, "train", "data.jsonl"))]


class Rows(torch.utils.data.Dataset):
    def __init__(self):
        self.items = [dict(tok(r["text"], r["pair"] if pairs else None, truncation=True, max_length=hp["max_len"]),
                           labels=r["label"]) for r in rows]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


args = TrainingArguments(output_dir=os.path.join(work, "hf"), num_train_epochs=hp["epochs"],
                         per_device_train_batch_size=hp["batch"], learning_rate=hp["lr"], warmup_steps=hp["warmup"],
                         weight_decay=hp["wd"], logging_steps=1, seed=hp["seed"], save_strategy="no",
                         gradient_accumulation_steps=hp["ga"],
                         report_to="none", disable_tqdm=True)
trainer = Trainer(model=AutoModelForSequenceClassification.from_pretrained(init), args=args, train_dataset=Rows(),
                  data_collator=DataCollatorWithPadding(tok))
trainer.train()
theirs = [h for h in trainer.state.log_history if "loss" in h]

# trainrt-finetune.
out = os.path.join(work, "ours")
subprocess.run([finetune, "--model_name_or_path", init, "--epochs", str(hp["epochs"]), "--train_batch_size",
                str(hp["batch"]), "--learning_rate", str(hp["lr"]), "--warmup_steps", str(hp["warmup"]),
                "--weight_decay", str(hp["wd"]), "--logging_steps", "1", "--gradient_accumulation_steps", str(hp["ga"]), "--seed", str(hp["seed"]),
                "--max_seq_length", str(hp["max_len"]), "--training_dir", os.path.join(data, "train"),
                "--model_dir", os.path.join(out, "model"), "--output_data_dir", out, "--save_strategy", "no",
                "--resume_from_checkpoint", "False", "--output_dir", os.path.join(out, "checkpoints")] +
               (["--text_pair_column", "pair"] if pairs else []), check=True,
               stdout=subprocess.DEVNULL)
ours = [h for h in json.load(open(os.path.join(out, "trainer_state.json")))["log_history"] if "loss" in h]

assert len(ours) == len(theirs) > 0, (len(ours), len(theirs))
worst = 0.0
for a, b in zip(ours, theirs):
    assert a["step"] == b["step"], (a, b)
    rel = abs(a["loss"] - b["loss"]) / abs(b["loss"])
    worst = max(worst, rel)
    assert rel < 1e-4, f"step {a['step']}: loss {a['loss']} vs Trainer's {b['loss']}"
    assert abs(a["learning_rate"] - b["learning_rate"]) <= 1e-12 * max(1.0, b["learning_rate"]), (a, b)
    assert abs(a["grad_norm"] - b["grad_norm"]) <= 1e-3 * b["grad_norm"], (a, b)
print(f"ok: {family}{' text pairs' if pairs else ''}: {len(ours)} logged steps, worst relative loss difference {worst:.2e}")
