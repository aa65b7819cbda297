// AVX-512 VNNI kernels on the RP16 packed layout (see quant.h): 16 rows per zmm lane set,
// activations broadcast 4 bytes at a time, vpdpbusd accumulates each 32-value block in int32.
// Also: activation quantization and the float-weight (F32/F16/BF16) kernels.
// GCC 12 warns falsely about _mm512_undefined_* inside the intrinsics headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant.h"
#include "kernels/quant_simd512.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512bf16,fma,f16c,avx2")

namespace rooflm::kern {

namespace {

using namespace simd512;

// G row groups x T tokens: acc[g][t] holds 16 rows of token t. G = 2 for the GEMV gives
// two independent f32 chains (the canonical order is per row, so groups may interleave).
template <Bits B, Scl S, int T, int G>
inline void tile_kernel(const uint8_t* const* grp, int64_t nb, const ActQ& a, int64_t t0, float* y,
                        int64_t rows, const int64_t* r0, const __mmask16* rmask) {
  constexpr int BB = bit_bytes<B>();
  __m512 acc[G][T];
#pragma GCC unroll 2
  for (int g = 0; g < G; g++)
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) acc[g][t] = _mm512_setzero_ps();
  const int8_t* q0 = a.q + t0 * a.q_stride;
  const ActBlock* b0 = a.blk + t0 * nb;
  for (int64_t k = 0; k < nb; k++) {
#pragma GCC unroll 2
    for (int g = 0; g < G; g++) {
      __m512i w[8];
      unpack<B>(grp[g] + k * BB, w);
      const BlockScales sc = load_scales<S>(grp[g] + nb * BB, k);
#pragma GCC unroll 8
      for (int t = 0; t < T; t++) block_fma<S>(w, q0 + t * a.q_stride + 32 * k, b0[t * nb + k], sc, acc[g][t]);
    }
  }
#pragma GCC unroll 2
  for (int g = 0; g < G; g++)
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) _mm512_mask_storeu_ps(y + (t0 + t) * rows + r0[g], rmask[g], acc[g][t]);
}

template <Bits B, Scl S>
void run(const QJob& j, int64_t g0, int64_t g1) {
  const ActQ& a = *j.act;
  const int64_t nb = a.nb;
  const int64_t n = a.n_tok;
  uint8_t* tmp = j.packed ? nullptr : scratch(2, 2 * j.gbytes);
  for (int64_t g = g0; g < g1;) {
    const int G = (n == 1 && g + 1 < g1) ? 2 : 1;
    const uint8_t* grp[2];
    int64_t r0[2];
    __mmask16 rmask[2];
    for (int i = 0; i < G; i++) {
      if (j.packed) {
        grp[i] = j.packed + (g + i) * j.gbytes;
      } else {
        pack_group(*j.fmt, j.data, j.row_stride, j.rows, j.cols, g + i, tmp + i * j.gbytes);
        grp[i] = tmp + i * j.gbytes;
      }
      r0[i] = (g + i) * kGroupRows;
      const int64_t nr = j.rows - r0[i] < kGroupRows ? j.rows - r0[i] : kGroupRows;
      rmask[i] = (__mmask16)((1u << nr) - 1);
    }
    if (G == 2) {
      tile_kernel<B, S, 1, 2>(grp, nb, a, 0, j.y, j.rows, r0, rmask);
      g += 2;
      continue;
    }
    int64_t t = 0;
    for (; t + 8 <= n; t += 8) tile_kernel<B, S, 8, 1>(grp, nb, a, t, j.y, j.rows, r0, rmask);
    if (t + 4 <= n) {
      tile_kernel<B, S, 4, 1>(grp, nb, a, t, j.y, j.rows, r0, rmask);
      t += 4;
    }
    if (t + 2 <= n) {
      tile_kernel<B, S, 2, 1>(grp, nb, a, t, j.y, j.rows, r0, rmask);
      t += 2;
    }
    if (t < n) tile_kernel<B, S, 1, 1>(grp, nb, a, t, j.y, j.rows, r0, rmask);
    g += 1;
  }
}

}  // namespace

void qgemm_avx512(const QJob& j, int64_t g0, int64_t g1) {
  const QuantFormat& f = *j.fmt;
  switch (f.scl) {
    case Scl::Sym:
      if (f.bits == Bits::B8) return run<Bits::B8, Scl::Sym>(j, g0, g1);
      if (f.bits == Bits::B4) return run<Bits::B4, Scl::Sym>(j, g0, g1);
      return run<Bits::B5, Scl::Sym>(j, g0, g1);
    case Scl::Min:
      if (f.bits == Bits::B4) return run<Bits::B4, Scl::Min>(j, g0, g1);
      return run<Bits::B5, Scl::Min>(j, g0, g1);
    case Scl::KMin:
      if (f.bits == Bits::B4) return run<Bits::B4, Scl::KMin>(j, g0, g1);
      return run<Bits::B5, Scl::KMin>(j, g0, g1);
    case Scl::K6:
      return run<Bits::B6, Scl::K6>(j, g0, g1);
  }
}

// ---- activation quantization ----

void quantize_act_avx512(const QuantFormat& f, const float* x, ActQ& a, int64_t t0, int64_t t1) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t t = t0; t < t1; t++) {
    const float* xt = x + t * a.cols;
    int8_t* q = a.q + t * a.q_stride;
    ActBlock* blk = a.blk + t * a.nb;
    for (int64_t k = 0; k < a.nb; k++) {
      const __m512 v0 = _mm512_loadu_ps(xt + 32 * k);
      const __m512 v1 = _mm512_loadu_ps(xt + 32 * k + 16);
      const __m512 m = _mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1));
      const float amax = _mm512_reduce_max_ps(m);
      const float dx = amax / 127.0f;
      const float id = amax > 0 ? 127.0f / amax : 0.0f;
      const __m512 vid = _mm512_set1_ps(id);
      const __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, vid));
      const __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, vid));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 32 * k), _mm512_cvtsepi32_epi8(i0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 32 * k + 16), _mm512_cvtsepi32_epi8(i1));
      const int s_lo = _mm512_reduce_add_epi32(i0), s_hi = _mm512_reduce_add_epi32(i1);
      const int s = s_lo + s_hi;
      ActBlock& b = blk[k];
      b.dx = dx;
      b.dxs = dx * (float)s;
      b.c0 = f.scl == Scl::Sym ? -f.off * s : f.scl == Scl::K6 ? -32 * s_lo : 0;
      b.c1 = f.scl == Scl::K6 ? -32 * s_hi : 0;
    }
  }
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
