#!/usr/bin/env python3
"""rooflm bench against llama.cpp on the same model, prompts and token counts, in one table.

For every prompt, in turn (the engine order rotates from prompt to prompt, so a shared
machine's slow drifts hit both alike):

  rooflm     `rooflm bench` on that one prompt, all its --modes (baseline, chain, tree,
             staged), with its warm-up; the prompt text rooflm fed its tokenizer (after the
             chat template) is read back from its JSON
  llama.cpp  the same text, greedy, the same -n and threads, with the programs
             scripts/build_llamacpp.sh built (third_party/llamacpp-build/bin):
               plain        llama-completion (llama-simple when that is all there is)
               lookup       llama-lookup: prompt-lookup (n-gram) speculation
               speculative  llama-speculative with --draft (a draft model; optional)

Decode tok/s: rooflm's decode_tok_s; llama.cpp's "eval time ... runs" of llama-completion
(forwards per second after the prompt) and "decoded N tokens in S seconds" of
llama-lookup/llama-speculative. Prompt token counts of both engines are compared and any
difference is printed. Speedups are medians of per-prompt ratios.

  python3 bench/bench_vs_llamacpp.py --prompts bench/prompts/main.jsonl -n 128 -t 2
  python3 bench/bench_vs_llamacpp.py --prompts ../shared/bench/humaneval_prompts.jsonl --limit 20 \\
      --json out/vs_llamacpp.json
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from peer_llamacpp import BIN, ROOT, parse_spec_output, run_with_rusage  # noqa: E402

RE_EVAL = re.compile(r"(?<!prompt )eval time =\s*([\d.]+) ms /\s*(\d+) runs")
RE_PROMPT_EVAL = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")


def prompt_lines(path: str, limit: int) -> list[str]:
    """The file's non-blank lines (rooflm bench parses and checks them; we pass them on verbatim)."""
    lines = [l for l in pathlib.Path(path).read_text(encoding="utf-8").splitlines() if l.strip()]
    return lines[:limit] if limit > 0 else lines


def run_rooflm(args, line: str, tmp: pathlib.Path) -> dict:
    pfile, jfile = tmp / "prompt.jsonl", tmp / "rooflm.json"
    pfile.write_text(line + "\n", encoding="utf-8")
    cmd = [args.bin, "bench", "-m", args.model, "--prompts", str(pfile), "--modes", args.modes, "-n", str(args.n),
           "-t", str(args.threads), "--warmup", str(args.warmup), "--json", str(jfile)]
    if args.draft:
        cmd += ["-d", args.draft]
    if args.no_chat_template:
        cmd.append("--no-chat-template")
    rc, out, err, wall, rss = run_with_rusage(cmd, timeout=args.timeout)
    if rc != 0:
        sys.exit(f"rooflm bench failed ({rc}): {' '.join(cmd)}\n{out[-2000:]}{err[-2000:]}")
    return json.loads(jfile.read_text())


