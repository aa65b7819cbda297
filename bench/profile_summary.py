#!/usr/bin/env python3
"""Per-op-class summary of a `rooflm generate --profile FILE` run: ms per generated token and
achieved GB/s for one phase (default `ar`, the decode steps of plain decoding). `--phase decode`
takes every phase but `init` (speculative runs verify in phases `tree:N`); `--steps N` divides
by N target steps (`target_steps` of `generate --json`) instead of the generated tokens.

usage: bench/profile_summary.py p.json [--phase ar|decode|tree:N] [--steps N]
"""
import argparse
import json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--phase", default="ar")
    ap.add_argument("--steps", type=int, default=0)
    a = ap.parse_args()
    p = json.load(open(a.profile))
    n = a.steps if a.steps > 0 else max(1, p["n_generated"])
    unit = "ms/step" if a.steps > 0 else "ms/token"
    if a.phase == "decode":  # every decode phase, one row per op class
        merged = {}
        for x in p["aggregates"]:
            if x["phase"] == "init":
                continue
            m = merged.setdefault(x["op"], {"op": x["op"], "calls": 0, "ns": 0, "bytes": 0.0})
            for k in ("calls", "ns", "bytes"):
                m[k] += x[k]
        rows = list(merged.values())
    else:
        rows = [x for x in p["aggregates"] if x["phase"] == a.phase]
    if not rows:
        raise SystemExit(f"{a.profile}: no aggregates for phase '{a.phase}'")
    print(f"{'op class':<14} {'calls':>7} {unit:>9} {'GB/s':>6}")
    for x in rows:
        gbs = x["bytes"] / x["ns"] if x["ns"] else 0.0
        print(f"{x['op']:<14} {x['calls']:>7} {x['ns'] / 1e6 / n:>9.3f} {gbs:>6.1f}")
    print(f"{'total':<14} {'':>7} {sum(x['ns'] for x in rows) / 1e6 / n:>9.3f}")


if __name__ == "__main__":
    main()
