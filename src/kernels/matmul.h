// Quantized matrix multiplication: the kernels that decide decode speed.
//
// A weight matrix W has `rows` output features, each a row of `cols` values stored in one
// GGUF block format (row-major, rows contiguous, as in the file). For n_tok activations
// x[t][0..cols) in f32, matmul computes y[t][r] = sum_c W[r][c] * x[t][c].
// n_tok == 1 is the GEMV (decode) shape; n_tok > 1 the GEMM (prefill, tree verify) shape.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/dtype.h"
#include "core/threadpool.h"

namespace rooflm {

struct WeightMatrix {
  DType type = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;  // view into the mmapped file (or into `owned`)
  size_t row_stride = 0;          // bytes between rows = row_bytes(type, cols)
  std::shared_ptr<void> owned;    // set only when a kernel repacked the weights at load

  size_t nbytes() const { return row_stride * (size_t)rows; }
};

// View of rows x cols values of `type` at `data` (checks cols against the block size).
WeightMatrix make_weight(DType type, int64_t rows, int64_t cols, const void* data);

// Scalar reference: the test oracle for every optimized path.
void dequantize_row_ref(DType type, const void* src, float* dst, int64_t n);
void matmul_ref(const WeightMatrix& w, const float* x, int64_t n_tok, float* y);

// Optimized, chosen at run time by CPU features; same results as the reference up to
// rounding (activations may be quantized to 8 bits on the fly).
void dequantize_row(DType type, const void* src, float* dst, int64_t n);
void matmul(const WeightMatrix& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool);

}  // namespace rooflm