def llama_cmds(args, rendered: str, n_prompt: int) -> list[tuple[str, list[str]]]:
    ctx = str(max(256, (n_prompt + args.n + 64 + 255) // 256 * 256))
    # -p, not -f: llama.cpp drops a prompt file's trailing newline, which chat templates end with;
    # --no-escape: it would otherwise turn a backslash-n written in the prompt into a newline.
    common = ["-m", args.model, "-p", rendered, "--no-escape", "-n", str(args.n), "-t", str(args.threads), "--temp", "0",
              "-s", "1", "-c", ctx]
    plain = BIN / "llama-completion"
    if plain.exists():
        cmds = [("plain", [str(plain), *common, "-no-cnv", "--no-display-prompt"])]
    else:
        cmds = [("plain", [str(BIN / "llama-simple"), "-m", args.model, "-n", str(args.n), rendered])]
    if (BIN / "llama-lookup").exists():
        cmds.append(("lookup", [str(BIN / "llama-lookup"), *common, "--spec-draft-n-max", str(args.lookup_max)]))
    if args.draft and (BIN / "llama-speculative").exists():
        cmds.append(("speculative", [str(BIN / "llama-speculative"), *common, "-md", args.draft, "-td", str(args.threads),
                                     "--spec-draft-n-max", str(args.draft_max)]))
    return cmds


def parse_llama(mode: str, text: str) -> dict:
    """Decode speed (and acceptance) from a llama.cpp program's log."""
    d = {}
    m = RE_PROMPT_EVAL.search(text)
    if m:
        d["n_prompt"] = int(m[2])
    if mode == "plain":
        m = RE_EVAL.search(text)
        if m and float(m[1]) > 0:
            d["decode_tok_s"] = int(m[2]) / (float(m[1]) / 1000.0)
            d["n_generated"] = int(m[2])
    else:
        s = parse_spec_output(text)
        if "decode_tok_s" in s:
            d["decode_tok_s"] = s["decode_tok_s"]
            d["n_generated"] = s.get("decoded_tokens")
        for k in ("n_drafted", "n_accept", "accept_rate"):
            if k in s:
                d[k] = s[k]
    return d


def run_llama(args, rendered: str, n_prompt: int, pid: str) -> dict:
    out = {}
    for mode, cmd in llama_cmds(args, rendered, n_prompt):
        rc, so, se, wall, rss = run_with_rusage(cmd, timeout=args.timeout)
        d = parse_llama(mode, so + "\n" + se)
        d.update({"rc": rc, "wall_s": round(wall, 3), "peak_rss_mb": round(rss / 1024, 1)})
        if rc != 0 or "decode_tok_s" not in d:
            d["log_tail"] = (so + se)[-1500:]
            print(f"  llama.cpp {mode} failed or unparsed on {pid} (rc={rc})", file=sys.stderr)
        out[mode] = d
    return out


def spread(xs):
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def summarize(rows: list[dict]) -> list[dict]:
    """One line per engine/mode: tok/s, speedup over llama.cpp plain and over rooflm baseline."""
    keys = []
    for r in rows:
        for k in r["speeds"]:
            if k not in keys:
                keys.append(k)
    out = []
    for k in keys:
        speeds = [r["speeds"][k] for r in rows if r["speeds"].get(k)]
        vs_llama = [r["speeds"][k] / r["speeds"]["llama.cpp plain"] for r in rows
                    if r["speeds"].get(k) and r["speeds"].get("llama.cpp plain")]
        vs_base = [r["speeds"][k] / r["speeds"]["rooflm baseline"] for r in rows
                   if r["speeds"].get(k) and r["speeds"].get("rooflm baseline")]
        out.append({"engine_mode": k, "tok_s": spread(speeds), "vs_llamacpp_plain": spread(vs_llama),
                    "vs_rooflm_baseline": spread(vs_base), "extra": [r["extra"].get(k, "") for r in rows]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "build" / "rooflm"))
    ap.add_argument("-m", "--model", default=str(ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--prompts", required=True, help="prompt file in any format rooflm bench reads")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--modes", default="baseline,chain,tree,staged", help="rooflm bench --modes")
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1, help="rooflm bench --warmup per prompt")
    ap.add_argument("--draft", default="", help="draft model for rooflm -d and llama-speculative -md")
    ap.add_argument("--no-chat-template", action="store_true")
    ap.add_argument("--lookup-max", type=int, default=8, help="llama-lookup --spec-draft-n-max")
    ap.add_argument("--draft-max", type=int, default=8, help="llama-speculative --spec-draft-n-max")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", default="", help="write every run and the summary here")
    args = ap.parse_args()
    args.model = str(pathlib.Path(args.model).resolve())
    if args.draft:
        args.draft = str(pathlib.Path(args.draft).resolve())
    if not pathlib.Path(args.bin).exists():
        sys.exit(f"--bin {args.bin}: not found (build rooflm first)")
    if not (BIN / "llama-completion").exists() and not (BIN / "llama-simple").exists():
        sys.exit(f"{BIN}: no llama-completion or llama-simple: run scripts/build_llamacpp.sh first")

    lines = prompt_lines(args.prompts, args.limit)
    rows = []
    t0 = time.time()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="rooflm-vs-llamacpp-") as td:
        tmp = pathlib.Path(td)
        for i, line in enumerate(lines):
            rf = ll = None
            # Alternate which engine goes first; llama.cpp needs rooflm's rendered prompt, so
            # when it goes first the prompt is rendered by a 1-token rooflm run beforehand.
            if i % 2 == 1:
                probe = run_rooflm(argparse.Namespace(**{**vars(args), "n": 1, "modes": "baseline", "warmup": 0,
                                                         "draft": ""}), line, tmp)
                p = probe["prompts"][0]
                ll = run_llama(args, p["rendered"], len(p["ids"]), p["id"])
            rf = run_rooflm(args, line, tmp)
            p = rf["prompts"][0]
            if ll is None:
                ll = run_llama(args, p["rendered"], len(p["ids"]), p["id"])
            speeds, extra = {}, {}
            for m in rf["modes"]:
                key = "rooflm " + m["mode"]
                speeds[key] = m["decode_tok_s"]["median"] if m["decode_tok_s"] else None
                extra[key] = "%.2f tok/step" % m["tokens_per_step"]
            for mode, d in ll.items():
                key = "llama.cpp " + mode
                speeds[key] = d.get("decode_tok_s")
                if "n_drafted" in d:
                    extra[key] = "accept %d/%d" % (d.get("n_accept", 0), d["n_drafted"])
            n_rooflm = len(p["ids"])
            n_llama = ll.get("plain", {}).get("n_prompt")
            note = "" if n_llama in (None, n_rooflm) else f"prompt tokens differ: rooflm {n_rooflm}, llama.cpp {n_llama}"
            rows.append({"id": p["id"], "speeds": speeds, "extra": extra, "rooflm": rf["modes"], "llama.cpp": ll,
                         "n_prompt": n_rooflm, "note": note, "greedy_failures": rf.get("failures", [])})
            line_out = "  ".join(f"{k} {v:.1f}" for k, v in speeds.items() if v)
            print(f"[{i + 1}/{len(lines)}] {p['id']}: {line_out}" + (f"  ({note})" if note else ""), file=sys.stderr,
                  flush=True)

    summary = summarize(rows)
    print(f"\n{os.path.basename(args.model)} | {len(rows)} prompts from {args.prompts} | {args.n} tokens, greedy | "
          f"{args.threads} thread{'s' if args.threads != 1 else ''} | load average {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}\n")
    print(f"| engine, mode | decode tok/s, median [min - max] | vs llama.cpp plain | vs rooflm baseline | notes |")
    print(f"|---|---|---|---|---|")
    for s in summary:
        t = s["tok_s"]
        ts = f"{t['median']:.1f} [{t['min']:.1f} - {t['max']:.1f}]" if t else "-"
        vl = f"{s['vs_llamacpp_plain']['median']:.2f}x" if s["vs_llamacpp_plain"] else "-"
        vb = f"{s['vs_rooflm_baseline']['median']:.2f}x" if s["vs_rooflm_baseline"] else "-"
        notes = [e for e in s["extra"] if e]
        note = ""
        if notes and "tok/step" in notes[0]:
            note = "%.2f tok/step (median)" % statistics.median(float(e.split()[0]) for e in notes)
        elif notes:
            acc = [tuple(map(int, e.split()[1].split("/"))) for e in notes]
            note = "accepted %d of %d drafted" % (sum(a for a, _ in acc), sum(b for _, b in acc))
        print(f"| {s['engine_mode']} | {ts} | {vl} | {vb} | {note} |")
    fails = [f for r in rows for f in r["greedy_failures"]]
    diffs = [r["note"] for r in rows if r["note"]]
    for f in fails:
        print(f"FAILURE: rooflm greedy output differs from its baseline: {f}")
    for d in diffs:
        print(f"note: {d}")
    print(f"({time.time() - t0:.0f} s)", file=sys.stderr)
    if args.json:
        p = pathlib.Path(args.json)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps({"config": vars(args), "summary": summary, "prompts": rows}, indent=1) + "\n")
        print(f"wrote {p}")
    if fails:
        sys.exit(1)


if __name__ == "__main__":
    main()
