#!/usr/bin/env python3
"""Speculative-decoding benchmark: decode tok/s of each --spec mode vs plain decoding.

Runs `rooflm generate --json` on HumanEval prompts (raw completion) and MT-Bench first turns
(through the chat template), N new tokens each, greedy by default. For every prompt the modes
run back to back in an order that rotates from prompt to prompt (so slow drifts of a shared
machine hit every mode alike), `--reps` times; the per-prompt figure is the median over reps.
Reported per suite and mode: median decode tok/s, median speedup over `none` (per prompt,
then the median), tokens per target step, acceptance by depth (fraction of steps that reached
a depth and accepted a candidate there), draft/verify time shares, and whether the greedy
tokens equal plain decoding's.

  python3 bench/spec_bench.py --bin build/rooflm --model models/SmolLM2-135M-Instruct.Q4_1.gguf \
      --modes none,chain,tree,staged --prompts 10 -n 128 --out spec_bench.json
  # draft-model modes (SmolLM2 drafting for itself is the only same-tokenizer pair we have):
  python3 bench/spec_bench.py ... --draft models/SmolLM2-135M-Instruct.Q4_1.gguf --modes none,staged
  # extra generate flags for the speculative modes, e.g. a tree size sweep:
  python3 bench/spec_bench.py ... --modes none,staged --spec-args "--tree-size 16"
  # an n-gram corpus of the model's own greedy outputs on held-out prompts (HumanEval 40+,
  # raw; MT-Bench second turns, chat), disjoint from the benchmark prompts (--prompts <= 40):
  python3 bench/spec_bench.py ... --make-corpus selfcorpus.txt
  python3 bench/spec_bench.py ... --spec-args "--ngram-corpus selfcorpus.txt"
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BENCH_DIR = "/work/shared/bench"


def load_prompts(suite, count, skip):
    if suite == "humaneval":
        path = os.path.join(BENCH_DIR, "humaneval_prompts.jsonl")
        rows = [json.loads(l) for l in open(path) if l.strip()]
        return [(r["task_id"], r["prompt"], False) for r in rows[skip:skip + count]]
    path = os.path.join(BENCH_DIR, "mt_bench.jsonl")
    rows = [json.loads(l) for l in open(path) if l.strip()]
    return [("mt_bench/%s" % r["question_id"], r["turns"][0], True) for r in rows[skip:skip + count]]


def run_one(args, mode, prompt_text, chat, tmpfile):
    with open(tmpfile, "w") as f:
        f.write(prompt_text)
    cmd = [args.bin, "generate", "-m", args.model, "-f", tmpfile, "-n", str(args.n), "--json", "-t", str(args.threads),
           "--temp", str(args.temp), "--seed", str(args.seed)]
    if chat:
        cmd.append("--chat")
    if mode != "none":
        cmd += ["--spec", mode]
        if args.draft:
            cmd += ["-d", args.draft]
        if args.spec_args:
            cmd += args.spec_args.split()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("rooflm failed (%s): %s" % (" ".join(cmd), p.stderr.strip()))
    return json.loads(p.stdout)


def make_corpus(args):
    he = [json.loads(l) for l in open(os.path.join(BENCH_DIR, "humaneval_prompts.jsonl")) if l.strip()][40:]
    mt = [json.loads(l) for l in open(os.path.join(BENCH_DIR, "mt_bench.jsonl")) if l.strip()]
    jobs = [(r["prompt"], False) for r in he] + [(r["turns"][1], True) for r in mt]
    tmp = "/tmp/spec_bench_corpus_%d.txt" % os.getpid()
    saved_n = args.n
    args.n = args.corpus_tokens
    with open(args.make_corpus, "w") as out:
        for i, (text, chat) in enumerate(jobs):
            d = run_one(args, "none", text, chat, tmp)
            out.write(("" if chat else text) + d["text"] + "\n\n")
            print("corpus %d/%d" % (i + 1, len(jobs)), file=sys.stderr, end="\r", flush=True)
    args.n = saved_n
    os.path.exists(tmp) and os.remove(tmp)
    print("\nwrote %s" % args.make_corpus, file=sys.stderr)


def looping(tokens):
    """A greedy output that repeats itself: under half of its 4-grams are distinct (such loops
    are trivially easy to draft, so speedups are also reported without them)."""
    grams = [tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3)]
    return len(grams) > 0 and len(set(grams)) < 0.5 * len(grams)


def summarize(results, modes):
    out = {}
    base = {pid: r["none"] for pid, r in results.items() if "none" in r}
    loops = {pid for pid, runs in base.items() if looping(runs[0]["tokens"])}
    for mode in modes:
        rows = [(pid, r[mode]) for pid, r in results.items() if mode in r]
        if not rows:
            continue
        tok_s = [statistics.median(x["decode_tok_s"] for x in runs) for _, runs in rows]
        speed, speed_no_loops = [], []
        same = 0
        for pid, runs in rows:
            if pid in base:
                speed.append(statistics.median(x["decode_tok_s"] for x in runs) /
                             statistics.median(x["decode_tok_s"] for x in base[pid]))
                if pid not in loops:
                    speed_no_loops.append(speed[-1])
                same += runs[0]["tokens"] == base[pid][0]["tokens"]
        gen = sum(runs[0]["n_generated"] for _, runs in rows)
        steps = sum(runs[0]["target_steps"] for _, runs in rows)
        s = {"prompts": len(rows), "median_tok_s": statistics.median(tok_s),
             "median_speedup": statistics.median(speed) if speed else None,
             "looping_share": len(loops) / len(base) if base else None,
             "median_speedup_no_loops": statistics.median(speed_no_loops) if speed_no_loops else None,
             "drafter": rows[0][1][0].get("drafter", ""),
             "tokens_per_step": gen / steps if steps else 0.0,
             "same_tokens_as_none": "%d/%d" % (same, len(speed))}
        if mode != "none":
            acc, off = [], []
            for _, runs in rows:
                a, o = runs[0].get("accepted_at_depth", []), runs[0].get("offered_at_depth", [])
                for d in range(len(o)):
                    if d >= len(acc):
                        acc.append(0)
                        off.append(0)
                    acc[d] += a[d]
                    off[d] += o[d]
            s["acceptance_by_depth"] = [round(a / o, 3) if o else 0.0 for a, o in zip(acc, off)]
            s["draft_share"] = statistics.median(runs[0].get("draft_share", 0) for _, runs in rows)
            s["verify_share"] = statistics.median(runs[0].get("verify_share", 0) for _, runs in rows)
            s["mean_tree_nodes"] = statistics.median(runs[0].get("mean_tree_nodes", 0) for _, runs in rows)
        out[mode] = s
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/rooflm")
    ap.add_argument("--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--draft", default="", help="draft model for chain/tree/staged (default: n-gram drafters)")
    ap.add_argument("--modes", default="none,chain,tree,staged")
    ap.add_argument("--suites", default="humaneval,mt_bench")
    ap.add_argument("--prompts", type=int, default=10, help="prompts per suite")
    ap.add_argument("--skip", type=int, default=0, help="skip the first prompts of each suite")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--temp", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--spec-args", default="", help="extra generate flags for the speculative modes")
    ap.add_argument("--out", default="", help="write all runs and the summary as JSON")
    ap.add_argument("--make-corpus", default="", help="write a held-out corpus of the model's outputs and exit")
    ap.add_argument("--corpus-tokens", type=int, default=192, help="tokens per corpus document")
    args = ap.parse_args()
    if args.make_corpus:
        make_corpus(args)
        return
    modes = args.modes.split(",")
    tmp = "/tmp/spec_bench_prompt_%d.txt" % os.getpid()
    report = {"config": vars(args), "suites": {}}
    t_start = time.time()
    for suite in args.suites.split(","):
        results = {}
        for i, (pid, text, chat) in enumerate(load_prompts(suite, args.prompts, args.skip)):
            results[pid] = {}
            for rep in range(args.reps):
                k = (i + rep) % len(modes)
                for mode in modes[k:] + modes[:k]:
                    results[pid].setdefault(mode, []).append(run_one(args, mode, text, chat, tmp))
            line = " ".join("%s %.1f" % (m, statistics.median(x["decode_tok_s"] for x in results[pid][m])) for m in modes)
            print("[%s] %s  tok/s: %s" % (suite, pid, line), file=sys.stderr, flush=True)
        summary = summarize(results, modes)
        report["suites"][suite] = {"summary": summary,
                                   "runs": {pid: {m: [{k: v for k, v in x.items() if k != "text"} for x in runs]
                                                  for m, runs in r.items()} for pid, r in results.items()}}
        print("\n== %s (%d prompts, n=%d, temp %g, %s) ==" % (suite, len(results), args.n, args.temp,
                                                              "draft " + args.draft if args.draft else "default drafters, see each row"))
        print("%-8s %9s %8s %8s %8s %7s %6s %6s  %s" % ("mode", "tok/s", "speedup", "no-loops", "tok/step", "nodes",
                                                        "draft", "verify", "acceptance by depth"))
        for mode, s in summary.items():
            sp = "%.2fx" % s["median_speedup"] if s["median_speedup"] else "-"
            nl = "%.2fx" % s["median_speedup_no_loops"] if s["median_speedup_no_loops"] else "-"
            print("%-8s %9.1f %8s %8s %8.2f %7.1f %5.0f%% %5.0f%%  %s  (greedy same as none: %s) %s" % (
                mode, s["median_tok_s"], sp, nl, s["tokens_per_step"], s.get("mean_tree_nodes", 1),
                100 * s.get("draft_share", 0), 100 * s.get("verify_share", 1),
                s.get("acceptance_by_depth", ""), s["same_tokens_as_none"], s.get("drafter", "")))
        loop_share = next(iter(summary.values())).get("looping_share")
        if loop_share is not None:
            print("looping outputs (under half of the 4-grams distinct): %.0f%% of prompts" % (100 * loop_share))
    os.path.exists(tmp) and os.remove(tmp)
    print("\n(%.0f s)" % (time.time() - t_start), file=sys.stderr)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
