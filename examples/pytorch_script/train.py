"""A SageMaker script-mode training program, unchanged from what runs under the Python toolkit.

It reads its hyperparameters as --key value arguments and its paths from SM_* variables, trains a
bag-of-words sentiment classifier with PyTorch on the `train` channel, evaluates on `test`, and
saves the model to SM_MODEL_DIR. `train` (trainrt's entry point) runs it when the job names it
with sagemaker_program.
"""
import argparse
import json
import os
import re

import torch


def read_jsonl(channel_dir):
    rows = []
    for name in sorted(os.listdir(channel_dir)):
        if name.endswith(".jsonl"):
            with open(os.path.join(channel_dir, name), encoding="utf-8") as f:
                rows += [json.loads(line) for line in f if line.strip()]
    return rows


def tokens(text):
    words = re.findall(r"[a-z']+", text.lower())
    return words + [a + "_" + b for a, b in zip(words, words[1:])]  # bigrams catch "not good"


def featurize(rows, vocab):
    x = torch.zeros(len(rows), len(vocab))
    for i, row in enumerate(rows):
        for t in tokens(row["text"]):
            if t in vocab:
                x[i, vocab[t]] = 1.0
    return x, torch.tensor([row["label"] for row in rows], dtype=torch.float32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning_rate", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model_dir", default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--training_dir", default=os.environ["SM_CHANNEL_TRAIN"])
    parser.add_argument("--test_dir", default=os.environ["SM_CHANNEL_TEST"])
    args, unknown = parser.parse_known_args()
    torch.manual_seed(args.seed)

    train_rows, test_rows = read_jsonl(args.training_dir), read_jsonl(args.test_dir)
    vocab = {t: i for i, t in enumerate(sorted({t for r in train_rows for t in tokens(r["text"])}))}
    x_train, y_train = featurize(train_rows, vocab)
    x_test, y_test = featurize(test_rows, vocab)
    print(f"host {os.environ['SM_CURRENT_HOST']}: {len(train_rows)} train / {len(test_rows)} test rows, "
          f"{len(vocab)} features, {os.environ['SM_NUM_GPUS']} GPU(s)", flush=True)

    model = torch.nn.Linear(len(vocab), 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for epoch in range(1, args.epochs + 1):
        for batch in torch.randperm(len(train_rows)).split(32):
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[batch]).squeeze(1), y_train[batch])
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            eval_loss = loss_fn(model(x_test).squeeze(1), y_test).item()
            accuracy = ((model(x_test).squeeze(1) > 0).float() == y_test).float().mean().item()
        print(f"{{'eval_loss': {eval_loss:.4f}, 'eval_accuracy': {accuracy:.4f}, 'epoch': {float(epoch)}}}", flush=True)

    os.makedirs(args.model_dir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.model_dir, "model.pt"))
    with open(os.path.join(args.model_dir, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    print(f"eval_accuracy = {accuracy}\neval_loss = {eval_loss}")


if __name__ == "__main__":
    main()
