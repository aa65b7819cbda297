// AVX-512 math helpers shared by the kernels: a vector exp, sigmoid and transpose-reductions.
// Include only from translation units that run these on AVX-512 machines (the functions are
// compiled for AVX-512 via the target pragma; callers choose the path at run time).
#pragma once
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")

namespace rooflm::vec512 {

// e^x to about 1 ulp over the f32 range; overflow gives inf; results that would be subnormal
// (inputs below about -87.3) are 0, because arithmetic on subnormals takes microcode assists
// (BENCHMARKS.md, "Subnormal probabilities"). NaN stays NaN (the clamps pass a NaN second
// operand through).
// Method: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r by its degree-7
// Taylor polynomial (truncation error < 6e-9 relative), then scale by 2^n with vscalefps.
inline __m512 exp(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(89.0f), x);  // beyond ln(FLT_MAX): scalef gives inf
  x = _mm512_max_ps(_mm512_set1_ps(-110.0f), x);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);  // ln2 high part (exact product)
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);      // ln2 low part
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __mmask16 normal = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33654f), _CMP_NLT_UQ);  // x >= ln(FLT_MIN), or NaN
  return _mm512_maskz_scalef_ps(normal, p, n);
}

// x * sigmoid(k x) = x / (1 + e^(-k x)): silu is k = 1; the tanh form of gelu is
// x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)).
inline __m512 x_sigmoid(__m512 x, __m512 kx) {
  const __m512 e = exp(_mm512_sub_ps(_mm512_setzero_ps(), kx));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// r[i] = op-reduction over the 16 lanes of v[i], for 16 vectors, as one vector: a transpose-
// reduce butterfly (45 shuffles/ops for 16 reductions instead of 16 x 8).
template <class Op>
inline __m512 reduce16(__m512 v[16], Op op) {
  __m512 w[8], x[4], y[2];
  for (int i = 0; i < 8; i++)  // [a0 a1 b0 b1] op [a2 a3 b2 b3] (128-bit lanes)
    w[i] = op(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44), _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
  for (int i = 0; i < 4; i++)  // [a0 a2 b0 b2] op [a1 a3 b1 b3]
    x[i] = op(_mm512_shuffle_f32x4(w[2 * i], w[2 * i + 1], 0x88), _mm512_shuffle_f32x4(w[2 * i], w[2 * i + 1], 0xDD));
  for (int i = 0; i < 2; i++)  // within 128-bit lanes: [a0 a1 b0 b1] op [a2 a3 b2 b3]
    y[i] = op(_mm512_shuffle_ps(x[2 * i], x[2 * i + 1], 0x44), _mm512_shuffle_ps(x[2 * i], x[2 * i + 1], 0xEE));
  const __m512 z = op(_mm512_shuffle_ps(y[0], y[1], 0x88), _mm512_shuffle_ps(y[0], y[1], 0xDD));
  // lane 4c + e of z holds vector index: c-th 128-bit chunk of x -> v[4 (x idx) + c], then
  // y/z interleave: e = 0: x[0] (v 0..3 -> 4*0+c), e = 1: x[1], e = 2: x[2], e = 3: x[3]
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(idx, z);
}

inline __m512 vmax(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }
inline __m512 vadd(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
inline __m512 vaddi(__m512 a, __m512 b) {
  return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)));
}

// Mask of the first n (<= 16) lanes.
inline __mmask16 first_lanes(int64_t n) { return (__mmask16)((1u << n) - 1); }

}  // namespace rooflm::vec512

#pragma GCC pop_options
