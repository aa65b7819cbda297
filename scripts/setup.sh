#!/usr/bin/env bash
# Installs what rooflm needs on a fresh Debian machine (only what is missing, so it works
# offline once done), fetches the models, and builds. Idempotent.
#   scripts/setup.sh [--models smollm2,gemma3] [--build-dir build]
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=smollm2
BUILD=build
while [ $# -gt 0 ]; do
  case "$1" in
    --models) MODELS="$2"; shift 2 ;;
    --build-dir) BUILD="$2"; shift 2 ;;
    *) echo "setup.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# clang + libclang-rt-dev: libFuzzer for the fuzz stage of scripts/run_tests.sh.
# libcpp-httplib-dev: the HTTP server of `rooflm serve` (a shared library in Debian, linked into the CLI only).
# python3-numpy (+ the gguf package below): scripts/make_synthetic_model.py and its tests.
DEB_PACKAGES="build-essential cmake pkg-config python3 python3-pip python3-numpy libgtest-dev libbenchmark-dev libpcre2-dev nlohmann-json3-dev libcli11-dev librsvg2-bin clang libclang-rt-dev libcpp-httplib-dev"
missing=""
for p in $DEB_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

if ! python3 -c 'import gguf' 2>/dev/null; then
  echo "setup: installing the gguf Python package"
  # Debian 12 marks its Python as externally managed (PEP 668).
  python3 -m pip install --quiet gguf 2>/dev/null || python3 -m pip install --quiet --break-system-packages gguf
fi

python3 scripts/fetch_models.py --models "$MODELS"

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release ${ROOFLM_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD" -j "$(nproc)"
echo "setup: built $BUILD/rooflm"
