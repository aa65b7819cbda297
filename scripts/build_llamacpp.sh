#!/usr/bin/env bash
# Build the llama.cpp peer used for greedy-text fixtures and benchmarks.
#
# Source: the `llama-cpp-python` sdist on PyPI, which vendors llama.cpp
# (no git hosts are reachable here). Everything lands in third_party/
# (git-ignored); nothing from llama.cpp is committed.
#
# Idempotent: if the binaries and shared libraries already exist it only
# prints where they are. Force a rebuild with LLAMACPP_REBUILD=1.
#
# Env knobs:
#   LLAMACPP_PY_VERSION  llama-cpp-python version to fetch (default pinned below)
#   LLAMACPP_JOBS        parallel compile jobs (default 2; the box has 2 cores)
#   LLAMACPP_REBUILD=1   rebuild even if binaries exist
#   LLAMACPP_CC/LLAMACPP_CXX  compilers (default: clang/clang++ when present)
#
# Why clang by default: GCC 12's _tile_loadconfig() intrinsic declares that its
# asm reads only 8 bytes of the 64-byte tile config, so GCC drops the stores of
# the rows/colsb fields in ggml's AMX kernels (ggml_tile_config_init); the first
# tileloadd then raises #UD (SIGILL) on AMX CPUs such as this Sapphire Rapids.
# Clang implements the intrinsic as a builtin and is fine. Without clang we
# fall back to GCC with AMX code generation disabled (-mno-amx-*), which makes
# llama.cpp use its AVX-512/VNNI kernels instead.
set -euo pipefail

VERSION="${LLAMACPP_PY_VERSION:-0.3.36}"
JOBS="${LLAMACPP_JOBS:-2}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TP="$ROOT/third_party"
SDIST="$TP/llama_cpp_python-$VERSION.tar.gz"
SRC="$TP/llama_cpp_python-$VERSION"
LLSRC="$SRC/vendor/llama.cpp"
BUILD="$TP/llamacpp-build"
BIN="$BUILD/bin"

# Targets we need. llama-cli now lives behind LLAMA_BUILD_SERVER in this
# llama.cpp version; llama-completion is the classic one-shot completion tool.
TARGETS=(llama llama-simple llama-completion llama-bench llama-speculative
         llama-speculative-simple llama-lookup llama-tokenize)

have_all() {
    [[ -f "$BUILD/BUILD_INFO.txt" ]] || return 1   # written only after a successful build
    [[ -f "$BIN/libllama.so" || -f "$BUILD/src/libllama.so" ]] || return 1
    local t
    for t in "${TARGETS[@]}"; do
        [[ "$t" == llama ]] && continue
        [[ -x "$BIN/$t" ]] || return 1
    done
    return 0
}

print_paths() {
    echo "llama.cpp peer (llama-cpp-python $VERSION)"
    echo "  source : $LLSRC"
    echo "  build  : $BUILD"
    echo "  bin dir: $BIN"
    local t
    for t in "${TARGETS[@]}"; do
        [[ "$t" == llama ]] && continue
        printf '    %-26s %s\n' "$t" "$BIN/$t"
    done
    local lib
    lib="$(ls "$BIN"/libllama.so 2>/dev/null || ls "$BUILD"/src/libllama.so 2>/dev/null || true)"
    echo "  libllama.so: $lib   (export LLAMA_CPP_LIB_PATH=$(dirname "${lib:-$BIN/x}"))"
    [[ -f "$BUILD/BUILD_INFO.txt" ]] && sed 's/^/  /' "$BUILD/BUILD_INFO.txt"
    return 0
}

if [[ "${LLAMACPP_REBUILD:-0}" != 1 ]] && have_all; then
    echo "[build_llamacpp] binaries present; skipping rebuild"
    print_paths
    exit 0
fi

mkdir -p "$TP"
t0=$(date +%s)

if [[ ! -f "$SDIST" ]]; then
    echo "[build_llamacpp] downloading llama-cpp-python==$VERSION sdist from PyPI"
    pip download --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$TP"
