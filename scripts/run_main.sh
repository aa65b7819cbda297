#!/usr/bin/env bash
# The main job: set up (packages, default model, build), then show what rooflm is for on the
# default model: a greedy generation, then `rooflm bench` on 8 prompts (4 HumanEval, 4
# MT-Bench): plain decoding against chain, tree and staged speculation (tok/s, speedup, tokens
# per target step, greedy output checked equal), and the run's measured roofline charts on
# this machine's roofs (whole model per mode, and per op class). About a minute or two.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-dir build
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
THREADS=${ROOFLM_THREADS:-2}
mkdir -p out
echo
echo "== rooflm generate (greedy, $THREADS threads) =="
build/rooflm generate -m "$MODEL" -p "The three primary colors are" -n 48 --temp 0 -t "$THREADS"
echo
echo "== rooflm bench: baseline vs chain / tree / staged speculation (n-gram drafters) =="
# `host` roofs come from `rooflm probe` (cached per CPU; the first run measures for ~15 s).
build/rooflm bench -m "$MODEL" --prompts bench/prompts/main.jsonl --modes baseline,chain,tree,staged \
  -n 128 --temp 0 -t "$THREADS" --json out/bench.json --chart out/bench-roofline.svg --ops-chart out/bench-ops.svg
echo
echo "charts written: out/bench-roofline.svg (whole model, one point per mode), out/bench-ops.svg (per op class)"
