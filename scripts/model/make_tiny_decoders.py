#!/usr/bin/env python3
"""Make tiny random decoder-only causal LMs with transformers, and their logits.

One folder per variant under OUT (save_pretrained: config.json + model.safetensors), covering
what the llama/qwen2/qwen3/mistral and gpt2 families read: grouped-query attention, head_dim apart from
hidden/heads, attention_bias, mlp_bias, tied and untied lm_head, rope_parameters of type default,
linear and llama3, a pad_token_id. OUT/expected.json holds right-padded inputs and, per variant,
the logits transformers computes in eval mode (fp32, sdpa attention; and under bf16 autocast, as
Trainer's bf16=True runs it) and the variant's padding mask.
The C++ family tests load the same files and must produce the same logits at every real token.

    .venv/bin/python scripts/model/make_tiny_decoders.py OUT
"""
import json
import os
import sys

import torch
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

COMMON = dict(vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
              max_position_embeddings=64, rms_norm_eps=1e-5)


def variants():
    return {
        "llama_gqa_tied": LlamaForCausalLM(LlamaConfig(**COMMON, num_key_value_heads=2, tie_word_embeddings=True,
                                                       pad_token_id=0)),
        "llama3_rope": LlamaForCausalLM(LlamaConfig(
            **COMMON, num_key_value_heads=1, head_dim=16, attention_bias=True, mlp_bias=True,
            rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 16})),
        "llama_linear_rope": LlamaForCausalLM(LlamaConfig(
            **COMMON, num_key_value_heads=4, rope_parameters={"rope_type": "linear", "rope_theta": 10000.0,
                                                              "factor": 2.0})),
        "mistral": MistralForCausalLM(MistralConfig(**COMMON, num_key_value_heads=2, sliding_window=None)),
        "qwen2": Qwen2ForCausalLM(Qwen2Config(**COMMON, num_key_value_heads=2, tie_word_embeddings=True)),
        "qwen3": Qwen3ForCausalLM(Qwen3Config(**COMMON, num_key_value_heads=2, head_dim=8)),
        "gpt2": GPT2LMHeadModel(GPT2Config(vocab_size=97, n_positions=64, n_embd=32, n_layer=2, n_head=4)),
    }


def names(model_type):
    """An embedding, a parameter of layer 1 and the final norm, by transformers' names."""
    if model_type == "gpt2":
        return "transformer.wte.weight", "transformer.h.1.mlp.c_fc.weight", "transformer.ln_f.weight"
    return "model.embed_tokens.weight", "model.layers.1.mlp.up_proj.weight", "model.norm.weight"


def main():
    out = sys.argv[1]
    torch.manual_seed(4321)
    input_ids = torch.tensor([[5, 17, 23, 42, 8, 61, 3, 90], [7, 7, 31, 2, 0, 0, 0, 0], [11, 96, 0, 0, 0, 0, 0, 0]])
    attention_mask = torch.tensor([[1] * 8, [1] * 4 + [0] * 4, [1] * 2 + [0] * 6])
    expected = {"input_ids": input_ids.tolist(), "attention_mask": attention_mask.tolist()}
    for name, model in variants().items():
        with torch.no_grad():  # non-trivial norm weights and biases, so that loading them matters
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.05)
        model.config._attn_implementation = "sdpa"
        model.eval()
        model.save_pretrained(os.path.join(out, name))
        with torch.no_grad():
            logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
            with torch.autocast("cpu", dtype=torch.bfloat16):  # as Trainer's bf16=True runs the forward
                logits_bf16 = model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
        expected[name] = {"logits": logits.tolist(), "logits_bf16": logits_bf16.tolist(), "model_type": model.config.model_type,
                          "architecture": type(model).__name__,
                          "tied": bool(model.config.tie_word_embeddings),
                          "pieces": dict(zip(("embedding", "layer1", "final_norm"), names(model.config.model_type))),
                          "parameters": sorted(n for n, _ in model.named_parameters())}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
