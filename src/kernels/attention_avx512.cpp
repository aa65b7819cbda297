// AVX-512 attention; semantics as attention_ref (attention.h).
//
// Work unit: one batch node x up to 3 query heads that share a KV head (GQA). Converting the
// f16 K/V rows took ~40% of the one-head-at-a-time kernel's samples on Zen 4 (perf, 1000 rows),
// so each K and V row is converted once in registers and used by all the unit's queries. Every query's arithmetic is the same whatever its unit (each score is the same
// product chain and the same transpose-reduction tree of its 16 lanes, and each output the
// same ordered sum over keys), so a tree node's output is bit-identical to the same token
// decoded alone, and to the one-query-at-a-time kernel this replaced.
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

// 16 values of a cache row at element offset off (f32 or f16).
template <bool F16>
inline __m512 load16(const void* p, int64_t off) {
  if constexpr (F16)
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(p) + off)));
  else
    return _mm512_loadu_ps(static_cast<const float*>(p) + off);
}

// Node i, query heads [h0, h0 + Q) (one KV head). D = head_dim / 16. Scores are computed KB
// keys at a time: Q x KB product vectors live in registers and are summed by transpose-
// reductions of 16 vectors (the last one zero-padded when Q x KB is not a multiple of 16).
template <int D, bool F16, int Q>
void attend_group(const AttentionArgs& a, int i, int h0, float* scratch) {
  constexpr int KB = Q == 1 ? 16 : 8;
  constexpr int NV = Q * KB;              // product vectors per block of keys
  constexpr int NR = (NV + 15) / 16;      // reductions per block
  const int kvh = h0 / (a.n_head / a.n_head_kv);
  const int64_t head_off = (int64_t)kvh * 16 * D;
  const int64_t pos = a.positions[i];
  const int64_t lo = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;
  const int32_t* vis = a.visible + a.visible_begin[i];
  const int n_vis = a.visible_begin[i + 1] - a.visible_begin[i];
  const int64_t n_com = std::max<int64_t>(0, a.n_past - lo);
  const int64_t n = n_com + n_vis;
  // Cache row of key j (0 <= j < n): committed rows first, then the visible batch rows.
  auto row = [&](int64_t j) -> int64_t { return j < n_com ? lo + j : a.n_past + vis[j - n_com]; };

  const float* qp[Q];
  float* scores[Q];
  for (int g = 0; g < Q; g++) {
    qp[g] = a.q + (int64_t)i * a.q_stride + (int64_t)(h0 + g) * 16 * D;
    scores[g] = scratch + g * (a.n_past + a.n_tok);
  }

  const __m512 vscale = _mm512_set1_ps(a.scale);
  __m512 mx[Q];
  for (int g = 0; g < Q; g++) mx[g] = _mm512_set1_ps(-INFINITY);
  for (int64_t j0 = 0; j0 < n; j0 += KB) {
    const int m = (int)std::min<int64_t>(KB, n - j0);
    __m512 prod[NR * 16];
    for (int j = 0; j < KB; j++) {
      if (j >= m) {
        for (int g = 0; g < Q; g++) prod[g * KB + j] = _mm512_setzero_ps();
        continue;
      }
      const int64_t k = row(j0 + j) * a.kv_stride + head_off;
      const __m512 k0 = load16<F16>(a.k_cache, k);
      for (int g = 0; g < Q; g++) prod[g * KB + j] = _mm512_mul_ps(_mm512_loadu_ps(qp[g]), k0);
      for (int d = 1; d < D; d++) {
        const __m512 kd = load16<F16>(a.k_cache, k + 16 * d);
        for (int g = 0; g < Q; g++)
          prod[g * KB + j] = _mm512_fmadd_ps(_mm512_loadu_ps(qp[g] + 16 * d), kd, prod[g * KB + j]);
      }
    }
    for (int v = NV; v < NR * 16; v++) prod[v] = _mm512_setzero_ps();
    __m512 red[NR];
    for (int r = 0; r < NR; r++) red[r] = _mm512_mul_ps(vec512::reduce16(prod + 16 * r, vec512::vadd), vscale);
    // batch rows outside the sliding window are masked out (the same keys for every query)
    __mmask16 out_of_window = 0;
    if (a.window > 0 && j0 + KB > n_com)
      for (int j = 0; j < m; j++)
        if (j0 + j >= n_com && pos - a.positions[vis[j0 + j - n_com]] >= a.window) out_of_window |= (__mmask16)(1u << j);
    const __mmask16 valid = vec512::first_lanes(m);
    for (int g = 0; g < Q; g++) {
      // query g's KB scores: lanes [g KB, g KB + KB) of the reductions, moved to lanes 0..KB-1
      const __m512 r = red[g * KB / 16];
      __m512 s = (g * KB) % 16 == 0 ? r : _mm512_shuffle_f32x4(r, r, 0xEE);
      s = _mm512_mask_mov_ps(s, out_of_window, _mm512_set1_ps(-INFINITY));
      _mm512_mask_storeu_ps(scores[g] + j0, valid, s);
      mx[g] = _mm512_mask_max_ps(mx[g], valid, mx[g], s);
    }
  }

  float inv[Q];
  for (int g = 0; g < Q; g++) {
    const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx[g]));
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j0 = 0; j0 < n; j0 += 16) {
      const __mmask16 valid = vec512::first_lanes(std::min<int64_t>(16, n - j0));
      const __m512 e =
          _mm512_maskz_mov_ps(valid, vec512::exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(valid, scores[g] + j0), vmx)));
      _mm512_mask_storeu_ps(scores[g] + j0, valid, e);
      sum = _mm512_add_ps(sum, e);
    }
    inv[g] = 1.0f / _mm512_reduce_add_ps(sum);
  }

  __m512 acc[Q][D];
  for (int g = 0; g < Q; g++)
    for (int d = 0; d < D; d++) acc[g][d] = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j++) {
    __m512 p[Q];
    for (int g = 0; g < Q; g++) p[g] = _mm512_set1_ps(scores[g][j]);
    const int64_t v = row(j) * a.kv_stride + head_off;
    for (int d = 0; d < D; d++) {
      const __m512 vd = load16<F16>(a.v_cache, v + 16 * d);
      for (int g = 0; g < Q; g++) acc[g][d] = _mm512_fmadd_ps(p[g], vd, acc[g][d]);
    }
  }
  for (int g = 0; g < Q; g++) {
    float* out = a.out + (int64_t)i * a.out_stride + (int64_t)(h0 + g) * 16 * D;
    const __m512 vinv = _mm512_set1_ps(inv[g]);
    for (int d = 0; d < D; d++) _mm512_storeu_ps(out + 16 * d, _mm512_mul_ps(acc[g][d], vinv));
  }
}

