#!/usr/bin/env python3
"""The Dockerfiles, checked without a Docker engine (none runs on our machines):

- they parse (dockerfile-parse), every base image is pinned to a version tag, stages referenced by
  COPY --from exist, and every COPY source exists in the repository and is not excluded by
  .dockerignore;
- the final stage's ENTRYPOINT is exactly ["train"] (so `docker run IMAGE train` and `docker run
  IMAGE` both run the job), PATH holds the installed binaries, and all three are installed;
- the pins agree with the project's requirements (the same torch as the build here);
- the CPU image's runtime packages provide every shared library our binaries need (read from the
  binaries built here with readelf, mapped to Debian packages with dpkg -S), libtorch and Arrow
  aside (they come with the venv the image copies).

usage: dockerfiles_test.py SOURCE_DIR BIN_DIR
"""
import fnmatch
import glob
import os
import re
import subprocess
import sys

from dockerfile_parse import DockerfileParser

src, bin_dir = (os.path.abspath(a) for a in sys.argv[1:3])
ignored = [l.strip() for l in open(os.path.join(src, ".dockerignore")) if l.strip() and not l.startswith("#")]
torch_pin = next(l.strip() for l in open(os.path.join(src, "requirements/torch.txt")) if l.startswith("torch=="))


def instructions(path):
    parser = DockerfileParser(fileobj=open(path, "rb"))
    args = {}
    for i in parser.structure:  # ARG defaults before the first FROM name the base images
        if i["instruction"] == "ARG" and "=" in i["value"]:
            k, v = i["value"].split("=", 1)
            args[k] = v
    return parser, args


def apt_packages(parser, final_stage_only=True):
    """The packages the final stage (or every stage) installs with apt-get."""
    stages = [i for i in parser.structure if i["instruction"] == "FROM"]
    after = stages[-1]["startline"] if final_stage_only else -1
    text = " ".join(i["value"] for i in parser.structure if i["instruction"] == "RUN" and i["startline"] > after)
    packages = set()
    for m in re.finditer(r"apt-get install -y --no-install-recommends(.*?)&&", text):
        packages.update(p for p in m.group(1).split() if p != "\\")
    return packages


def run_packages(parser):
    return apt_packages(parser)


for name in ("Dockerfile.cpu", "Dockerfile.cuda"):
    path = os.path.join(src, "docker", name)
    parser, args = instructions(path)
    stages = []
    for i in parser.structure:
        if i["instruction"] == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], i["value"].split()[0])
            assert ":" in image and not image.endswith(":latest"), f"{name}: base image {image} is not pinned"
            assert re.search(r":\d", image), f"{name}: base image {image} has no version tag"
            stages.append(i["value"].split()[-1] if " AS " in i["value"].upper() else None)
        if i["instruction"] == "COPY":
            parts = i["value"].split()
            if parts[0].startswith("--from="):
                assert parts[0][7:] in stages, f"{name}: COPY --from={parts[0][7:]}: no such stage"
                continue
            for source in parts[:-1]:
                matches = glob.glob(os.path.join(src, source))
                assert matches, f"{name}: COPY {source}: not in the repository"
                assert not any(fnmatch.fnmatch(source, pat) or source.startswith(pat + "/") for pat in ignored), \
                    f"{name}: COPY {source} is excluded by .dockerignore"
        if i["instruction"] == "RUN" and "pip install" in i["value"]:
            for req in re.findall(r"-r (\S+)", i["value"]):
                assert os.path.isfile(os.path.join(src, req.replace("/src/", ""))), f"{name}: {req} missing"
    final = [i for i in parser.structure if i["instruction"] in ("ENTRYPOINT", "CMD")]
    assert final and final[-1]["instruction"] == "ENTRYPOINT" and final[-1]["value"] == '["train"]', final
    env = " ".join(i["value"] for i in parser.structure if i["instruction"] == "ENV")
    assert "PATH=/opt/trainrt/bin:" in env and "TRAINRT_PYTHON=/opt/trainrt/venv/bin/python" in env, env
    runs = " ".join(i["value"] for i in parser.structure if i["instruction"] == "RUN")
    for binary in ("train", "trainrt", "trainrt-finetune"):
        assert f"/src/build/bin/{binary} " in runs + " ", f"{name}: {binary} is not installed"
    assert "requirements/torch.txt" in runs, f"{name}: torch is not installed from the pinned requirements"
    assert "openmpi-bin" in run_packages(parser) and "openssh-server" in run_packages(parser), name
    bases = sorted(v for k, v in args.items() if k.endswith("_IMAGE"))
    print(f"ok: docker/{name}: parses, pinned bases {bases}, COPY sources exist, "
          f"ENTRYPOINT [\"train\"], {torch_pin}")

