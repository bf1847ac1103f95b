#!/usr/bin/env python3
"""Hub downloads of trainrt-finetune against a local stand-in for the Hugging Face Hub (HF_ENDPOINT;
tests use no network): a repository id that is not local is fetched into the hub cache layout
(refs/main, snapshots/<commit>/) following the CDN redirect, used offline afterwards
(HF_HUB_OFFLINE=1) and by transformers too; a missing repository and a private one without
HF_TOKEN fail with the URL and the HTTP status; HF_TOKEN opens the private one.

usage: hub_download_test.py TRAINRT_FINETUNE SOURCE_DIR
"""
import http.server
import json
import os
import subprocess
import sys
import threading

from finetune_harness import Runs

finetune, src = (os.path.abspath(a) for a in sys.argv[1:3])
runs = Runs(src, finetune, prefix="trainrt-hub-", train=16, test=4)
model = runs.path("model0")
COMMIT = "0123456789abcdef0123456789abcdef01234567"
requests = []


class Hub(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        requests.append(self.path)
        parts = self.path.strip("/").split("/")
        if parts[:2] == ["api", "models"]:
            repo = "/".join(parts[2:4])
            if repo == "org/private" and self.headers.get("Authorization") != "Bearer secret":
                return self.send(401)
            if repo not in ("org/tiny", "org/private"):
                return self.send(404)
            files = sorted(os.listdir(model)) + ["README.md"]
            body = json.dumps({"sha": COMMIT, "siblings": [{"rfilename": f} for f in files]}).encode()
            return self.send(200, body, [("Content-Type", "application/json")])
        if len(parts) == 5 and parts[2] == "resolve" and parts[3] == COMMIT:
            return self.send(302, headers=[("Location", f"/cdn/{parts[4]}")])  # as the Hub sends weights away
        if parts[0] == "cdn" and os.path.isfile(os.path.join(model, parts[1])):
            return self.send(200, open(os.path.join(model, parts[1]), "rb").read())
        return self.send(404)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = f"http://127.0.0.1:{server.server_address[1]}"
hf_home = runs.path("hf")
ENV = dict(os.environ, HF_ENDPOINT=endpoint, HF_HOME=hf_home)
ENV.pop("HF_TOKEN", None)
ARGS = ["--epochs", "1", "--per_device_train_batch_size", "4", "--save_strategy", "no"]


def finetune_run(name, repo, env, expect_rc=0):
    p = subprocess.run([finetune] + runs.args(name, "model0", ARGS + ["--model_name_or_path", repo]), env=env,
                       capture_output=True, text=True)
    assert p.returncode == expect_rc, f"{name}: exit {p.returncode}\n{p.stderr}"
    return p


p = finetune_run("download", "org/tiny", ENV)
assert "is not local: downloading it from " + endpoint in p.stderr, p.stderr
snapshot = os.path.join(hf_home, "hub", "models--org--tiny", "snapshots", COMMIT)
assert open(os.path.join(hf_home, "hub", "models--org--tiny", "refs", "main")).read() == COMMIT
assert sorted(os.listdir(snapshot)) == sorted(os.listdir(model)), os.listdir(snapshot)
assert not any("README" in r for r in requests), "only the files the fine-tuner uses are fetched"
assert os.path.isfile(runs.path("download", "model", "model.safetensors"))
print(f"ok: org/tiny downloaded into the hub cache ({len(requests)} requests, CDN redirects followed) and trained")

before = len(requests)
finetune_run("offline", "org/tiny", dict(ENV, HF_HUB_OFFLINE="1"))
assert len(requests) == before, "an offline run asked the Hub"
subprocess.run([sys.executable, "-c", "from transformers import AutoConfig; AutoConfig.from_pretrained('org/tiny')"],
               env=dict(ENV, HF_HUB_OFFLINE="1"), check=True, capture_output=True)
print("ok: the cached snapshot serves offline runs, and transformers reads the same cache")

p = finetune_run("missing", "org/missing", ENV, expect_rc=1)
assert f"{endpoint}/api/models/org/missing/revision/main: HTTP 404" in p.stderr, p.stderr
p = finetune_run("private", "org/private", ENV, expect_rc=1)
assert "HTTP 401 (a private or gated repository: set HF_TOKEN)" in p.stderr, p.stderr
p = finetune_run("private_ok", "org/private", dict(ENV, HF_TOKEN="secret"))
p = finetune_run("offline_missing", "org/other", dict(ENV, HF_HUB_OFFLINE="1"), expect_rc=1)
assert "offline: HF_HUB_OFFLINE is set" in p.stderr, p.stderr
print("ok: a missing repository (404), a private one without HF_TOKEN (401) and offline misses fail clearly; "
      "HF_TOKEN opens the private one")
server.shutdown()