template <int D, bool F16>
void attend_heads(const AttentionArgs& a, int i, int h0, int count, float* scratch) {
  switch (count) {
    case 1: return attend_group<D, F16, 1>(a, i, h0, scratch);
    case 2: if constexpr (D <= 8) return attend_group<D, F16, 2>(a, i, h0, scratch); break;
    case 3: if constexpr (D <= 4) return attend_group<D, F16, 3>(a, i, h0, scratch); break;
    default: break;
  }
  // more heads than registers allow for this head size: one at a time
  for (int g = 0; g < count; g++) attend_group<D, F16, 1>(a, i, h0 + g, scratch);
}

}  // namespace

bool attention_avx512_supports(int head_dim) {
  return head_dim == 32 || head_dim == 64 || head_dim == 128 || head_dim == 256;
}

int attention_avx512_max_heads(int head_dim) { return head_dim <= 64 ? 3 : head_dim == 128 ? 2 : 1; }

void attend_heads_avx512(const AttentionArgs& a, int node, int head_begin, int count, float* scratch) {
  const bool h = a.kv_f16;
  switch (a.head_dim) {
    case 32: return h ? attend_heads<2, true>(a, node, head_begin, count, scratch) : attend_heads<2, false>(a, node, head_begin, count, scratch);
    case 64: return h ? attend_heads<4, true>(a, node, head_begin, count, scratch) : attend_heads<4, false>(a, node, head_begin, count, scratch);
    case 128: return h ? attend_heads<8, true>(a, node, head_begin, count, scratch) : attend_heads<8, false>(a, node, head_begin, count, scratch);
    default: return h ? attend_heads<16, true>(a, node, head_begin, count, scratch) : attend_heads<16, false>(a, node, head_begin, count, scratch);
  }
}

}  // namespace rooflm

#pragma GCC pop_options
