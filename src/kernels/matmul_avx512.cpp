// AVX-512 VNNI kernels on the RP16 packed layout (see quant.h): 16 rows per zmm lane set,
// activations broadcast 4 bytes at a time, vpdpbusd accumulates each 32-value block in int32.
// Also: activation quantization and the float-weight (F32/F16/BF16) kernels.
// GCC 12 warns falsely about _mm512_undefined_* inside the intrinsics headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/quant.h"
#include "kernels/quant_simd512.h"
#include "kernels/tuning.h"
#include "kernels/vec512.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512bf16,fma,f16c,avx2")

namespace rooflm::kern {

namespace {

using namespace simd512;

// One row group x T tokens: acc[t] holds the 16 rows of token t. The GEMV (T = 1) also takes
// one group at a time: two groups side by side would double the memory streams the hardware
// prefetcher has to follow (docs/KERNEL_NOTES.md).
template <Bits B, Scl S, int T>
inline void tile_kernel(const uint8_t* grp, int64_t nb, const ActQ& a, int64_t t0, float* y, int64_t rows,
                        int64_t r0, __mmask16 rmask, const uint8_t* pf, int64_t pf_step) {
  constexpr Rp16Layout L = rp16_layout<B, S>();
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
  for (int64_t k = 0; k < nb; k++) {
    // Software prefetch of the groups that come next (hardware prefetchers stop at 4 KB pages),
    // into L2 only: the lines of the group being computed stay in L1.
    if (pf)
      for (int64_t o = 0; o < pf_step; o += 64) _mm_prefetch((const char*)pf + k * pf_step + o, _MM_HINT_T1);
    __m512i w[8];
    unpack<B>(grp + L.bits_offset(k), w);
    const BlockScales sc = load_scales<S>(grp + L.scales_offset(k), L.unit_index(k));
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) block_fma<S>(w, act_q(a, t0 + t, k), *act_blk(a, t0 + t, k), sc, acc[t]);
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) _mm512_mask_storeu_ps(y + (t0 + t) * rows + r0, rmask, acc[t]);
}

// Software prefetch of weights streamed from L3/DRAM into L2, pf_dist groups ahead
// (kernel_tuning().pf_dist; one group is best with each block's scales after its bits). On AMD
// it covers only the first pf_max_bytes of a thread's share, after which Zen 4's hardware
// prefetcher has the stream; on Intel the whole share, which its hardware prefetcher does not
// keep streaming (docs/KERNEL_NOTES.md, BENCHMARKS.md "Whole-share prefetch on Intel").

template <Bits B, Scl S>
void run(const QJob& j, int64_t g0, int64_t g1) {
  const ActQ& a = *j.act;
  const int64_t nb = a.nb;
  const int64_t n = j.t1 < 0 ? a.n_tok : j.t1;
  const int64_t tb = j.t0;
  if (tb >= n) return;
  uint8_t* tmp = j.packed ? nullptr : scratch(2, j.gbytes);
  const int64_t pf_dist = kernel_tuning().pf_dist;
  const int64_t pf_max_bytes = kernel_tuning().pf_max_bytes;
  // Prologue: the loop prefetches pf_dist groups ahead of the one it computes, so the first
  // groups of this slice would be left to the hardware prefetcher: request them now.
  if (j.packed) {
    const uint8_t* b = j.packed + (g0 + 1) * j.gbytes;
    const uint8_t* e = j.packed + std::min(g1, g0 + 1 + pf_dist) * j.gbytes;
    for (const uint8_t* p = b; p < e; p += 64) _mm_prefetch((const char*)p, _MM_HINT_T1);
  }
  const int64_t pf_step = (((int64_t)j.gbytes + nb - 1) / nb + 63) / 64 * 64;
  for (int64_t g = g0; g < g1; g++) {
    const uint8_t* grp = j.packed ? j.packed + g * j.gbytes : tmp;
    if (!j.packed) pack_group(*j.fmt, j.data, j.row_stride, j.rows, j.cols, g, tmp);
    const int64_t r0 = g * kGroupRows;
    const int64_t nr = std::min<int64_t>(j.rows - r0, kGroupRows);
    const __mmask16 rmask = (__mmask16)((1u << nr) - 1);
    // the group pf_dist ahead is prefetched while this one is computed (once per group: by the
    // first token tile)
    const uint8_t* pf = j.packed && pf_dist > 0 && g + 1 + pf_dist <= g1 && (g - g0) * (int64_t)j.gbytes < pf_max_bytes
                            ? j.packed + (g + pf_dist) * j.gbytes
                            : nullptr;
    int64_t t = tb;
    auto step = [&](auto tile, int64_t width) {
      tile(grp, nb, a, t, j.y, j.rows, r0, rmask, pf, t == tb ? pf_step : 0);
      t += width;
    };
    while (t + 8 <= n) step(tile_kernel<B, S, 8>, 8);
    // The rest in one tile of its own width: each tile unpacks the group's weights again
    // (tiles of 2 + 1 made 3-node forwards cost more than 4-node ones: docs/KERNEL_NOTES.md).
    switch (n - t) {
      case 7: step(tile_kernel<B, S, 7>, 7); break;
      case 6: step(tile_kernel<B, S, 6>, 6); break;
      case 5: step(tile_kernel<B, S, 5>, 5); break;
      case 4: step(tile_kernel<B, S, 4>, 4); break;
      case 3: step(tile_kernel<B, S, 3>, 3); break;
      case 2: step(tile_kernel<B, S, 2>, 2); break;
      case 1: step(tile_kernel<B, S, 1>, 1); break;
      default: break;
    }
  }
}

}  // namespace

