"""Load an exported model with transformers' Auto classes; compare with trainrt's eval results.

usage: check_export.py MODEL_DIR TEST_JSONL EVAL_RESULTS_TXT MAX_LENGTH [LOSS_TOLERANCE [ACCURACY_TOLERANCE]]
Exits non-zero unless accuracy and eval_loss agree (identical accuracy and 1e-4 by default; a bf16
run, evaluated under autocast as Trainer does, needs wider bounds against this fp32 reload).
"""
import json
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

model_dir, test_file, results_file, max_length = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
loss_tolerance = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-4
accuracy_tolerance = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
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
assert abs(accuracy - float(ours["eval_accuracy"])) <= accuracy_tolerance, "accuracy differs"
assert abs(loss - float(ours["eval_loss"])) < loss_tolerance, "eval_loss differs"
assert model.config.architectures == ["BertForSequenceClassification"], model.config.architectures
