"""Load an exported model with transformers' Auto classes; compare with trainrt's eval results.

usage: check_export.py MODEL_DIR TEST_JSONL EVAL_RESULTS_TXT MAX_LENGTH
Exits non-zero unless accuracy is identical and eval_loss agrees to 1e-4.
"""
import json
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

model_dir, test_file, results_file, max_length = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ours = dict(line.split(" = ") for line in open(results_file).read().splitlines() if " = " in line)
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
rows = [json.loads(line) for line in open(test_file) if line.strip()]
labels = torch.tensor([model.config.label2id[r["label"]] if isinstance(r["label"], str) else r["label"] for r in rows])
losses, correct = 0.0, 0
with torch.no_grad():
    for i in range(0, len(rows), 16):
        enc = tok([r["text"] for r in rows[i:i + 16]], padding=True, truncation=True, max_length=max_length,
                  return_tensors="pt")
        out = model(**enc, labels=labels[i:i + 16])
        losses += out.loss.item() * len(rows[i:i + 16])
        correct += (out.logits.argmax(-1) == labels[i:i + 16]).sum().item()
accuracy, loss = correct / len(rows), losses / len(rows)
print(f"transformers: eval_accuracy={accuracy} eval_loss={loss}; trainrt: {ours['eval_accuracy']} {ours['eval_loss']}")
assert accuracy == float(ours["eval_accuracy"]), "accuracy differs"
assert abs(loss - float(ours["eval_loss"])) < 1e-4, "eval_loss differs"
assert model.config.architectures == ["BertForSequenceClassification"], model.config.architectures
