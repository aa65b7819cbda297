#!/usr/bin/env bash
# The test command: set up (packages, default model, build), then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-dir build --models smollm2,gemma3
ctest --test-dir build --output-on-failure -j 2 --timeout 600
