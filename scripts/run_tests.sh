#!/usr/bin/env bash
# The test command: set up (packages, models, build), then four stages:
#   unit   the whole suite (ctest in build/)
#   asan   the whole suite again, built with AddressSanitizer + UBSan (build-asan/; the CLI the
#          tests run is the sanitized one too)
#   tsan   the threaded code (thread pool, matmul, attention, ops, the forward pass) built with
#          ThreadSanitizer (build-tsan/)
#   fuzz   every libFuzzer target for ROOFLM_FUZZ_TIME seconds each (default 60; scripts/run_fuzz.sh)
# ROOFLM_TEST_STAGES picks stages (default "unit asan tsan fuzz"; "unit" for a quick local run).
# Every stage runs even when an earlier one failed; the summary gives each one's result and time.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGES="${ROOFLM_TEST_STAGES:-unit asan tsan fuzz}"
JOBS="${ROOFLM_JOBS:-2}"
export ROOFLM_JOBS="$JOBS"
start=$SECONDS
scripts/setup.sh --build-dir build --models smollm2,gemma3
# The draft-head training smoke test (TrainHead.Smoke) runs scripts/train_head.py: PyTorch,
# NumPy and gguf from the package index (the main job does not need them).
if ! python3 -c "import torch, numpy, gguf" 2>/dev/null; then
  echo "run_tests: installing torch, numpy and gguf from the package index"
  # (Debian's own Python marks itself externally managed, PEP 668)
  python3 -m pip install --quiet torch numpy gguf 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages torch numpy gguf
fi
# The server test (Server.OpenAIClientEndToEnd) drives `rooflm serve` with the official openai client.
if ! python3 -c "import openai" 2>/dev/null; then
  echo "run_tests: installing openai from the package index"
  python3 -m pip install --quiet openai 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages openai
fi

# Threaded suites for ThreadSanitizer (gtest names; ctest -R regex).
TSAN_TESTS='^(ThreadPool|Matmul[A-Za-z]*|Attention|Ops|Weights|Session)\.'

# (run_stage runs inside `if`, where bash ignores set -e: every step is chained with &&.)
sanitized_build() {  # DIR CMAKE_OPTION
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -D"$2"=ON -DROOFLM_BUILD_BENCH=OFF >/dev/null &&
    cmake --build "$1" -j "$JOBS"
}
run_ctest() {  # DIR [ctest options]
  local dir="$1"
  shift
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$JOBS" "$@"
}
run_stage() {
  case "$1" in
    unit) run_ctest build --timeout 600 ;;
    asan)
      sanitized_build build-asan ROOFLM_SANITIZE &&
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
          run_ctest build-asan --timeout 1200 ;;
    tsan)
      sanitized_build build-tsan ROOFLM_TSAN &&
        TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_ctest build-tsan --timeout 1200 -R "$TSAN_TESTS" ;;
    fuzz) scripts/run_fuzz.sh --time "${ROOFLM_FUZZ_TIME:-60}" ;;
    *) echo "run_tests.sh: unknown stage '$1' (expected unit, asan, tsan, fuzz)" >&2; return 2 ;;
  esac
}

summary="setup+build $((SECONDS - start))s"$'\n'
failed=0
for s in $STAGES; do
  t=$SECONDS
  echo "=== stage $s"
  if run_stage "$s"; then r=passed; else r=FAILED; failed=1; fi
  summary+="$(printf '%-6s %-7s %5ss' "$s" "$r" "$((SECONDS - t))")"$'\n'
done
echo
echo "=== summary (total $((SECONDS - start))s)"
printf '%s' "$summary"
exit $failed
