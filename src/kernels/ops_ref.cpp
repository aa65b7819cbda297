// Scalar reference versions of the vectorized ops (the test oracles; also the path on CPUs
// without AVX-512). Transcendentals and sums in double, so the oracle is the accurate side.
#include <algorithm>
#include <cmath>

#include "core/fp16.h"
#include "kernels/ops.h"

namespace rooflm::ops_ref {

void rmsnorm(float* y, const float* x, const float* w, int64_t n, float eps) {
  double ss = 0.0;
  for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
  const float r = 1.0f / std::sqrt((float)(ss / (double)n) + eps);
  if (w) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * r * w[i];
  } else {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * r;
  }
}

void layernorm(float* y, const float* x, const float* w, const float* b, int64_t n, float eps) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; i++) mean += x[i];
  mean /= (double)n;
  double var = 0.0;
  for (int64_t i = 0; i < n; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
  var /= (double)n;
  const float r = 1.0f / std::sqrt((float)var + eps);
  const float m = (float)mean;
  for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) * r * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
}

void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const double g = gate[i];
    gate[i] = (float)(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

// In double: in float, 1 + tanh(z) cancels for negative x and loses all digits.
static inline double gelu_tanh(double x) {
  const double k = 0.7978845608028654;  // sqrt(2/pi)
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

void gelu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) gate[i] = (float)(gelu_tanh(gate[i]) * up[i]);
}

void gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = (float)gelu_tanh(x[i]);
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float mx = x[0];
  for (int64_t i = 1; i < n; i++) mx = std::max(mx, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = (float)(1.0 / sum);
  for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void exp(float* x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = std::exp(x[i]);
}

void to_fp16(uint16_t* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = fp32_to_fp16(src[i]);
}

}  // namespace rooflm::ops_ref
