#!/usr/bin/env bash
# CI smoke test of the draft-head pipeline on the tiny fixture model: rooflm features ->
# scripts/train_head.py --smoke (a few steps; fails unless the loss went down) -> the head
# drafts in rooflm generate, whose greedy output must equal plain decoding.
#   tests/train_head_smoke.sh ROOFLM_BINARY [KEEP.gguf]
# KEEP: also copy the trained head there (tests/fixtures/tiny_llama/tiny_llama.head.gguf is made so).
set -euo pipefail
ROOFLM="$1"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
MODEL="$SRC/tests/fixtures/tiny_llama/tiny_llama.gguf"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
python3 - "$T/text.jsonl" <<'PY'
import json, sys
lines = ["the cat sat on the mat. the dog sat on the log. " * 6,
         "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n" * 4,
         "one two three four five six seven eight nine ten " * 5]
with open(sys.argv[1], "w") as f:
    for i, t in enumerate(lines * 4):
        f.write(json.dumps({"text": t + str(i)}) + "\n")
PY
"$ROOFLM" features -m "$MODEL" --text "$T/text.jsonl" --seq 64 --out "$T/feat" -t 1
python3 "$SRC/scripts/train_head.py" --model "$MODEL" --features "$T/feat" --out "$T/tiny.head.gguf" --draft-vocab 256 \
  --smoke --threads 2
gen() { "$ROOFLM" generate -m "$MODEL" -p "the cat sat on the" -n 24 --temp 0 -t 1 --json "$@"; }
plain="$(gen | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])')"
for mode in chain tree staged; do
  got="$(gen --spec "$mode" -d "$T/tiny.head.gguf" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["tokens"])')"
  if [ "$got" != "$plain" ]; then
    echo "train_head_smoke: --spec $mode with the trained head gave $got, plain decoding $plain" >&2
    exit 1
  fi
done
if [ $# -ge 2 ]; then cp "$T/tiny.head.gguf" "$2"; fi
echo "train_head_smoke: OK"
