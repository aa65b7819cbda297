// AVX-512 attention of one (node, head) pair; semantics as attention_ref (attention.h).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/vec512.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")

namespace rooflm {

namespace {

// 16 values of a cache row at p (f32 or f16).
template <bool F16>
inline __m512 load16(const void* p, int64_t off) {
  if constexpr (F16)
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(p) + off)));
  else
    return _mm512_loadu_ps(static_cast<const float*>(p) + off);
}

// D = head_dim / 16 vectors per head; F16: the cache holds halves.
template <int D, bool F16>
void attend(const AttentionArgs& a, int i, int h, float* scores) {
  const int kvh = h / (a.n_head / a.n_head_kv);
  const float* q = a.q + (int64_t)i * a.q_stride + (int64_t)h * a.head_dim;
  const int64_t head_off = (int64_t)kvh * a.head_dim;
  const int64_t pos = a.positions[i];
  const int64_t lo = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;
  const int32_t* vis = a.visible + a.visible_begin[i];
  const int n_vis = a.visible_begin[i + 1] - a.visible_begin[i];
  const int64_t n_com = std::max<int64_t>(0, a.n_past - lo);
  const int64_t n = n_com + n_vis;
  // Cache row of key j (0 <= j < n): committed rows first, then the visible batch rows.
  auto row = [&](int64_t j) -> int64_t { return j < n_com ? lo + j : a.n_past + vis[j - n_com]; };

  __m512 qv[D];
  for (int d = 0; d < D; d++) qv[d] = _mm512_loadu_ps(q + 16 * d);
  const __m512 vscale = _mm512_set1_ps(a.scale);
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const int m = (int)std::min<int64_t>(16, n - j0);
    __m512 prod[16];
    for (int j = 0; j < 16; j++) {
      if (j >= m) {
        prod[j] = _mm512_setzero_ps();
        continue;
      }
      const int64_t k = row(j0 + j) * a.kv_stride + head_off;
      __m512 acc = _mm512_mul_ps(qv[0], load16<F16>(a.k_cache, k));
      for (int d = 1; d < D; d++) acc = _mm512_fmadd_ps(qv[d], load16<F16>(a.k_cache, k + 16 * d), acc);
      prod[j] = acc;
    }
    __m512 s = _mm512_mul_ps(vec512::reduce16(prod, vec512::vadd), vscale);
    // batch rows outside the sliding window are masked out
    if (a.window > 0 && j0 + 16 > n_com)
      for (int j = 0; j < m; j++)
        if (j0 + j >= n_com && pos - a.positions[vis[j0 + j - n_com]] >= a.window)
          s = _mm512_mask_mov_ps(s, (__mmask16)(1u << j), _mm512_set1_ps(-INFINITY));
    const __mmask16 valid = vec512::first_lanes(m);
    _mm512_mask_storeu_ps(scores + j0, valid, s);
    mx = _mm512_mask_max_ps(mx, valid, mx, s);
  }
  const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const __mmask16 valid = vec512::first_lanes(std::min<int64_t>(16, n - j0));
    const __m512 e = _mm512_maskz_mov_ps(valid, vec512::exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(valid, scores + j0), vmx)));
    _mm512_mask_storeu_ps(scores + j0, valid, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));

  __m512 acc[D];
  for (int d = 0; d < D; d++) acc[d] = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j++) {
    const __m512 p = _mm512_set1_ps(scores[j]);
    const int64_t v = row(j) * a.kv_stride + head_off;
    for (int d = 0; d < D; d++) acc[d] = _mm512_fmadd_ps(p, load16<F16>(a.v_cache, v + 16 * d), acc[d]);
  }
  float* out = a.out + (int64_t)i * a.out_stride + (int64_t)h * a.head_dim;
  for (int d = 0; d < D; d++) _mm512_storeu_ps(out + 16 * d, _mm512_mul_ps(acc[d], inv));
}

}  // namespace

bool attention_avx512_supports(int head_dim) {
  return head_dim == 32 || head_dim == 64 || head_dim == 128 || head_dim == 256;
}

void attend_one_avx512(const AttentionArgs& a, int node, int head, float* scores) {
  const bool h = a.kv_f16;
  switch (a.head_dim) {
    case 32: return h ? attend<2, true>(a, node, head, scores) : attend<2, false>(a, node, head, scores);
    case 64: return h ? attend<4, true>(a, node, head, scores) : attend<4, false>(a, node, head, scores);
    case 128: return h ? attend<8, true>(a, node, head, scores) : attend<8, false>(a, node, head, scores);
    default: return h ? attend<16, true>(a, node, head, scores) : attend<16, false>(a, node, head, scores);
  }
}

}  // namespace rooflm

#pragma GCC pop_options
