#!/usr/bin/env python3
"""llama.cpp benchmark peer for rooflm.

Runs the llama.cpp binaries built by scripts/build_llamacpp.sh with the same
settings rooflm's benchmarks use and reports (text + JSON):

  pp512        prefill tok/s for a 512-token prompt            (llama-bench -p 512 -n 0)
  tg128        decode tok/s, 128 tokens on an empty context    (llama-bench -p 0 -n 128)
  tg128@d32    decode tok/s, 128 tokens after a 32-token prompt (llama-bench -p 0 -n 128 -d 32)
  peak RSS     of each llama-bench process (os.wait4 ru_maxrss)

Medians over --reps repetitions (llama-bench's own per-repetition samples).
With --alternate CMD the reps are interleaved: llama-bench -r 1, then CMD
(e.g. the matching rooflm bench), then llama-bench again, ... so both engines
see the same machine noise; CMD's stdout (parsed as JSON when possible) and
wall time are recorded per rep.

With --prompts FILE.jsonl (one {"prompt": ...} per line; "text" also accepted)
it also runs, per prompt, llama-lookup (prompt-lookup / n-gram decoding) and,
when --draft is given, llama-speculative (draft model), and parses their
decode tok/s and acceptance (n_drafted, n_accept, accept %).

Examples:
  python3 bench/peer_llamacpp.py                      # default model, -t 2, 5 reps
  python3 bench/peer_llamacpp.py -t 1 --json out/llamacpp_t1.json
  python3 bench/peer_llamacpp.py --alternate 'build/rooflm bench --json'
  python3 bench/peer_llamacpp.py --prompts bench/prompts.jsonl --draft models/draft.gguf --skip-bench
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shlex
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "third_party" / "llamacpp-build" / "bin"
DEFAULT_MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def run_with_rusage(cmd: list[str], timeout: float | None = None) -> tuple[int, str, str, float, int]:
    """Run cmd; return (rc, stdout, stderr, wall_s, peak_rss_kib) of that child alone
    (ru_maxrss via os.wait4 on the child's pid)."""
    import tempfile
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True)
        deadline = None if timeout is None else t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if deadline and time.perf_counter() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.01)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return p.returncode, fo.read(), fe.read(), wall, int(ru.ru_maxrss)  # KiB on Linux


def median(xs):
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- llama-bench

BENCH_TESTS = {
    # name: extra llama-bench args
    "pp512": ["-p", "512", "-n", "0"],
    "tg128": ["-p", "0", "-n", "128"],
    "tg128@d32": ["-p", "0", "-n", "128", "-d", "32"],
}


def llama_bench_once(model: str, threads: int, test_args: list[str], reps: int, extra: list[str]) -> dict:
    cmd = [str(BIN / "llama-bench"), "-m", model, "-t", str(threads), "-r", str(reps),
           "-o", "json", *test_args, *extra]
    rc, out, err, wall, rss = run_with_rusage(cmd)
    if rc != 0:
        raise RuntimeError(f"llama-bench failed ({rc}): {' '.join(cmd)}\n{err[-2000:]}")
    rows = json.loads(out)
    if len(rows) != 1:
        raise RuntimeError(f"expected one llama-bench result row, got {len(rows)}")
    row = rows[0]
    return {"samples_ts": row.get("samples_ts") or [row["avg_ts"]], "row": row,
            "peak_rss_kib": rss, "wall_s": wall, "cmd": cmd}


