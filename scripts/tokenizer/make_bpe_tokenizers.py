#!/usr/bin/env python3
"""Train small byte-level BPE tokenizers with Hugging Face `tokenizers`' own trainer, and what
`tokenizers` makes of a hard corpus with them, for the C++ BPE tokenizer test.

Three tokenizers, written as OUT/<name>/tokenizer.json (+ tokenizer_config.json):
  gpt2    ByteLevel pre-tokenizer with its own regex, ByteLevel post-processor (GPT-2's layout)
  llama3  Split on Llama 3's regex (Isolated) + ByteLevel without regex, ignore_merges,
          <|begin_of_text|> added by a TemplateProcessing, special tokens in the text
  qwen2   NFC normalizer, Split on Qwen2's regex + ByteLevel, no template (Qwen2/3's layout)
  prefix  GPT-2's layout with add_prefix_space
OUT/expected.json: per tokenizer and text, the ids and word ids with the post-processor, the ids
without it, and a truncated encoding.

    .venv/bin/python scripts/tokenizer/make_bpe_tokenizers.py OUT
"""
import json
import os
import sys

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
          r"\s+(?!\S)|\s+")
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
         r"\s+(?!\S)|\s+")

CORPUS = [
    "The quick brown fox jumps over the lazy dog. It's 12:45 and we're late; they'll wait, won't they?",
    "def tokenize(text: str) -> list[int]:\n    return [ord(c) for c in text if c != ' ']\n\n\n",
    "emoji 😀🚀🎉 and 🥲 🫠 👩‍💻 👍🏽 together", "日本語のテキストです。中文测试：你好，世界！한국어 텍스트",
    "e\u0301 (combining) vs é (precomposed), A\u030a vs Å, n\u0303", "tabs\tand   runs    of     spaces\n\n  \n end",
    "numbers 1234567890 3.14159 1e-5 -42 0x1F 1,000,000", "«quotes» „low“ ‘single’ em—dash … ¡hola! ¿qué?",
    "MiXeD CaSe SHOUTING and camelCaseWords snake_case_words kebab-case-words",
    "Straße İstanbul ΣΊΣΥΦΟΣ οδός ΟΔΌΣ שלום עולם مرحبا بالعالم नमस्ते दुनिया",
] * 3

TEXTS = [
    "Hello, world!", "", " ", "   \t\n  ", "The movie was NOT good...", "It's 12:45, we're late; they'll see.",
    "emoji 😀🚀🎉 and 🥲 🫠 👩‍💻 👍🏽", "日本語のテキストです。", "中文测试：你好，世界！", "한국어 텍스트",
    "e\u0301 (combining) vs é (precomposed)", "Café résumé naïve façade Ångström", "tab\tnew\nline\r\ncrlf",
    "    indented code\n\tmore\n\n\nblank lines", "1234567890 3.14159 1e-5 -42 12345", "x" * 40,
    "def f(a, b):\n    return a**2 + b // 3  # comment", "<|begin_of_text|>Hi<|eot_id|> there <|eot_id|>",
    "a<|eot_id|>b", "ΣΊΣΥΦΟΣ οδός", "שלום עולם", "🫠🫠🫠", "\u200bzero\u200dwidth\ufeffbom", "trailing spaces   ",
]


def train(name, normalizer, pre_tokenizer, post_processor, ignore_merges, specials, out):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, min_frequency=1, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    if post_processor == "template":
        bos = tok.token_to_id("<|begin_of_text|>")
        tok.post_processor = processors.TemplateProcessing(
            single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
            special_tokens=[("<|begin_of_text|>", bos)])
    elif post_processor == "bytelevel":
        tok.post_processor = processors.ByteLevel(trim_offsets=True)
    os.makedirs(os.path.join(out, name), exist_ok=True)
    tok.save(os.path.join(out, name, "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast"}
    if specials:
        config.update(bos_token=specials[0], eos_token=specials[-1], pad_token=specials[-1])
    with open(os.path.join(out, name, "tokenizer_config.json"), "w") as f:
        json.dump(config, f)
    return tok


def main():
    out = sys.argv[1]
    specials = ["<|begin_of_text|>", "<|eot_id|>"]
    toks = {
        "gpt2": train("gpt2", None, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), "bytelevel", False,
                      [], out),
        "llama3": train("llama3", None, pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), "template", True, specials, out),
        "qwen2": train("qwen2", normalizers.NFC(), pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), None, False, specials, out),
        "prefix": train("prefix", None, pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True), "bytelevel",
                        False, [], out),
    }
    expected = {}
    for name, tok in toks.items():
        cases = []
        for text in TEXTS:
            full = tok.encode(text)
            plain = tok.encode(text, add_special_tokens=False)
            tok.enable_truncation(max_length=6)
            cut = tok.encode(text, "second sequence here" if name == "llama3" else None)
            tok.no_truncation()
            cases.append({"text": text, "ids": full.ids, "type_ids": full.type_ids,
                          "word_ids": [-1 if w is None else w for w in full.word_ids], "plain_ids": plain.ids,
                          "cut_ids": cut.ids, "cut_type_ids": cut.type_ids})
        expected[name] = {"vocab_size": tok.get_vocab_size(), "cases": cases,
                          "bos": tok.token_to_id("<|begin_of_text|>"), "eos": tok.token_to_id("<|eot_id|>")}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
