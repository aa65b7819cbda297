#!/usr/bin/env bash
# A/B of two rooflm binaries on decode speed, alternating run by run so both see the same
# machine noise: prints each binary's decode tok/s per round, their medians, and the median
# of the per-round ratios B/A (the figure to quote on a shared machine).
#
#   bench/ab_decode.sh OLD/rooflm NEW/rooflm [threads=2] [rounds=5] [prompt file] [model]
#
# e.g. build the previous commit into /tmp/old (git worktree add /tmp/old HEAD~1 && cmake -S
# /tmp/old -B /tmp/old/build -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/old/build) and compare.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
A=${1:?usage: ab_decode.sh BIN_A BIN_B [threads] [rounds] [prompt] [model]}
B=${2:?usage: ab_decode.sh BIN_A BIN_B [threads] [rounds] [prompt] [model]}
T=${3:-2}
R=${4:-5}
P=${5:-$ROOT/out/prompt32.txt}
M=${6:-$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf}
for f in "$A" "$B"; do [[ -x $f ]] || { echo "ab_decode.sh: $f is not an executable" >&2; exit 2; }; done
for f in "$P" "$M"; do [[ -f $f ]] || { echo "ab_decode.sh: $f not found (prompt: run bench/compare_llamacpp.py once, or pass a file)" >&2; exit 2; }; done
for _ in $(seq "$R"); do
  for b in "$A" "$B"; do
    v=$("$b" generate -m "$M" -f "$P" -n 128 --temp 0 -t "$T" --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["decode_tok_s"])')
    echo "$b $v"
  done
done | python3 -c '
import sys, collections, statistics
d = collections.OrderedDict()
for line in sys.stdin:
    b, v = line.split()
    d.setdefault(b, []).append(float(v))
for k, v in d.items():
    print(k, ["%.1f" % x for x in v], "median %.1f" % statistics.median(v))
if len(d) == 2:
    a, b = d.values()
    print("ratio B/A per round, median %.3f" % statistics.median([y / x for x, y in zip(a, b)]))
else:
    print("(A and B are the same path: nothing to compare)")
'