def run_benches(args) -> dict:
    res = {}
    alt_log = []
    for name in args.tests:
        targs = BENCH_TESTS[name]
        if args.alternate:
            samples, rss, rows = [], [], []
            for i in range(args.reps):
                r = llama_bench_once(args.model, args.threads, targs, 1, args.bench_args)
                samples += r["samples_ts"]
                rss.append(r["peak_rss_kib"])
                rows.append(r["row"])
                rc, out, err, wall, orss = run_with_rusage(shlex.split(args.alternate) if not args.alternate_shell
                                                           else ["bash", "-c", args.alternate])
                try:
                    parsed = json.loads(out)
                except Exception:
                    parsed = None
                alt_log.append({"test": name, "rep": i, "rc": rc, "wall_s": round(wall, 4),
                                "peak_rss_kib": orss, "json": parsed,
                                "stdout_tail": None if parsed is not None else out[-2000:]})
            row = rows[-1]
            peak = max(rss)
        else:
            r = llama_bench_once(args.model, args.threads, targs, args.reps, args.bench_args)
            samples, row, peak = r["samples_ts"], r["row"], r["peak_rss_kib"]
        res[name] = {
            "median_tok_s": round(median(samples), 3),
            "min_tok_s": round(min(samples), 3),
            "max_tok_s": round(max(samples), 3),
            "samples_tok_s": [round(s, 3) for s in samples],
            "n_prompt": row.get("n_prompt"), "n_gen": row.get("n_gen"), "n_depth": row.get("n_depth"),
            "peak_rss_mib": round(peak / 1024, 1),
        }
        res.setdefault("_meta", {
            "build_commit": row.get("build_commit"), "cpu_info": row.get("cpu_info"),
            "backends": row.get("backends"), "model_type": row.get("model_type"),
            "model_size": row.get("model_size"), "model_n_params": row.get("model_n_params"),
            "n_threads": row.get("n_threads"), "n_batch": row.get("n_batch"),
            "n_ubatch": row.get("n_ubatch"), "type_k": row.get("type_k"), "type_v": row.get("type_v"),
            "flash_attn": row.get("flash_attn"), "repack": row.get("repack"),
            "use_mmap": row.get("use_mmap"),
        })
    if alt_log:
        res["_alternate"] = {"cmd": args.alternate, "runs": alt_log}
    return res


# ------------------------------------------------------- speculative / lookup

RE_ENC = re.compile(r"encoded\s+(\d+) tokens in\s+([\d.]+) seconds, speed:\s+([\d.]+) t/s")
RE_DEC = re.compile(r"decoded\s+(\d+) tokens in\s+([\d.]+) seconds, speed:\s+([\d.]+) t/s")
# common/log prefixes lines with e.g. "0.00.868.876 I " when stderr is not a tty
RE_KV = re.compile(r"^(?:[\d.]+ [A-Z] )?\s*(n_draft|n_predict|n_drafted|n_accept|accept)\s*=\s*([\d.]+)%?", re.M)


def parse_spec_output(text: str) -> dict:
    d = {}
    m = RE_ENC.search(text)
    if m:
        d["prompt_tokens"], d["prompt_s"], d["prompt_tok_s"] = int(m[1]), float(m[2]), float(m[3])
    m = RE_DEC.search(text)
    if m:
        d["decoded_tokens"], d["decode_s"], d["decode_tok_s"] = int(m[1]), float(m[2]), float(m[3])
    for k, v in RE_KV.findall(text):
        if k not in d:  # first block is the summary; later "draft:"/"target:" perf blocks differ
            d[k] = float(v) if k == "accept" else int(v)
    if "accept" in d:
        d["accept_pct"] = d.pop("accept")
    if d.get("n_drafted"):
        d["accept_rate"] = round(d["n_accept"] / d["n_drafted"], 4)
    return d


def load_prompts(path: str) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            text = o.get("prompt", o.get("text"))
            if text is None:
                raise ValueError(f"{path}:{i + 1}: no 'prompt' or 'text' key")
            out.append({"id": o.get("id", o.get("name", i)), "prompt": text})
    return out