void qgemm_avx512(const QJob& j, int64_t g0, int64_t g1) {
  const QuantFormat& f = *j.fmt;
  dispatch_format(f, [&]<Bits B, Scl S>() { run<B, S>(j, g0, g1); });
}

// ---- activation quantization ----

namespace {

using vec512::reduce16;
using vec512::vaddi;
using vec512::vmax;

// n <= 16 blocks of 32 values at once (any tokens: block i reads xb[i], writes qb[i], bb[i]).
inline void quantize_block16(const QuantFormat& f, const float* const* xb, int8_t* const* qb, ActBlock* const* bb,
                             int n) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  __m512 m[16];
  for (int i = 0; i < 16; i++)
    m[i] = i < n ? _mm512_max_ps(_mm512_andnot_ps(sign, _mm512_loadu_ps(xb[i])),
                                 _mm512_andnot_ps(sign, _mm512_loadu_ps(xb[i] + 16)))
                 : _mm512_setzero_ps();
  const __m512 amax = reduce16(m, vmax);
  const __m512 dx = _mm512_div_ps(amax, _mm512_set1_ps(127.0f));
  const __mmask16 nz = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ);
  const __m512 id = _mm512_maskz_div_ps(nz, _mm512_set1_ps(127.0f), amax);
  alignas(64) float idv[16];
  _mm512_store_ps(idv, id);
  __m512 slo[16], shi[16];
  for (int i = n; i < 16; i++) slo[i] = shi[i] = _mm512_setzero_ps();
  for (int i = 0; i < n; i++) {
    const __m512 vid = _mm512_set1_ps(idv[i]);
    const __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb[i]), vid));
    const __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb[i] + 16), vid));
    const __m256i packed = _mm256_set_m128i(_mm512_cvtsepi32_epi8(i1), _mm512_cvtsepi32_epi8(i0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qb[i]), packed);
    slo[i] = _mm512_castsi512_ps(i0);
    shi[i] = _mm512_castsi512_ps(i1);
  }
  const __m512i s_lo = _mm512_castps_si512(reduce16(slo, vaddi));
  const __m512i s_hi = _mm512_castps_si512(reduce16(shi, vaddi));
  const __m512i s = _mm512_add_epi32(s_lo, s_hi);
  const __m512 dxs = _mm512_mul_ps(dx, _mm512_cvtepi32_ps(s));
  __m512i c0 = _mm512_setzero_si512(), c1 = _mm512_setzero_si512();
  if (f.scl == Scl::Sym) c0 = _mm512_mullo_epi32(s, _mm512_set1_epi32(-f.off));
  if (f.scl == Scl::K6) {
    c0 = _mm512_mullo_epi32(s_lo, _mm512_set1_epi32(-32));
    c1 = _mm512_mullo_epi32(s_hi, _mm512_set1_epi32(-32));
  }
  // AoS {dx, dxs, c0, c1} x 16: scatter through a small transpose in memory
  alignas(64) float t[4][16];
  _mm512_store_ps(t[0], dx);
  _mm512_store_ps(t[1], dxs);
  _mm512_store_si512(t[2], c0);
  _mm512_store_si512(t[3], c1);
  for (int i = 0; i < n; i++) {
    ActBlock& b = *bb[i];
    b.dx = t[0][i];
    b.dxs = t[1][i];
    std::memcpy(&b.c0, &t[2][i], 4);
    std::memcpy(&b.c1, &t[3][i], 4);
  }
}

}  // namespace

