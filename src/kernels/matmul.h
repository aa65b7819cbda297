// Quantized matrix multiplication: the kernels that decide decode speed.
//
// A weight matrix W has `rows` output features, each a row of `cols` values stored in one
// GGUF block format (row-major, rows contiguous, as in the file). For n_tok activations
// x[t][0..cols) in f32, matmul computes y[t][r] = sum_c W[r][c] * x[t][c].
// n_tok == 1 is the GEMV (decode) shape; n_tok > 1 the GEMM (prefill, tree verify) shape.
//
// How the quantized types are computed (all paths, see src/kernels/quant.h for the details):
//  * activations are quantized on the fly to int8 with one f32 scale per 32 values
//    (scale = max|x| / 127, round to nearest even);
//  * each 32-value weight block is read as unsigned 8-bit codes u (plus per-block scales) and
//    the block's integer dot product sum(u * q) is exact in int32 (AVX-512 VNNI vpdpbusd,
//    AMX tdpbsud, AVX2 vpmaddubsw or scalar);
//  * the block results are combined in f32 in ascending block order with the same fma
//    sequence on every path. So every path (scalar, AVX2, AVX-512, AMX), every thread count
//    and every n_tok give bit-identical y: row t of a 64-token tree verification equals the
//    1-token decode of the same input exactly (greedy verification == greedy decoding).
// Float weights (F32/F16/BF16) are not quantized; their paths agree up to f32 rounding.
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>

#include "core/dtype.h"
#include "core/threadpool.h"

namespace rooflm {

struct WeightMatrix {
  DType type = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;  // view into the mmapped file, GGUF layout (always kept)
  size_t row_stride = 0;          // bytes between rows = row_bytes(type, cols)
  std::shared_ptr<void> owned;    // set only when a kernel repacked the weights at load

  // Set by prepare_weight(): the same weights repacked into the kernels' tile layout
  // (groups of 16 rows, 4-byte k-quads interleaved across rows, = the AMX B-tile / VNNI
  // layout). Points into `owned`. `data` still holds the GGUF layout (embedding lookups).
  const uint8_t* packed = nullptr;
  size_t packed_bytes = 0;

  size_t nbytes() const { return row_stride * (size_t)rows; }
};

// View of rows x cols values of `type` at `data` (checks cols against the block size).
WeightMatrix make_weight(DType type, int64_t rows, int64_t cols, const void* data);

// Scalar reference: the test oracle for every optimized path. matmul_ref dequantizes each
// row exactly and accumulates in double (activations are NOT quantized).
void dequantize_row_ref(DType type, const void* src, float* dst, int64_t n);
void matmul_ref(const WeightMatrix& w, const float* x, int64_t n_tok, float* y);

// Which implementation runs. Auto = the best one this CPU supports.
enum class KernelPath : int { Auto = 0, Scalar = 1, AVX2 = 2, AVX512 = 3, AMX = 4 };
const char* kernel_path_name(KernelPath p);
// Compiled in and supported by this CPU (AMX: also granted by the kernel via arch_prctl).
bool kernel_path_supported(KernelPath p);
KernelPath best_kernel_path();

// Optimized, chosen at run time by CPU features; same results as the reference up to
// rounding (activations may be quantized to 8 bits on the fly).
void dequantize_row(DType type, const void* src, float* dst, int64_t n);
void dequantize_row(DType type, const void* src, float* dst, int64_t n, KernelPath path);
void matmul(const WeightMatrix& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool);
// Forces one path (tests, benchmarks). Throws if the path is not supported here.
// AMX: tiles of 16 tokens from n_tok >= amx_min_tokens(); a last partial tile of fewer than
// 8 tokens, and n_tok below the threshold, go to the AVX-512 VNNI kernels (same results).
void matmul(const WeightMatrix& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool,
            KernelPath path);

// y_m = W_m x for n matrices that read the same input (q/k/v, gate/up): the activations are
// quantized once and all matrices' rows are split across the threads in one dispatch (fewer
// synchronisations per decode step). Same results as n separate matmul() calls; falls back
// to them unless all matrices share the quantized type and cols (and n <= 4).
void matmul_multi(const WeightMatrix* const* ws, float* const* ys, int n, const float* x, int64_t n_tok,
                  ThreadPool& pool);

// Prefetches, into the calling thread's L2, the packed weights that thread `owner` of the
// pool's `n_threads` reads in matmul_multi(ws, ...) for one token (the same split of row
// groups), a few cache lines at a time, returning as soon as `stop` is set. For a thread
// that would otherwise wait while another runs work that streams no weights (a short
// attention): the memory system then works during it too. Unpacked weights are skipped.
void prefetch_weight_share(const WeightMatrix* const* ws, int n, int owner, int n_threads, const std::atomic<bool>& stop);
// The packed bytes that share is: out[m] for matrix m (n = 0 bytes where the thread reads none of
// it, or the matrix is not packed).
struct ByteRange {
  const uint8_t* p = nullptr;
  size_t n = 0;
};
void weight_share(const WeightMatrix* const* ws, int n, int owner, int n_threads, ByteRange* out);

// Repack a quantized matrix once at load into the tile layout (sets packed/owned; no-op for
// F32/F16/BF16 and for already packed matrices). Costs about one extra copy of the weights
// (the packed copy is the same size as the GGUF data within ~3%) and runs at about memcpy
// speed. Matmul works without it, but then repacks 16 rows at a time on every call, which
// makes a GEMV 5-10x slower: the loader should call prepare_weights() once for all matrices.
void prepare_weight(WeightMatrix& w, ThreadPool* pool = nullptr);

// Repack many matrices into one shared, 2 MB-aligned buffer advised for transparent huge
// pages (fewer TLB misses when a decode step streams every matrix once). Matrices that are
// not quantized or already packed are skipped; entries viewing the same bytes (tied
// embeddings listed as both tok_embd and output) are packed once. Each packed matrix's
// `owned` shares the buffer.
void prepare_weights(WeightMatrix* const* ws, size_t n, ThreadPool* pool = nullptr);

// Row `row` of W dequantized to f32 (embedding lookup). Reads the packed copy when there is
// one (bit-identical to the GGUF row), so the mapped file's pages stay released.
void get_row(const WeightMatrix& w, int64_t row, float* dst);

// Smallest n_tok for which the AMX path uses tiles (below it: AVX-512 VNNI), also the
// smallest last partial tile AMX takes (a tile costs about as much as this many VNNI tokens):
// kernel_tuning().amx_min_tokens.
int64_t amx_min_tokens();

}  // namespace rooflm
