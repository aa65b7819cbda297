#!/usr/bin/env python3
"""Decode speed of two rooflm binaries (an old and a new build), alternating round by round.

For changes that cannot be switched at run time (a data layout), so build/rooflm_ab cannot pair
them in one process. Each round runs `generate -f P -n 128 --temp 0 -t T --json` once with each
binary, the order alternating; printed: each binary's decode tok/s per round and median, and the
median of the per-round ratios new/old. The prompt is TEXT of bench/compare_llamacpp.py.

  git worktree add /tmp/old <commit> && cmake -S /tmp/old -B /tmp/old/build && cmake --build /tmp/old/build --target rooflm
  python3 bench/ab_binaries.py /tmp/old/build/rooflm build/rooflm --rounds 12
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from compare_llamacpp import TEXT  # noqa: E402


def decode_tok_s(binary, model, prompt_file, n, threads):
    out = subprocess.run([binary, "generate", "-m", model, "-f", prompt_file, "-n", str(n), "--temp", "0", "-t",
                          str(threads), "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["decode_tok_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("-m", "--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-t", "--threads", type=int, default=2)
    a = ap.parse_args()
    for b in (a.old, a.new):
        if not pathlib.Path(b).is_file():
            sys.exit(f"ab_binaries.py: {b}: no such binary")
    if a.rounds < 1:
        sys.exit("ab_binaries.py: --rounds: expected at least 1")
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write(TEXT)
        f.flush()
        res = {a.old: [], a.new: []}
        for r in range(a.rounds):
            for b in ((a.old, a.new) if r % 2 == 0 else (a.new, a.old)):
                res[b].append(decode_tok_s(b, a.model, f.name, a.n, a.threads))
    ratios = [y / x for x, y in zip(res[a.old], res[a.new])]
    for name, b in (("old", a.old), ("new", a.new)):
        print(f"{name} {b}: {[round(v, 1) for v in res[b]]} median {statistics.median(res[b]):.1f} tok/s")
    print(f"new/old per round: {[round(x, 3) for x in ratios]}; median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
