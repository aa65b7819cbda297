#!/usr/bin/env python3
"""Decode and prefill speed of rooflm against llama.cpp, same model, same threads, same run.

Rounds alternate the two engines (rooflm, llama.cpp, rooflm, ...) so both see the same
machine noise; medians and the ratio of medians are printed and written as JSON.

  decode : 128 greedy tokens after a 32-token prompt
           rooflm: `rooflm generate -f P32 -n 128 --temp 0 --json` -> decode_tok_s
           llama.cpp: `llama-bench -p 0 -n 128 -d 32` (tg128 at depth 32)
  prefill: a 512-token prompt
           rooflm: `rooflm generate -f P512 -n 1 --json` -> prefill_tok_s
           llama.cpp: `llama-bench -p 512 -n 0` (pp512)

  roof   : each round also runs `rooflm probe --working-set W` (read bandwidth, all threads, at the
           size W of the weights a decode step reads, from one profiled run's byte counts) so that the
           achieved weight bandwidth (decode tok/s x W) is compared with the roof measured next to it:
           its median 40 ms repetition (what a sustained run sees on a shared host) and its best one.

usage: bench/compare_llamacpp.py [-m MODEL] [-t 2] [--rounds 5] [--json out.json]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LLAMA_BENCH = ROOT / "third_party" / "llamacpp-build" / "bin" / "llama-bench"
TEXT = ("def has_close_elements(numbers, threshold):\n    \"\"\" Check if in given list of numbers, are any two "
        "numbers closer to each other than given threshold. \"\"\"\n    for idx, elem in enumerate(numbers):\n")


def rooflm(binary, model, prompt_file, n, threads):
    out = subprocess.run([binary, "generate", "-m", model, "-f", prompt_file, "-n", str(n), "--temp", "0",
                          "-t", str(threads), "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def llama_bench(model, threads, args):
    out = subprocess.run([str(LLAMA_BENCH), "-m", model, "-t", str(threads), "-r", "1", "-o", "json"] + args,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]["avg_ts"]


MATMUL_OPS = ("qkv", "o", "up/gate/down", "lm_head")


def weight_bytes_per_token(binary, model, prompt_file, threads):
    """Bytes of weight matrices one decode step reads, from rooflm's own profile of a short run."""
    prof = str(ROOT / "out" / "compare_profile.json")
    subprocess.run([binary, "generate", "-m", model, "-f", prompt_file, "-n", "16", "--temp", "0", "-t", str(threads),
                    "--profile", prof], check=True, capture_output=True, text=True)
    p = json.loads(pathlib.Path(prof).read_text())
    total = sum(a["bytes"] for a in p["aggregates"] if a["phase"] == "ar" and a["op"] in MATMUL_OPS)
    return total / p["n_generated"]


def read_roof(binary, bytes_, threads):
    out = subprocess.run([binary, "probe", "--working-set", str(int(bytes_)), "-t", str(threads), "--json"], check=True,
                         capture_output=True, text=True).stdout
    b = json.loads(out)["bandwidth"][0]
    return b["bytes_per_s"], b["median_bytes_per_s"]


def prompt_of(binary, model, tokens, path):
    """Writes a prompt of exactly `tokens` tokens (rooflm's tokenizer) to path."""
    text = TEXT * (tokens // 20 + 2)
    lo, hi = 1, len(text)
    while lo < hi:  # shortest prefix with >= tokens tokens
        mid = (lo + hi) // 2
        pathlib.Path(path).write_text(text[:mid])
        if rooflm(binary, model, path, 0, 1)["n_prompt"] >= tokens:
            hi = mid
        else:
            lo = mid + 1
    pathlib.Path(path).write_text(text[:lo])
    return rooflm(binary, model, path, 0, 1)["n_prompt"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-m", "--model", default=str(ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bin", default=str(ROOT / "build" / "rooflm"))
    ap.add_argument("--json")
    a = ap.parse_args()
    if not LLAMA_BENCH.exists():
        sys.exit(f"{LLAMA_BENCH} missing: run scripts/build_llamacpp.sh first")
    os.makedirs(ROOT / "out", exist_ok=True)
    p32, p512 = str(ROOT / "out" / "prompt32.txt"), str(ROOT / "out" / "prompt512.txt")
    n32, n512 = prompt_of(a.bin, a.model, 32, p32), prompt_of(a.bin, a.model, 512, p512)
    wbytes = weight_bytes_per_token(a.bin, a.model, p32, a.threads)
    res = {k: [] for k in ("rooflm_decode", "llama_decode", "rooflm_prefill", "llama_prefill", "roof_best_gb_s",
                                 "roof_median_gb_s")}
    rss, load = [], []
    for r in range(a.rounds):
        d = rooflm(a.bin, a.model, p32, 128, a.threads)
        res["rooflm_decode"].append(d["decode_tok_s"])
        rss.append(d["peak_rss_mb"])
        load.append(d["load_ms"])
        best, median = read_roof(a.bin, wbytes, a.threads)
        res["roof_best_gb_s"].append(best / 1e9)
        res["roof_median_gb_s"].append(median / 1e9)
        res["llama_decode"].append(llama_bench(a.model, a.threads, ["-p", "0", "-n", "128", "-d", "32"]))
        res["rooflm_prefill"].append(rooflm(a.bin, a.model, p512, 1, a.threads)["prefill_tok_s"])
        res["llama_prefill"].append(llama_bench(a.model, a.threads, ["-p", "512", "-n", "0"]))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in res.items()), flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    achieved = [t * wbytes / 1e9 for t in res["rooflm_decode"]]
    summary = {
        "model": a.model, "threads": a.threads, "rounds": a.rounds, "prompt_tokens": [n32, n512],
        "samples": res, "median": med,
        "decode_ratio": med["rooflm_decode"] / med["llama_decode"],
        "prefill_ratio": med["rooflm_prefill"] / med["llama_prefill"],
        "rooflm_peak_rss_mb": max(rss), "rooflm_load_ms_median": statistics.median(load), "load_avg": os.getloadavg(),
        "weight_bytes_per_token": wbytes, "achieved_gb_s": achieved,
        "achieved_over_median_roof": statistics.median(achieved) / med["roof_median_gb_s"],
        "achieved_over_best_roof": statistics.median(achieved) / med["roof_best_gb_s"],
    }
    print(f"decode  tok/s (128 after {n32}): rooflm {med['rooflm_decode']:.1f}  llama.cpp {med['llama_decode']:.1f}"
          f"  ratio {summary['decode_ratio']:.2f}")
    print(f"prefill tok/s ({n512} tokens):     rooflm {med['rooflm_prefill']:.1f}  llama.cpp {med['llama_prefill']:.1f}"
          f"  ratio {summary['prefill_ratio']:.2f}")
    print(f"decode weight bandwidth: {wbytes / 1e6:.1f} MB/token x {med['rooflm_decode']:.1f} tok/s = "
          f"{statistics.median(achieved):.1f} GB/s\nread roof at {wbytes / 2**20:.0f} MiB (probe --working-set): median run "
          f"{med['roof_median_gb_s']:.1f} GB/s, best run {med['roof_best_gb_s']:.1f} GB/s; achieved/roof "
          f"{summary['achieved_over_median_roof']:.2f} of the median, {summary['achieved_over_best_roof']:.2f} of the best")
    print(f"rooflm peak RSS {max(rss):.0f} MB, load {summary['rooflm_load_ms_median']:.0f} ms (median); "
          f"load average {summary['load_avg']}")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
