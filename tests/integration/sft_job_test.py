"""The supervised fine-tuning job of the README, through `train` as SageMaker runs it: a generated
/opt/ml tree (examples/sft/make_sft_job.py: a small Llama-architecture causal LM, prompt/completion
data, TRL's hyperparameter names as the SDK encodes them) succeeds, prints the eval loss and
perplexity, and leaves a model folder that transformers loads alone and evaluates (with TRL's
SFTTrainer) to the same eval loss, and that generates.

usage: sft_job_test.py TRAIN SOURCE_DIR
"""
import json
import math
import os
import subprocess
import sys
import tempfile

from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

train, src = sys.argv[1:3]
with tempfile.TemporaryDirectory() as work:
    base = os.path.join(work, "opt", "ml")
    subprocess.run([sys.executable, os.path.join(src, "examples/sft/make_sft_job.py"), base, "--train", "800",
                    "--test", "64"], check=True, capture_output=True)
    p = subprocess.run([train], env=dict(os.environ, SAGEMAKER_BASE_DIR=base, TRAINRT_NUM_GPUS="0"),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert os.path.exists(os.path.join(base, "output", "success"))
    assert "prompt-completion data, loss on the completions" in p.stderr, p.stderr
    results = dict(line.split(" = ") for line in open(os.path.join(base, "output", "data", "eval_results.txt"))
                   .read().splitlines())
    ours = float(results["eval_loss"])
    assert abs(float(results["perplexity"]) - math.exp(ours)) < 1e-9 * math.exp(ours), results
    assert "'loss': " in p.stdout and "'eval_loss': " in p.stdout, p.stdout

    exported = os.path.join(base, "model")
    config = json.load(open(os.path.join(exported, "config.json")))
    assert config["architectures"] == ["LlamaForCausalLM"] and config["tie_word_embeddings"], config
    tok = AutoTokenizer.from_pretrained(exported)
    model = AutoModelForCausalLM.from_pretrained(exported)
    rows = [json.loads(line) for line in open(os.path.join(base, "input", "data", "test", "data.jsonl"))]
    args = SFTConfig(output_dir=os.path.join(work, "trl"), per_device_eval_batch_size=8, max_length=64,
                     report_to="none", use_cpu=True, bf16=False, disable_tqdm=True)
    theirs = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                        eval_dataset=Dataset.from_list(rows), processing_class=tok).evaluate()["eval_loss"]
    assert abs(theirs - ours) <= 1e-4 * ours, (theirs, ours)
    prompt = tok("Question: what is 12 + 7?\nAnswer:", return_tensors="pt")
    out = model.generate(**prompt, max_new_tokens=3, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]
    print(f"ok: the SFT job through train succeeds (eval loss {ours:.6f}); transformers loads the export and "
          f"evaluates it to {theirs:.6f}")
