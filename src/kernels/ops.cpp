#include "kernels/ops.h"

#include <algorithm>
#include <cmath>

namespace rooflm {

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

void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

static inline float gelu_tanh(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

void gelu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) gate[i] = gelu_tanh(gate[i]) * up[i];
}

void gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = gelu_tanh(x[i]);
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

void scale(float* y, float s, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] *= s;
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

}  // namespace rooflm