fi
if [[ ! -f "$LLSRC/CMakeLists.txt" ]]; then
    echo "[build_llamacpp] extracting $SDIST"
    tar -xzf "$SDIST" -C "$TP"
fi

# The sdist has no .git; the vendored commit is recorded in its CHANGELOG.
COMMIT="$(grep -m1 -oE 'llama\.cpp@[0-9a-f]+' "$SRC/CHANGELOG.md" | cut -d@ -f2 || true)"
COMMIT="${COMMIT:-unknown}"
LLVER="$(sed -nE 's/^set\(LLAMA_VERSION_(MAJOR|MINOR|PATCH) ([0-9]+)\)/\2/p' "$LLSRC/CMakeLists.txt" | paste -sd. -)"

# Keep git from walking up into the rooflm repo when llama.cpp's CMake
# asks for "its" commit.
export GIT_CEILING_DIRECTORIES="$TP"

if [[ -n "${LLAMACPP_CC:-}" ]]; then
    CC_="$LLAMACPP_CC"; CXX_="${LLAMACPP_CXX:-${LLAMACPP_CC/clang/clang++}}"
elif command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1; then
    CC_=clang; CXX_=clang++
else
    CC_=gcc; CXX_=g++
fi
EXTRA_FLAGS=""
if [[ "$("$CC_" --version | head -1)" != *clang* ]] && grep -qw amx_tile /proc/cpuinfo; then
    echo "[build_llamacpp] WARNING: building with GCC on an AMX CPU: disabling AMX (GCC<=12 _tile_loadconfig bug)"
    EXTRA_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
fi
# a different compiler needs a fresh build dir
if [[ -f "$BUILD/CMakeCache.txt" ]] && ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*/$CXX_\$" "$BUILD/CMakeCache.txt" \
        && ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=$CXX_\$" "$BUILD/CMakeCache.txt"; then
    echo "[build_llamacpp] compiler changed; wiping $BUILD"
    rm -rf "$BUILD"
fi

GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)

t1=$(date +%s)
echo "[build_llamacpp] configuring (commit $COMMIT, llama.cpp $LLVER)"
CC="$CC_" CXX="$CXX_" cmake -S "$LLSRC" -B "$BUILD" "${GEN[@]}" \
    -DCMAKE_C_COMPILER="$CC_" -DCMAKE_CXX_COMPILER="$CXX_" \
    -DCMAKE_C_FLAGS="$EXTRA_FLAGS" -DCMAKE_CXX_FLAGS="$EXTRA_FLAGS" \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=ON \
    -DGGML_NATIVE=ON \
    -DLLAMA_BUILD_COMMON=ON \
    -DLLAMA_BUILD_EXAMPLES=ON \
    -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_COMMIT="$COMMIT" \
    -DLLAMA_BUILD_NUMBER=0 \
    >"$TP/llamacpp-configure.log" 2>&1 || { tail -40 "$TP/llamacpp-configure.log"; exit 1; }

echo "[build_llamacpp] building ${TARGETS[*]} with -j$JOBS (log: $TP/llamacpp-build.log)"
cmake --build "$BUILD" --config Release -j "$JOBS" --target "${TARGETS[@]}" \
    >"$TP/llamacpp-build.log" 2>&1 || { tail -60 "$TP/llamacpp-build.log"; exit 1; }
t2=$(date +%s)

cat >"$BUILD/BUILD_INFO.txt" <<EOF
llama-cpp-python: $VERSION
llama.cpp vendored commit: $COMMIT (version $LLVER)
compiler: $("$CXX_" --version | head -1) ${EXTRA_FLAGS:+(flags: $EXTRA_FLAGS)}
jobs: $JOBS
build seconds (configure+compile): $((t2 - t1))
total seconds (incl. download/extract): $((t2 - t0))
built: $(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF

have_all || { echo "[build_llamacpp] build finished but some binaries are missing" >&2; print_paths; exit 1; }
print_paths