void quantize_act_avx512(const QuantFormat& f, const float* x, ActQ& a, int64_t t0, int64_t t1) {
  // the (token, block) pairs in order, 16 at a time across token boundaries
  const float* xb[16];
  int8_t* qb[16];
  ActBlock* bb[16];
  int n = 0;
  for (int64_t t = t0; t < t1; t++) {
    for (int64_t k = 0; k < a.nb; k++) {
      xb[n] = x + t * a.cols + 32 * k;
      qb[n] = act_q(a, t, k);
      bb[n] = act_blk(a, t, k);
      if (++n == 16) {
        quantize_block16(f, xb, qb, bb, 16);
        n = 0;
      }
    }
  }
  if (n) quantize_block16(f, xb, qb, bb, n);
}

// ---- float weights: 4 rows x up to 4 tokens per register tile, 16 lanes along cols ----

namespace {

template <DType D>
inline __m512 load16(const uint8_t* row, int64_t c) {
  if constexpr (D == DType::F32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + c);
  } else if constexpr (D == DType::F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c)));
  } else {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  }
}

template <DType D>
inline __m512 load_tail(const uint8_t* row, int64_t c, __mmask16 m) {
  if constexpr (D == DType::F32) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + c);
  } else if constexpr (D == DType::F16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + 2 * c));
  } else {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, row + 2 * c));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  }
}

template <DType D, int R, int T>
inline void ftile(const FJob& j, int64_t r, int64_t t0) {
  __m512 acc[R][T];
  for (int i = 0; i < R; i++)
    for (int t = 0; t < T; t++) acc[i][t] = _mm512_setzero_ps();
  const uint8_t* rows[R];
  for (int i = 0; i < R; i++) rows[i] = j.data + (size_t)(r + i) * j.row_stride;
  const float* xs[T];
  for (int t = 0; t < T; t++) xs[t] = j.x + (t0 + t) * j.cols;
  int64_t c = 0;
  for (; c + 16 <= j.cols; c += 16) {
    __m512 xv[T];
    for (int t = 0; t < T; t++) xv[t] = _mm512_loadu_ps(xs[t] + c);
    for (int i = 0; i < R; i++) {
      const __m512 wv = load16<D>(rows[i], c);
      for (int t = 0; t < T; t++) acc[i][t] = _mm512_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
  if (c < j.cols) {
    const __mmask16 m = (__mmask16)((1u << (j.cols - c)) - 1);
    __m512 xv[T];
    for (int t = 0; t < T; t++) xv[t] = _mm512_maskz_loadu_ps(m, xs[t] + c);
    for (int i = 0; i < R; i++) {
      const __m512 wv = load_tail<D>(rows[i], c, m);
      for (int t = 0; t < T; t++) acc[i][t] = _mm512_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
  for (int i = 0; i < R; i++)
    for (int t = 0; t < T; t++) j.y[(t0 + t) * j.rows + r + i] = _mm512_reduce_add_ps(acc[i][t]);
}

template <DType D>
void frun(const FJob& j, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    int64_t t = 0;
    for (; t + 4 <= j.n_tok; t += 4) ftile<D, 4, 4>(j, r, t);
    for (; t < j.n_tok; t++) ftile<D, 4, 1>(j, r, t);
  }
  for (; r < r1; r++) {
    int64_t t = 0;
    for (; t + 4 <= j.n_tok; t += 4) ftile<D, 1, 4>(j, r, t);
    for (; t < j.n_tok; t++) ftile<D, 1, 1>(j, r, t);
  }
}

}  // namespace

void fgemm_avx512(const FJob& j, int64_t r0, int64_t r1) {
  switch (j.type) {
    case DType::F32: return frun<DType::F32>(j, r0, r1);
    case DType::F16: return frun<DType::F16>(j, r0, r1);
    default: return frun<DType::BF16>(j, r0, r1);
  }
}

}  // namespace rooflm::kern

#pragma GCC pop_options
