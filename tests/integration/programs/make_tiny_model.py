#!/usr/bin/env python3
"""Make a tiny random BERT classifier with a word-level WordPiece vocabulary, for tests that run
the fine-tuner many times (checkpoints, resume, distributed): config.json, model.safetensors,
vocab.txt and tokenizer_config.json, written by transformers' save_pretrained. Dropout stays on
(0.1) so that a resume that lost the random-generator state would change the result.

usage: make_tiny_model.py OUT_DIR [DATA_DIR] [--dropout P]
       (DATA_DIR: JSON Lines whose words go in the vocabulary; --dropout default 0.1)
"""
import json
import os
import re
import sys

import torch
from transformers import BertConfig, BertForSequenceClassification

args = sys.argv[1:]
dropout = 0.1
if "--dropout" in args:
    dropout = float(args[args.index("--dropout") + 1])
    del args[args.index("--dropout"):args.index("--dropout") + 2]
out = args[0]
words = set()
if len(args) > 1:
    for root, _, files in os.walk(args[1]):
        for name in files:
            if name.endswith(".jsonl"):
                for line in open(os.path.join(root, name)):
                    words.update(re.findall(r"\w+|[^\w\s]", json.loads(line)["text"].lower()))
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(words)
torch.manual_seed(0)
model = BertForSequenceClassification(BertConfig(
    vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
    max_position_embeddings=64, num_labels=2, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout))
model.save_pretrained(out)
with open(os.path.join(out, "vocab.txt"), "w") as f:
    f.write("\n".join(vocab) + "\n")
with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
    json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer", "model_max_length": 64}, f)