def run_spec(args) -> list[dict]:
    prompts = load_prompts(args.prompts)
    common = ["-m", args.model, "-t", str(args.threads), "-n", str(args.n_predict),
              "--temp", "0", "-s", "1", "-c", str(args.ctx)]
    modes = []
    if args.draft:
        modes.append(("speculative", [str(BIN / "llama-speculative"), *common, "-md", args.draft,
                                      "-td", str(args.threads),
                                      "--spec-draft-n-max", str(args.draft_max),
                                      # -np > 1: llama-speculative drafts a tree of sequences
                                      "-np", str(args.draft_np), "--spec-draft-p-split", str(args.p_split)]))
    modes.append(("lookup", [str(BIN / "llama-lookup"), *common,
                             "--spec-draft-n-max", str(args.lookup_max)]))
    results = []
    for pr in prompts:
        for mode, base in modes:
            cmd = [*base, "-p", pr["prompt"], *args.spec_args]
            rc, out, err, wall, rss = run_with_rusage(cmd, timeout=args.timeout)
            d = parse_spec_output(out + "\n" + err)
            d.update({"id": pr["id"], "mode": mode, "rc": rc, "wall_s": round(wall, 3),
                      "peak_rss_mib": round(rss / 1024, 1)})
            if rc != 0:
                d["stderr_tail"] = err[-1500:]
            results.append(d)
            print(f"  [{mode:11s}] {str(pr['id']):>12}: decode {d.get('decode_tok_s', float('nan')):8.2f} tok/s, "
                  f"accept {d.get('accept_pct', float('nan')):6.2f}% "
                  f"({d.get('n_accept', '?')}/{d.get('n_drafted', '?')})  rc={rc}", flush=True)
    summary = {}
    for mode, _ in modes:
        rs = [r for r in results if r["mode"] == mode and r["rc"] == 0 and "decode_tok_s" in r]
        if rs:
            summary[mode] = {
                "median_decode_tok_s": median([r["decode_tok_s"] for r in rs]),
                "total_accept_rate": round(sum(r.get("n_accept", 0) for r in rs) /
                                           max(1, sum(r.get("n_drafted", 0) for r in rs)), 4),
                "n_prompts": len(rs),
            }
    return {"per_prompt": results, "summary": summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", default=str(DEFAULT_MODEL))
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-r", "--reps", type=int, default=5)
    ap.add_argument("--tests", default="pp512,tg128,tg128@d32",
                    help="comma list from: " + ",".join(BENCH_TESTS))
    ap.add_argument("--bench-args", default="", help="extra args passed to llama-bench (quoted)")
    ap.add_argument("--alternate", default=None,
                    help="command to run after every single llama-bench repetition (interleaved A/B)")
    ap.add_argument("--alternate-shell", action="store_true", help="run --alternate via bash -c")
    ap.add_argument("--skip-bench", action="store_true", help="only run the --prompts part")
    ap.add_argument("--prompts", default=None, help="JSONL of prompts for llama-speculative/llama-lookup")
    ap.add_argument("--draft", default=None, help="draft model GGUF for llama-speculative")
    ap.add_argument("--n-predict", type=int, default=128)
    ap.add_argument("--draft-max", type=int, default=8)
    ap.add_argument("--draft-np", type=int, default=1,
                    help="llama-speculative draft sequences (-np); >1 gives tree drafting")
    ap.add_argument("--p-split", type=float, default=0.1, help="llama-speculative --draft-p-split")
    ap.add_argument("--lookup-max", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--spec-args", default="", help="extra args for llama-speculative/llama-lookup")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", default=None, help="write results here (default: stdout only)")
    args = ap.parse_args()
    args.tests = [t for t in args.tests.split(",") if t]
    args.bench_args = shlex.split(args.bench_args)
    args.spec_args = shlex.split(args.spec_args)
    args.model = str(pathlib.Path(args.model).resolve())
    if args.draft:
        args.draft = str(pathlib.Path(args.draft).resolve())
    if not (BIN / "llama-bench").exists():
        sys.exit(f"{BIN}/llama-bench missing: run scripts/build_llamacpp.sh first")

    out = {"engine": "llama.cpp", "model": os.path.relpath(args.model, ROOT), "threads": args.threads,
           "reps": args.reps, "host_nproc": os.cpu_count(),
           "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           # the dev box is shared: keep the load next to the numbers
           "loadavg_before": [round(x, 2) for x in os.getloadavg()]}
    info = ROOT / "third_party" / "llamacpp-build" / "BUILD_INFO.txt"
    if info.exists():
        out["build_info"] = info.read_text().strip().splitlines()

    if not args.skip_bench:
        res = run_benches(args)
        out["bench"] = res
        meta = res.get("_meta", {})
        print(f"llama.cpp {meta.get('build_commit')}  {os.path.basename(args.model)}  "
              f"t={args.threads}  reps={args.reps}  fa={meta.get('flash_attn')}  cpu={meta.get('cpu_info')}")
        for name in args.tests:
            r = res[name]
            print(f"  {name:10s} median {r['median_tok_s']:9.2f} tok/s  "
                  f"[{r['min_tok_s']:.2f} .. {r['max_tok_s']:.2f}]  peak RSS {r['peak_rss_mib']:.1f} MiB")
    if args.prompts:
        print(f"speculative/lookup on {args.prompts} (n_predict={args.n_predict}, t={args.threads})")
        out["spec"] = run_spec(args)
        for mode, s in out["spec"]["summary"].items():
            print(f"  {mode:11s} median decode {s['median_decode_tok_s']:.2f} tok/s, "
                  f"accept rate {s['total_accept_rate']:.3f} over {s['n_prompts']} prompts")

    out["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average before {out['loadavg_before']} after {out['loadavg_after']}")
    if args.json:
        p = pathlib.Path(args.json)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {p}")
    else:
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
