#!/usr/bin/env python3
"""Make tiny random BERT and DistilBERT sequence classifiers with transformers, and their logits.

Writes OUT/distilbert and OUT/bert (save_pretrained: config.json + model.safetensors) and
OUT/expected.json: the inputs (with padding and token types) and the logits transformers computes
in eval mode. The C++ model tests load the same files and must produce the same logits.

    .venv/bin/python scripts/model/make_tiny_models.py OUT
"""
import json
import os
import sys

import torch
from transformers import (BertConfig, BertForSequenceClassification, DistilBertConfig,
                          DistilBertForSequenceClassification)


def main():
    out = sys.argv[1]
    torch.manual_seed(1234)
    models = {
        "distilbert": DistilBertForSequenceClassification(DistilBertConfig(
            vocab_size=120, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64,
            num_labels=3, dropout=0.0, attention_dropout=0.0, seq_classif_dropout=0.0)),
        "bert": BertForSequenceClassification(BertConfig(
            vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=64, type_vocab_size=2, num_labels=3, hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0)),
    }
    input_ids = torch.tensor([[101, 7, 8, 9, 10, 11, 102, 0, 0], [101, 50, 60, 102, 70, 80, 90, 102, 0],
                              [101, 3, 102, 0, 0, 0, 0, 0, 0]])
    attention_mask = (input_ids != 0).long()
    token_type_ids = torch.tensor([[0] * 9, [0, 0, 0, 0, 1, 1, 1, 1, 0], [0] * 9])
    expected = {"input_ids": input_ids.tolist(), "attention_mask": attention_mask.tolist(),
                "token_type_ids": token_type_ids.tolist()}
    for name, model in models.items():
        # Non-trivial LayerNorm and bias values, so that loading them matters.
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.05)
        model.eval()
        model.save_pretrained(os.path.join(out, name))
        with torch.no_grad():
            expected[name] = model(input_ids=input_ids, attention_mask=attention_mask,
                                   token_type_ids=token_type_ids if name == "bert" else None).logits.tolist()
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
