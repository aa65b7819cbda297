#!/usr/bin/env python3
"""Per-op-class summary of a `rooflm generate --profile FILE` run: ms per generated token and
achieved GB/s for one phase (default `ar`, the decode steps).

usage: bench/profile_summary.py p.json [--phase ar]
"""
import argparse
import json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--phase", default="ar")
    a = ap.parse_args()
    p = json.load(open(a.profile))
    n = max(1, p["n_generated"])
    rows = [x for x in p["aggregates"] if x["phase"] == a.phase]
    if not rows:
        raise SystemExit(f"{a.profile}: no aggregates for phase '{a.phase}'")
    print(f"{'op class':<14} {'calls':>7} {'ms/token':>9} {'GB/s':>6}")
    for x in rows:
        gbs = x["bytes"] / x["ns"] if x["ns"] else 0.0
        print(f"{x['op']:<14} {x['calls']:>7} {x['ns'] / 1e6 / n:>9.3f} {gbs:>6.1f}")
    print(f"{'total':<14} {'':>7} {sum(x['ns'] for x in rows) / 1e6 / n:>9.3f}")


if __name__ == "__main__":
    main()
