// AVX-512 attention; semantics as attention_ref (attention.h).
//
// Work unit: one batch node x up to 3 query heads that share a KV head (GQA). Each K tile
// vector and V row is converted once in registers and used by all the unit's queries.
// Scores are computed 16 keys at a time from the key tiles (attention.h): one vector holds one
// dimension of 16 keys, each query multiplies it with its broadcast value, so there are no
// horizontal sums (the earlier kernel, on row-major K, spent ~22% of its samples reducing
// product vectors and spilled them). Every query's arithmetic is the same whatever its unit:
// each score is the same four product chains (dimensions d = r mod 4, in order) summed as
// ((c0 + c1) + (c2 + c3)), its key in the same lane of the same block of 16 keys counted
// from the first visible one, and each output the same ordered sum over keys. So a tree
// node's output is bit-identical to the same token decoded alone (its ancestors then being
// committed rows), and to any thread split.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/fp16.h"
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

// 16 lanes of one channel of key tiles: tile t0's lanes as they are (Permute = false), or
// lane l taken from lane idx[l] of the 32 lanes of t0 followed by t1. Lanes past a block's valid
// keys hold other cache values (finite, never stored) or zeros.
template <bool F16, bool Permute>
inline __m512 tile_lanes(const void* t0, const void* t1, int64_t off, __m512i idx) {
  if constexpr (!Permute) {
    return load16<F16>(t0, off);
  } else if constexpr (F16) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(t0) + off));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(t1) + off));
    return _mm512_cvtph_ps(_mm256_permutex2var_epi16(a, _mm512_castsi512_si256(idx), b));
  } else {
    const __m512 a = _mm512_loadu_ps(static_cast<const float*>(t0) + off);
    const __m512 b = _mm512_loadu_ps(static_cast<const float*>(t1) + off);
    return _mm512_permutex2var_ps(a, idx, b);
  }
}

// Scores of Q queries (qp[g], 16 D dims) for 16 keys whose channel c is at element c * 16 of
// t0 (and t1, see tile_lanes): four chains per query over d = 0, 4, 8, ... / 1, 5, ... / ...
template <int D, bool F16, int Q, bool Permute>
inline void tile_scores(const float* const (&qp)[Q], const void* t0, const void* t1, __m512i idx, __m512 scale,
                        __m512 (&s)[Q]) {
  __m512 c[Q][4];
  for (int g = 0; g < Q; g++)
    for (int r = 0; r < 4; r++) c[g][r] = _mm512_setzero_ps();
  for (int d = 0; d < 16 * D; d += 4) {
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
      const __m512 k = tile_lanes<F16, Permute>(t0, t1, (int64_t)(d + r) * kKeyTile, idx);
      for (int g = 0; g < Q; g++) c[g][r] = _mm512_fmadd_ps(_mm512_set1_ps(qp[g][d + r]), k, c[g][r]);
    }
  }
  for (int g = 0; g < Q; g++)
    s[g] = _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(c[g][0], c[g][1]), _mm512_add_ps(c[g][2], c[g][3])), scale);
}

// Node i, query heads [h0, h0 + Q) (one KV head). D = head_dim / 16.
template <int D, bool F16, int Q>
void attend_group(const AttentionArgs& a, int i, int h0, float* scratch) {
  using Elem = std::conditional_t<F16, uint16_t, float>;
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
  float* gathered = scratch + 3 * (a.n_past + a.n_tok);  // one key tile, as f32
  const Elem* kc = static_cast<const Elem*>(a.k_cache);
  const int64_t tile_elems = a.kv_stride * kKeyTile;
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);

  const __m512 vscale = _mm512_set1_ps(a.scale);
  __m512 mx[Q];
  for (int g = 0; g < Q; g++) mx[g] = _mm512_set1_ps(-INFINITY);
  for (int64_t j0 = 0; j0 < n; j0 += kKeyTile) {
    const int m = (int)std::min<int64_t>(kKeyTile, n - j0);
    const __mmask16 valid = vec512::first_lanes(m);
    // Lane l holds key j0 + l, whose row is base + idx[l]. Blocks whose rows lie within two
    // tiles (all of a decode step's, a chain's and the committed part's, and a tree node's
    // last block unless the tree is long) read the tiles directly, permuting lanes where the
    // rows are shifted (sliding windows) or picked (a node's ancestors). The rest gather.
    int64_t base;
    __m512i idx;
    int span;  // highest idx
    if (j0 + m <= n_com) {
      base = (lo + j0) / kKeyTile * kKeyTile;
      const int shift = (int)(lo + j0 - base);
      idx = _mm512_add_epi32(lane, _mm512_set1_epi32(shift));
      span = shift + m - 1;
    } else {
      int64_t lo_row = row(j0), hi_row = lo_row;
      for (int l = 1; l < m; l++) lo_row = std::min(lo_row, row(j0 + l)), hi_row = std::max(hi_row, row(j0 + l));
      base = lo_row / kKeyTile * kKeyTile;
      span = (int)std::min<int64_t>(hi_row - base, 1 << 20);
      alignas(64) int32_t ix[kKeyTile] = {};
      if (span < 2 * kKeyTile)
        for (int l = 0; l < m; l++) ix[l] = (int32_t)(row(j0 + l) - base);
      idx = _mm512_load_si512(ix);
    }
    const Elem* t0 = kc + (base / kKeyTile) * tile_elems + head_off * kKeyTile;
    const Elem* t1 = span >= kKeyTile ? t0 + tile_elems : t0;  // the next tile only if reached
    const __m512i pidx = F16 ? _mm512_castsi256_si512(_mm512_cvtepi32_epi16(idx)) : idx;
    __m512 s[Q];
    if (span < kKeyTile && _mm512_mask_cmpneq_epi32_mask(valid, idx, lane) == 0) {
      tile_scores<D, F16, Q, false>(qp, t0, t1, pidx, vscale, s);
    } else if (span < 2 * kKeyTile) {
      tile_scores<D, F16, Q, true>(qp, t0, t1, pidx, vscale, s);
    } else {
      // rows too far apart: gathered lane by lane into an f32 tile (f16 converts exactly)
      for (int d = 0; d < 16 * D; d++) _mm512_storeu_ps(gathered + d * kKeyTile, _mm512_setzero_ps());
      for (int l = 0; l < m; l++) {
        const Elem* e = kc + k_tile_offset(row(j0 + l), head_off, a.kv_stride);
        for (int d = 0; d < 16 * D; d++) {
          if constexpr (F16) gathered[d * kKeyTile + l] = fp16_to_fp32(e[d * kKeyTile]);
          else gathered[d * kKeyTile + l] = e[d * kKeyTile];
        }
      }
      tile_scores<D, false, Q, false>(qp, gathered, gathered, lane, vscale, s);
    }
    // batch rows outside the sliding window are masked out (the same keys for every query)
    __mmask16 out_of_window = 0;
    if (a.window > 0 && j0 + kKeyTile > n_com)
      for (int j = 0; j < m; j++)
        if (j0 + j >= n_com && pos - a.positions[vis[j0 + j - n_com]] >= a.window) out_of_window |= (__mmask16)(1u << j);
    for (int g = 0; g < Q; g++) {
      const __m512 sg = _mm512_mask_mov_ps(s[g], out_of_window, _mm512_set1_ps(-INFINITY));
      _mm512_mask_storeu_ps(scores[g] + j0, valid, sg);
      mx[g] = _mm512_mask_max_ps(mx[g], valid, mx[g], sg);
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
