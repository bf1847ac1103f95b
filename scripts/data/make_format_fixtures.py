#!/usr/bin/env python3
"""Write the same small labelled dataset in every format the fine-tuner reads.

OUT/jsonl/data.jsonl, OUT/csv/data.csv, OUT/tsv/data.tsv, OUT/parquet/data.parquet (pyarrow),
OUT/save_to_disk (datasets' Dataset.save_to_disk, text + string labels),
OUT/pretokenized (save_to_disk of input_ids/attention_mask padded to 16 + int labels, as the
SageMaker Hugging Face notebook prepares it), and OUT/expected.json (the rows).

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
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"rows": rows, "input_ids": ids, "attention_mask": mask}, f)
