#!/usr/bin/env bash
# Installs the build into a temporary prefix, builds examples/ against it with find_package(rooflm),
# and runs the example on the default model: what an embedder does. Exit 77 (ctest: skipped)
# when the model is missing, after the package has been built against.
#   tests/install_example.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/examples" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/build" >/dev/null
model="$src/models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -f "$model" ]; then
  echo "install_example: $model is missing (scripts/fetch_models.py): built the example, did not run it"
  exit 77
fi
out="$("$tmp/build/generate" "$model" "What is the capital of France?" 24)"
echo "$out"
[ -n "$out" ] || { echo "install_example: the example printed no text" >&2; exit 1; }