# The CPU image (Debian 12, as this machine) must install what our binaries link.
parser, _ = instructions(os.path.join(src, "docker", "Dockerfile.cpu"))
installed = run_packages(parser)
needed = set()
for binary in ("train", "trainrt", "trainrt-finetune"):
    dynamic = subprocess.run(["readelf", "-d", os.path.join(bin_dir, binary)], capture_output=True, text=True).stdout
    for lib in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic):
        found = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
        m = re.search(r"\s" + re.escape(lib) + r" \(libc6,x86-64\) => (\S+)", found)
        if not m:
            continue  # not a system library: libtorch, Arrow, CUDA (the venv and the base image bring them)
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(m.group(1))], capture_output=True, text=True).stdout
        package = owner.split(":")[0]
        if package and package not in ("libc6", "libgcc-s1"):  # in every Debian image
            needed.add(package)
missing = needed - installed
assert not missing, f"docker/Dockerfile.cpu runtime stage lacks {sorted(missing)} (needed by the binaries)"
print(f"ok: docker/Dockerfile.cpu installs every system library the binaries need: {sorted(needed)}")

# Its base is Debian 12, as this machine: every package it names must exist in the archive.
for package in sorted(apt_packages(parser, final_stage_only=False)):
    shown = subprocess.run(["apt-cache", "show", "--no-all-versions", package], capture_output=True, text=True)
    assert shown.returncode == 0 and "Package: " in shown.stdout, f"docker/Dockerfile.cpu: no Debian 12 package {package}"
print(f"ok: docker/Dockerfile.cpu: all {len(apt_packages(parser, False))} apt packages exist in Debian 12")

# The build stage sees only what it COPYs: configure exactly that tree (no tests/, no scripts/) as
# the Dockerfile does, against this machine's venv.
import shutil
import tempfile

parser, _ = instructions(os.path.join(src, "docker", "Dockerfile.cpu"))
tree = tempfile.mkdtemp(prefix="trainrt-image-src-")
for i in parser.structure:
    parts = i["value"].split()
    if i["instruction"] == "COPY" and not parts[0].startswith("--from=") and parts[-1].startswith("/src"):
        for source in parts[:-1]:
            dest = os.path.join(tree, parts[-1][len("/src/"):] if len(parts) == 2 and not parts[-1].endswith("/")
                                else os.path.join(parts[-1][len("/src/"):], os.path.basename(source)))
            os.makedirs(os.path.dirname(dest) or tree, exist_ok=True)
            (shutil.copytree if os.path.isdir(os.path.join(src, source)) else shutil.copy)(os.path.join(src, source), dest)
# The build stage fetches the Jinja engine (RUN scripts/fetch_jinja.sh /src/.third_party/llama-jinja):
# the same pinned copy setup.sh fetched here stands in for that download.
fetch = [i["value"] for i in parser.structure if i["instruction"] == "RUN" and "fetch_jinja.sh" in i["value"]]
assert fetch and "/src/.third_party/llama-jinja" in fetch[0], "docker/Dockerfile.cpu: the build stage must run fetch_jinja.sh"
shutil.copytree(os.path.join(src, ".third_party", "llama-jinja"), os.path.join(tree, ".third_party", "llama-jinja"))
python = os.path.join(src, ".venv", "bin", "python")
configure = subprocess.run(["cmake", "-S", tree, "-B", tree + "/build", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                            "-DTRAINRT_BUILD_TESTS=OFF", f"-DTRAINRT_PYTHON={python}"], capture_output=True, text=True)
assert configure.returncode == 0, f"the image's source tree does not configure:\n{configure.stdout}\n{configure.stderr}"
shutil.rmtree(tree)
print("ok: the files the build stage copies configure on their own (cmake, tests off)")
