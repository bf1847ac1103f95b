"""Chat templates rendered by transformers, for the C++ renderer's test (tests/trainer/chat_template_test.cc).

Renders every real model's chat template that llama.cpp ships (fetched with the Jinja engine by
scripts/fetch_jinja.sh into .third_party/llama-jinja/templates) on a few conversations through
transformers' own apply_chat_template path (render_jinja_template with the special tokens, as a
tokenizer passes them), and writes OUT_DIR/expected.json: the templates folder and, per template
and conversation, the text or transformers' error.

usage: render_chat_templates.py OUT_DIR [TEMPLATES_DIR]
"""
import json
import os
import sys

from transformers.utils.chat_template_utils import render_jinja_template

out = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
templates = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, ".third_party", "llama-jinja", "templates")

SPECIALS = {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "unk_token": "<|unk|>", "pad_token": "<|eos|>"}
CONVERSATIONS = [
    ([{"role": "user", "content": "Hello!"}], True),
    ([{"role": "system", "content": "You answer in one line."},
      {"role": "user", "content": "What is 2 + 2?"},
      {"role": "assistant", "content": "4."}], False),
    ([{"role": "user", "content": "Translate 猫 to French.\n  Keep   spaces."},
      {"role": "assistant", "content": "Chat 🐱"},
      {"role": "user", "content": "And to German?"},
      {"role": "assistant", "content": "  Katze\n"}], False),
    ([{"role": "user", "content": "Think first: 3 * 7?"},
      {"role": "assistant", "content": "21", "reasoning_content": "3 * 7 = 21"}], True),
]

cases = []
for name in sorted(os.listdir(templates)):
    if not name.endswith(".jinja"):
        continue
    with open(os.path.join(templates, name), encoding="utf-8") as f:
        source = f.read()
    for index, (messages, add_generation_prompt) in enumerate(CONVERSATIONS):
        case = {"template": name, "conversation": index, "messages": messages,
                "add_generation_prompt": add_generation_prompt}
        try:
            rendered, _ = render_jinja_template(conversations=[messages], chat_template=source,
                                                add_generation_prompt=add_generation_prompt, **SPECIALS)
            case["text"] = rendered[0]
        except Exception as e:  # the template refuses the conversation (raise_exception), or jinja2 fails
            case["error"] = f"{type(e).__name__}: {e}"
        cases.append(case)

with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
    json.dump({"templates_dir": templates, "specials": SPECIALS, "cases": cases}, f, ensure_ascii=False)
