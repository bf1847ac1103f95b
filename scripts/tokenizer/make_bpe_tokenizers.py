#!/usr/bin/env python3
"""Train small byte-level BPE tokenizers with Hugging Face `tokenizers`' own trainer, and what
`tokenizers` makes of a hard corpus with them, for the C++ BPE tokenizer test.

The tokenizers, written as OUT/<name>/tokenizer.json (+ tokenizer_config.json):
  gpt2    ByteLevel pre-tokenizer with its own regex, ByteLevel post-processor (GPT-2's layout)
  llama3  Split on Llama 3's regex (Isolated) + ByteLevel without regex, ignore_merges,
          <|begin_of_text|> added by a TemplateProcessing, special tokens in the text
  qwen2   NFC normalizer, Split on Qwen2's regex + ByteLevel, no template (Qwen2/3's layout)
  prefix  GPT-2's layout with add_prefix_space
SentencePiece-style BPE (characters as symbols, <0xXX> byte tokens added to the vocabulary, a
small alphabet so that emoji and CJK fall back to bytes):
  llama2  Prepend("▁") + Replace(" ", "▁") normalizers, no pre-tokenizer, byte_fallback,
          fuse_unk, <s> added by a TemplateProcessing, the Replace/ByteFallback/Fuse/Strip
          decoder (Llama 2's legacy layout)
  mistral Metaspace pre-tokenizer (prepend_scheme first, no split), byte_fallback (Mistral's and
          Llama 2's current layout)
  spsplit Metaspace (always, split), no byte_fallback: unknown characters as one fused <unk>;
          the Metaspace decoder
OUT/expected.json: per tokenizer and text, the ids and word ids with the post-processor, the ids
and character offsets without it, a truncated encoding, and the decoded text.

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
    "a<|eot_id|>b", "<s>Hi</s> there</s>", " leading space", "  two", "a</s>b", "the then there", "ΣΊΣΥΦΟΣ οδός", "שלום עולם", "🫠🫠🫠", "\u200bzero\u200dwidth\ufeffbom", "trailing spaces   ",
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


SP_CORPUS = [t for t in CORPUS if not any(ord(c) > 0x2000 for c in t)] + ["a b c ab abc the then there"] * 5


def train_sentencepiece(name, normalizer, pre_tokenizer, decoder, byte_fallback, template, out):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=byte_fallback, fuse_unk=True))
    if normalizer is not None:
        tok.normalizer = normalizer
    if pre_tokenizer is not None:
        tok.pre_tokenizer = pre_tokenizer
    trainer = trainers.BpeTrainer(vocab_size=300, min_frequency=1, special_tokens=["<unk>", "<s>", "</s>"],
                                  limit_alphabet=70, show_progress=False)
    tok.train_from_iterator(SP_CORPUS, trainer)
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    if byte_fallback:  # SentencePiece's byte pieces, in the vocabulary as Llama 2's are
        for b in range(256):
            vocab.setdefault("<0x%02X>" % b, len(vocab))
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.decoder = decoder
    if template:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    os.makedirs(os.path.join(out, name), exist_ok=True)
    tok.save(os.path.join(out, name, "tokenizer.json"))
    with open(os.path.join(out, name, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>"}, f)
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
    sp_decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                    decoders.Strip(" ", 1, 0)])
    toks["llama2"] = train_sentencepiece(
        "llama2", normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]), None, sp_decoder,
        True, True, out)
    toks["mistral"] = train_sentencepiece(
        "mistral", None, pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False),
        sp_decoder, True, True, out)
    toks["spsplit"] = train_sentencepiece(
        "spsplit", None, pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True), False, False, out)
    expected = {}
    for name, tok in toks.items():
        cases = []
        for text in TEXTS:
            full = tok.encode(text)
            plain = tok.encode(text, add_special_tokens=False)
            tok.enable_truncation(max_length=6)
            cut = tok.encode(text, "second sequence here" if name in ("llama3", "llama2") else None)
            tok.no_truncation()
            cases.append({"text": text, "ids": full.ids, "type_ids": full.type_ids,
                          "word_ids": [-1 if w is None else w for w in full.word_ids], "plain_ids": plain.ids,
                          "cut_ids": cut.ids, "cut_type_ids": cut.type_ids, "plain_offsets": plain.offsets,
                          "decoded": tok.decode(full.ids, skip_special_tokens=True)})
        sp = name in ("llama2", "mistral", "spsplit")
        expected[name] = {"vocab_size": tok.get_vocab_size(), "cases": cases,
                          "bos": tok.token_to_id("<s>" if sp else "<|begin_of_text|>"),
                          "eos": tok.token_to_id("</s>" if sp else "<|eot_id|>")}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
