#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a bounded time, starting
# from the committed seeds in fuzz/corpus/<target>/. New interesting inputs are kept in
# BUILD/corpus/<target>/ (not committed), so later local runs go on from where they stopped.
#
#   scripts/run_fuzz.sh [--time SECONDS] [--build-dir DIR] [TARGET...]
#
# --time: seconds per target (default $ROOFLM_FUZZ_TIME, else 60). Targets: gguf safetensors
# hf_config hf_tokenizer tokenizer chat_template prompts server_request (default: all). Prints one line per target with its executions; exits 1 if any
# target found a crash, which is left in BUILD/findings/<target>/ (reproduce it with
# BUILD/fuzz/fuzz_<target> FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
TIME="${ROOFLM_FUZZ_TIME:-60}"
BUILD=build-fuzz
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) TIME="$2"; shift 2 ;;
    --build-dir) BUILD="$2"; shift 2 ;;
    -*) echo "run_fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(gguf safetensors hf_config hf_tokenizer tokenizer chat_template prompts server_request)
fi

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DROOFLM_FUZZ=ON \
  -DROOFLM_BUILD_TESTS=OFF -DROOFLM_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j "${ROOFLM_JOBS:-2}" --target $(printf 'fuzz_%s ' "${TARGETS[@]}")

export ROOFLM_SOURCE_DIR="$PWD"
status=0
summary=""
for t in "${TARGETS[@]}"; do
  work="$BUILD/corpus/$t" findings="$BUILD/findings/$t" log="$BUILD/fuzz_$t.log"
  mkdir -p "$work" "$findings"
  # -malloc_limit_mb: one allocation above 1 GiB means a size from the input was trusted.
  # -timeout: one input taking 10 s is a hang. The dictionary (keys, markers, edge numbers,
  # written by scripts/make_fuzz_corpus.py) lets mutations reach past the format's keywords.
  set +e
  "$BUILD/fuzz/fuzz_$t" "$work" "fuzz/corpus/$t" -dict="fuzz/dict/$t.dict" -max_total_time="$TIME" \
    -max_len=16384 -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$findings/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  line=$(printf '%-14s %10s executions in %ss, coverage %s edges, corpus %s inputs' "$t" "${execs:-?}" "$TIME" \
    "${cov:-?}" "$(ls "$work" | wc -l)")
  if [ $rc -ne 0 ]; then
    status=1
    line="$line  CRASH (exit $rc): $(ls "$findings" | head -3 | tr '\n' ' ') see $log"
    grep -m3 -E 'ERROR|finding:|runtime error|unexpected exception' "$log" >&2 || true
  fi
  echo "fuzz: $line"
  summary="$summary$line"$'\n'
done
echo
echo "fuzz summary (${TIME}s per target):"
printf '%s' "$summary"
exit $status
