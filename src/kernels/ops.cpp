#include "kernels/ops.h"

#include <cmath>

#include "kernels/matmul.h"

namespace rooflm {

namespace {
// Chosen once: the AVX-512 versions where the CPU has them (same test as the matmul path).
const bool kAvx512 = kernel_path_supported(KernelPath::AVX512);
}  // namespace

void rmsnorm(float* y, const float* x, const float* w, int64_t n, float eps) {
  kAvx512 ? ops_avx512::rmsnorm(y, x, w, n, eps) : ops_ref::rmsnorm(y, x, w, n, eps);
}
void layernorm(float* y, const float* x, const float* w, const float* b, int64_t n, float eps) {
  kAvx512 ? ops_avx512::layernorm(y, x, w, b, n, eps) : ops_ref::layernorm(y, x, w, b, n, eps);
}
void silu_mul(float* gate, const float* up, int64_t n) {
  kAvx512 ? ops_avx512::silu_mul(gate, up, n) : ops_ref::silu_mul(gate, up, n);
}
void gelu_mul(float* gate, const float* up, int64_t n) {
  kAvx512 ? ops_avx512::gelu_mul(gate, up, n) : ops_ref::gelu_mul(gate, up, n);
}
void gelu(float* x, int64_t n) { kAvx512 ? ops_avx512::gelu(x, n) : ops_ref::gelu(x, n); }
void softmax(float* x, int64_t n) { kAvx512 ? ops_avx512::softmax(x, n) : ops_ref::softmax(x, n); }
void to_fp16(uint16_t* dst, const float* src, int64_t n) {
  kAvx512 ? ops_avx512::to_fp16(dst, src, n) : ops_ref::to_fp16(dst, src, n);
}

void rope_table(float* cos_out, float* sin_out, int64_t rot_dim, int64_t pos, float theta) {
  for (int64_t i = 0; i < rot_dim / 2; i++) {
    // In double: at positions in the thousands a float angle loses digits.
    const double angle = (double)pos * std::pow((double)theta, -2.0 * (double)i / (double)rot_dim);
    cos_out[i] = (float)std::cos(angle);
    sin_out[i] = (float)std::sin(angle);
  }
}

void rope(float* x, int64_t rot_dim, const float* cos_t, const float* sin_t, bool adjacent) {
  const int64_t half = rot_dim / 2;
  for (int64_t i = 0; i < half; i++) {
    const int64_t a = adjacent ? 2 * i : i;
    const int64_t b = adjacent ? 2 * i + 1 : i + half;
    const float x0 = x[a], x1 = x[b];
    x[a] = x0 * cos_t[i] - x1 * sin_t[i];
    x[b] = x0 * sin_t[i] + x1 * cos_t[i];
  }
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

void scale(float* y, float s, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] *= s;
}

}  // namespace rooflm
