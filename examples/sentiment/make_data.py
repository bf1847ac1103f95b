#!/usr/bin/env python3
"""Write a small, deterministic English sentiment dataset as JSON Lines (text, label).

Movie-review-like sentences built from templates, with negation ("not good" is negative) so that
a model must look at more than single words. label 1 = positive, 0 = negative.

    make_data.py OUT_DIR [--train N] [--test N] [--seed S]   -> OUT_DIR/{train,test}/data.jsonl
"""
import argparse
import json
import os
import random

SUBJECTS = ["The movie", "This film", "The plot", "The acting", "The soundtrack", "The ending", "The cast",
            "The director's work", "The script", "The cinematography", "This sequel", "The story"]
POSITIVE = ["wonderful", "brilliant", "moving", "delightful", "excellent", "superb", "charming", "gripping",
            "beautiful", "hilarious", "touching", "great", "good", "enjoyable", "memorable"]
NEGATIVE = ["awful", "boring", "dull", "terrible", "clumsy", "predictable", "tedious", "weak", "bad",
            "disappointing", "forgettable", "messy", "poor", "lifeless", "annoying"]
INTENSIFIERS = ["", "", "really ", "truly ", "quite ", "absolutely ", "rather "]
ENDINGS = [".", "!", ", I thought.", " overall.", " from start to finish.", ", honestly."]
PREFIXES = ["", "", "Honestly, ", "In my opinion, ", "Sadly, ", "Surprisingly, "]


def sentence(rng):
    positive = rng.random() < 0.5
    negated = rng.random() < 0.3
    adjective = rng.choice(POSITIVE if positive != negated else NEGATIVE)
    verb = "was not" if negated else "was"
    text = f"{rng.choice(PREFIXES)}{rng.choice(SUBJECTS)} {verb} {rng.choice(INTENSIFIERS)}{adjective}{rng.choice(ENDINGS)}"
    if rng.random() < 0.25:  # a second clause agreeing with the first
        text += f" {rng.choice(SUBJECTS)} was {rng.choice(POSITIVE if positive else NEGATIVE)} too."
    return {"text": text[0].upper() + text[1:], "label": int(positive)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for split, n in (("train", args.train), ("test", args.test)):
        os.makedirs(os.path.join(args.out_dir, split), exist_ok=True)
        with open(os.path.join(args.out_dir, split, "data.jsonl"), "w", encoding="utf-8") as f:
            for _ in range(n):
                f.write(json.dumps(sentence(rng)) + "\n")


if __name__ == "__main__":
    main()
