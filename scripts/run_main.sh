#!/usr/bin/env bash
# The main job: set up (packages, default model, build), then show what rooflm is for on
# the default model: greedy generation with timings, its measured profile and roofline
# charts (analytic reference charts and our own engine on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-dir build
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
mkdir -p out
echo
echo "== rooflm generate (greedy, 2 threads) =="
build/rooflm generate -m "$MODEL" -p "The three primary colors are" -n 48 --temp 0 -t 2 --profile out/profile.json
echo
echo "== roofline of this run on this machine =="
build/rooflm roofline --model "$MODEL" --hw host --profile out/profile.json -o out/roofline-measured.svg
echo "charts written: out/roofline-measured.svg"
