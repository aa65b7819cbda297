// AVX-512 building blocks on the RP16 layout shared by the AVX-512 and AMX kernels.
// Include only from translation units that run these on AVX-512 machines.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c,avx2")

namespace rooflm::kern::simd512 {

inline __m512i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// The 8 quad-rows (16 rows x 4 values, u8) of one packed block.
template <Bits B>
inline void unpack(const uint8_t* b, __m512i w[8]) {
  if constexpr (B == Bits::B8) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) w[j] = _mm512_loadu_si512(b + 64 * j);
  } else {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 4
    for (int p = 0; p < 4; p++) {
      const __m512i v = _mm512_loadu_si512(b + 64 * p);
      w[p] = _mm512_and_si512(v, m4);
      w[p + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    if constexpr (B == Bits::B5) {
      const __m512i h = _mm512_set1_epi8(0x10);
#pragma GCC unroll 8
      for (int j = 0; j < 8; j++) {
        __mmask64 k;
        std::memcpy(&k, b + 256 + 8 * j, 8);
        w[j] = _mm512_mask_add_epi8(w[j], k, w[j], h);
      }
    } else if constexpr (B == Bits::B6) {
      const __m512i m = _mm512_set1_epi8(0x30);
      const __m512i h0 = _mm512_loadu_si512(b + 256), h1 = _mm512_loadu_si512(b + 320);
      // w | (shifted & 0x30): ternary-logic A | (B & C) = 0xF8
      w[0] = _mm512_ternarylogic_epi32(w[0], _mm512_slli_epi16(h0, 4), m, 0xF8);
      w[1] = _mm512_ternarylogic_epi32(w[1], _mm512_slli_epi16(h0, 2), m, 0xF8);
      w[2] = _mm512_ternarylogic_epi32(w[2], h0, m, 0xF8);
      w[3] = _mm512_ternarylogic_epi32(w[3], _mm512_srli_epi16(h0, 2), m, 0xF8);
      w[4] = _mm512_ternarylogic_epi32(w[4], _mm512_slli_epi16(h1, 4), m, 0xF8);
      w[5] = _mm512_ternarylogic_epi32(w[5], _mm512_slli_epi16(h1, 2), m, 0xF8);
      w[6] = _mm512_ternarylogic_epi32(w[6], h1, m, 0xF8);
      w[7] = _mm512_ternarylogic_epi32(w[7], _mm512_srli_epi16(h1, 2), m, 0xF8);
    }
  }
}

struct BlockScales {
  __m512 A0, A1, B;
};

inline __m512 h16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512 u8x16(const uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline __m512 i8x16(const uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// Per-row f32 factors of block k of the unit whose scales are at sreg (k = 0 for Sym/Min,
// 0..7 for KMin/K6; see the canonical computation and the layout in quant.h).
template <Scl S>
inline BlockScales load_scales(const uint8_t* sreg, int64_t k) {
  BlockScales s;
  if constexpr (S == Scl::Sym) {
    s.A0 = h16(sreg + 32 * k);
    s.A1 = s.A0;
    s.B = _mm512_setzero_ps();
  } else if constexpr (S == Scl::Min) {
    s.A0 = h16(sreg + 64 * k);
    s.A1 = s.A0;
    s.B = h16(sreg + 64 * k + 32);
  } else if constexpr (S == Scl::KMin) {
    const uint8_t* h = sreg + 320 * (k >> 3);
    const uint8_t* e = h + 64 + 32 * (k & 7);
    s.A0 = _mm512_mul_ps(h16(h), u8x16(e));
    s.A1 = s.A0;
    // -(dmin * m): flip the sign bit (exact)
    s.B = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(_mm512_mul_ps(h16(h + 32), u8x16(e + 16))),
                                                _mm512_set1_epi32((int)0x80000000u)));
  } else {
    const uint8_t* h = sreg + 288 * (k >> 3);
    const uint8_t* e = h + 32 + 32 * (k & 7);
    const __m512 d = h16(h);
    s.A0 = _mm512_mul_ps(d, i8x16(e));
    s.A1 = _mm512_mul_ps(d, i8x16(e + 16));
    s.B = _mm512_setzero_ps();
  }
  return s;
}

// Post-processing of one block's int32 dot products (canonical order).
template <Scl S>
inline void post(__m512i i0, __m512i i1, const ActBlock& ab, const BlockScales& sc, __m512& acc) {
  const __m512 dx = _mm512_set1_ps(ab.dx);
  if constexpr (S == Scl::K6) {
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), _mm512_mul_ps(sc.A0, dx), acc);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), _mm512_mul_ps(sc.A1, dx), acc);
  } else {
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), _mm512_mul_ps(sc.A0, dx), acc);
    if constexpr (S == Scl::Min || S == Scl::KMin) acc = _mm512_fmadd_ps(sc.B, _mm512_set1_ps(ab.dxs), acc);
  }
}

// One block x one token: vpdpbusd over the 8 quads, then post.
template <Scl S>
inline void block_fma(const __m512i w[8], const int8_t* q, const ActBlock& ab, const BlockScales& sc,
                      __m512& acc) {
  if constexpr (S == Scl::K6) {
    __m512i i0 = _mm512_set1_epi32(ab.c0), i1 = _mm512_set1_epi32(ab.c1);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) i0 = _mm512_dpbusd_epi32(i0, w[j], bcast4(q + 4 * j));
#pragma GCC unroll 4
    for (int j = 4; j < 8; j++) i1 = _mm512_dpbusd_epi32(i1, w[j], bcast4(q + 4 * j));
    post<S>(i0, i1, ab, sc, acc);
  } else {
    // two chains for latency, summed exactly in int32
    __m512i i0 = S == Scl::Sym ? _mm512_set1_epi32(ab.c0) : _mm512_setzero_si512();
    __m512i i1 = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int j = 0; j < 8; j += 2) {
      i0 = _mm512_dpbusd_epi32(i0, w[j], bcast4(q + 4 * j));
      i1 = _mm512_dpbusd_epi32(i1, w[j + 1], bcast4(q + 4 * j + 4));
    }
    post<S>(_mm512_add_epi32(i0, i1), i1, ab, sc, acc);
  }
}

}  // namespace rooflm::kern::simd512

#pragma GCC pop_options
