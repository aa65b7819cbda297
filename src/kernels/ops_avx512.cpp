// AVX-512 versions of the transcendental and reducing ops (see ops.h). Tails are handled
// with masked loads/stores, so each element gets the same instructions wherever it sits.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include "kernels/ops.h"
#include "kernels/vec512.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")

namespace rooflm::ops_avx512 {

namespace {

using vec512::first_lanes;

// Applies f to n elements of `a` (and `b`, may be null) 16 at a time: a[i] = f(a[i], b[i]).
template <typename F>
inline void map2(float* a, const float* b, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(a + i, f(_mm512_loadu_ps(a + i), b ? _mm512_loadu_ps(b + i) : _mm512_setzero_ps()));
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    _mm512_mask_storeu_ps(a + i, m, f(_mm512_maskz_loadu_ps(m, a + i), b ? _mm512_maskz_loadu_ps(m, b + i) : _mm512_setzero_ps()));
  }
}

// Sum over n elements of f(x[i]) in two f32 vector chains.
template <typename F>
inline float sum_map(const float* x, int64_t n, F f) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_add_ps(s0, f(_mm512_loadu_ps(x + i)));
    s1 = _mm512_add_ps(s1, f(_mm512_loadu_ps(x + i + 16)));
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_add_ps(s0, f(_mm512_loadu_ps(x + i)));
  if (i < n) s1 = _mm512_add_ps(s1, _mm512_maskz_mov_ps(first_lanes(n - i), f(_mm512_maskz_loadu_ps(first_lanes(n - i), x + i))));
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

// y = (x - m) * r * w + b over n elements (w, b may be null).
inline void affine(float* y, const float* x, float m, float r, const float* w, const float* b, int64_t n) {
  const __m512 vm = _mm512_set1_ps(m), vr = _mm512_set1_ps(r);
  auto one = [&](int64_t i, __mmask16 k) {
    __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vm), vr);
    if (w) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(k, w + i));
    if (b) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, b + i));
    _mm512_mask_storeu_ps(y + i, k, v);
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) one(i, (__mmask16)0xFFFF);
  if (i < n) one(i, first_lanes(n - i));
}

inline __m512 gelu_tanh(__m512 x) {
  // gelu_tanh(x) = 0.5 x (1 + tanh(z)) = x sigmoid(2 z), z = sqrt(2/pi) (x + 0.044715 x^3)
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  const __m512 z2 = _mm512_mul_ps(_mm512_set1_ps(2.0f * 0.7978845608028654f),
                                  _mm512_fmadd_ps(x3, _mm512_set1_ps(0.044715f), x));
  return vec512::x_sigmoid(x, z2);
}

}  // namespace

void rmsnorm(float* y, const float* x, const float* w, int64_t n, float eps) {
  const float ss = sum_map(x, n, [](__m512 v) { return _mm512_mul_ps(v, v); });
  const float r = 1.0f / std::sqrt(ss / (float)n + eps);
  affine(y, x, 0.0f, r, w, nullptr, n);
}

void layernorm(float* y, const float* x, const float* w, const float* b, int64_t n, float eps) {
  const float m = sum_map(x, n, [](__m512 v) { return v; }) / (float)n;
  const __m512 vm = _mm512_set1_ps(m);
  const float var = sum_map(x, n, [&](__m512 v) {
                      const __m512 d = _mm512_sub_ps(v, vm);
                      return _mm512_mul_ps(d, d);
                    }) / (float)n;
  affine(y, x, m, 1.0f / std::sqrt(var + eps), w, b, n);
}

void silu_mul(float* gate, const float* up, int64_t n) {
  map2(gate, up, n, [](__m512 g, __m512 u) { return _mm512_mul_ps(vec512::x_sigmoid(g, g), u); });
}

void gelu_mul(float* gate, const float* up, int64_t n) {
  map2(gate, up, n, [](__m512 g, __m512 u) { return _mm512_mul_ps(gelu_tanh(g), u); });
}

void gelu(float* x, int64_t n) {
  map2(x, nullptr, n, [](__m512 v, __m512) { return gelu_tanh(v); });
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  __m512 mx = _mm512_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(x + i));
  if (i < n) mx = _mm512_mask_max_ps(mx, first_lanes(n - i), mx, _mm512_maskz_loadu_ps(first_lanes(n - i), x + i));
  const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  map2(x, nullptr, n, [&](__m512 v, __m512) { return vec512::exp(_mm512_sub_ps(v, vmx)); });
  const __m512 inv = _mm512_set1_ps(1.0f / sum_map(x, n, [](__m512 v) { return v; }));
  map2(x, nullptr, n, [&](__m512 v, __m512) { return _mm512_mul_ps(v, inv); });
}

void exp(float* x, int64_t n) {
  map2(x, nullptr, n, [](__m512 v, __m512) { return vec512::exp(v); });
}

void to_fp16(uint16_t* dst, const float* src, int64_t n) {
  constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_cvtps_ph(_mm512_loadu_ps(src + i), kRne));
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    _mm256_mask_storeu_epi16(dst + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), kRne));
  }
}

}  // namespace rooflm::ops_avx512

#pragma GCC pop_options
