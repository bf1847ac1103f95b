#!/usr/bin/env python3
"""Write the same small labelled dataset in every format the fine-tuner reads.

OUT/jsonl/data.jsonl, OUT/csv/data.csv, OUT/tsv/data.tsv, OUT/parquet/data.parquet (pyarrow),
OUT/save_to_disk (datasets' Dataset.save_to_disk, text + string labels),
OUT/pretokenized (save_to_disk of input_ids/attention_mask padded to 16 + int labels, as the
SageMaker Hugging Face notebook prepares it), and OUT/expected.json (the rows).
For the causal-LM task (TRL's SFT formats), OUT/sft/<format>/ holds the same conversations in
JSON Lines, Parquet and save_to_disk, and prompt/completion pairs in JSON Lines, CSV and Parquet.

    .venv/bin/python scripts/data/make_format_fixtures.py OUT
"""
import csv
import json
import os
import sys

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

out = sys.argv[1]
rows = [
    {"text": "A truly wonderful film.", "label": "pos"},
    {"text": "Boring, from start to finish", "label": "neg"},
    {"text": "Café naïve: «good», with a comma, and \"quotes\"", "label": "pos"},
    {"text": "日本語 😀 emoji", "label": "neg"},
]
for fmt in ("jsonl", "csv", "tsv", "parquet"):
    os.makedirs(os.path.join(out, fmt), exist_ok=True)
with open(os.path.join(out, "jsonl", "data.jsonl"), "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
    with open(os.path.join(out, fmt, f"data.{fmt}"), "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["text", "label"], delimiter=delimiter)
        w.writeheader()
        w.writerows(rows)
pq.write_table(pa.Table.from_pylist(rows), os.path.join(out, "parquet", "data.parquet"))
datasets.Dataset.from_list(rows).save_to_disk(os.path.join(out, "save_to_disk"))
ids = [[101, 2000 + i, 2001 + i, 102] + [0] * 12 for i in range(len(rows))]
mask = [[1, 1, 1, 1] + [0] * 12 for _ in rows]
datasets.Dataset.from_dict({"input_ids": ids, "attention_mask": mask, "labels": [1, 0, 1, 0]}).save_to_disk(
    os.path.join(out, "pretokenized"))
conversations = [
    {"messages": [{"role": "user", "content": "Hi, «café»?"}, {"role": "assistant", "content": "Hello 😀"}]},
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2"},
                  {"role": "assistant", "content": "4"}]},
]
pairs = [{"prompt": "Q: sky?\nA:", "completion": " blue, \"mostly\""}, {"prompt": "日本", "completion": "語"}]
sft = os.path.join(out, "sft")
for name in ("messages_jsonl", "messages_parquet", "pairs_jsonl", "pairs_csv", "pairs_parquet"):
    os.makedirs(os.path.join(sft, name))
for name, items in (("messages_jsonl", conversations), ("pairs_jsonl", pairs)):
    with open(os.path.join(sft, name, "data.jsonl"), "w", encoding="utf-8") as f:
        for r in items:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
pq.write_table(pa.Table.from_pylist(conversations), os.path.join(sft, "messages_parquet", "data.parquet"))
pq.write_table(pa.Table.from_pylist(pairs), os.path.join(sft, "pairs_parquet", "data.parquet"))
with open(os.path.join(sft, "pairs_csv", "data.csv"), "w", encoding="utf-8", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["prompt", "completion"])
    w.writeheader()
    w.writerows(pairs)
datasets.Dataset.from_list(conversations).save_to_disk(os.path.join(sft, "messages_save_to_disk"))
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"rows": rows, "input_ids": ids, "attention_mask": mask, "conversations": conversations,
               "pairs": pairs}, f)
