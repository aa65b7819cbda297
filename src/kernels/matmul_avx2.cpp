// AVX2 + FMA + F16C kernels (no AVX-512, no VNNI): the RP16 layout processed as two halves of
// 8 rows per group, int8 dot products with vpmaddubsw + vpmaddwd. Same canonical arithmetic
// as every other path (quant.h). Also: AVX2 activation quantization, float-weight kernels
// and the fast dequantizers (bit-exact with the reference).
// GCC 12 warns falsely about _mm512_undefined_* inside the intrinsics headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/fp16.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace rooflm::kern {

namespace {

inline __m256i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// 32 bits -> 32 bytes, 0xFF where the bit is set (byte i <- bit i).
inline __m256i bytes_from_bits(uint32_t m) {
  const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3,
                                        3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)m), shuf);
  v = _mm256_and_si256(v, bit);
  return _mm256_cmpeq_epi8(v, bit);
}

// Quad-rows of rows 8h..8h+7 of one packed block (u8).
template <Bits B>
inline void unpack(const uint8_t* b, int h, __m256i w[8]) {
  if constexpr (B == Bits::B8) {
    for (int j = 0; j < 8; j++) w[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 64 * j + 32 * h));
  } else {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int p = 0; p < 4; p++) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 64 * p + 32 * h));
      w[p] = _mm256_and_si256(v, m4);
      w[p + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    if constexpr (B == Bits::B5) {
      const __m256i h10 = _mm256_set1_epi8(0x10);
      for (int j = 0; j < 8; j++) {
        uint32_t m;
        std::memcpy(&m, b + 256 + 8 * j + 4 * h, 4);
        w[j] = _mm256_or_si256(w[j], _mm256_and_si256(bytes_from_bits(m), h10));
      }
    } else if constexpr (B == Bits::B6) {
      const __m256i m = _mm256_set1_epi8(0x30);
      for (int hh = 0; hh < 2; hh++) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 256 + 64 * hh + 32 * h));
        w[4 * hh + 0] = _mm256_or_si256(w[4 * hh + 0], _mm256_and_si256(_mm256_slli_epi16(v, 4), m));
        w[4 * hh + 1] = _mm256_or_si256(w[4 * hh + 1], _mm256_and_si256(_mm256_slli_epi16(v, 2), m));
        w[4 * hh + 2] = _mm256_or_si256(w[4 * hh + 2], _mm256_and_si256(v, m));
        w[4 * hh + 3] = _mm256_or_si256(w[4 * hh + 3], _mm256_and_si256(_mm256_srli_epi16(v, 2), m));
      }
    }
  }
}

struct Sc8 {
  __m256 A0, A1, B;
};

inline __m256 h8(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 u8x8(const uint8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline __m256 i8x8(const uint8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

template <Scl S>
inline Sc8 load_scales(const uint8_t* sreg, int64_t k, int h) {
  Sc8 s;
  if constexpr (S == Scl::Sym) {
    s.A0 = s.A1 = h8(sreg + 32 * k + 16 * h);
    s.B = _mm256_setzero_ps();
  } else if constexpr (S == Scl::Min) {
    s.A0 = s.A1 = h8(sreg + 64 * k + 16 * h);
    s.B = h8(sreg + 64 * k + 32 + 16 * h);
  } else if constexpr (S == Scl::KMin) {
    const uint8_t* hd = sreg + 320 * (k >> 3);
    const uint8_t* e = hd + 64 + 32 * (k & 7) + 8 * h;
    s.A0 = s.A1 = _mm256_mul_ps(h8(hd + 16 * h), u8x8(e));
    s.B = _mm256_xor_ps(_mm256_mul_ps(h8(hd + 32 + 16 * h), u8x8(e + 16)), _mm256_set1_ps(-0.0f));
  } else {
    const uint8_t* hd = sreg + 288 * (k >> 3);
    const uint8_t* e = hd + 32 + 32 * (k & 7) + 8 * h;
    const __m256 d = h8(hd + 16 * h);
    s.A0 = _mm256_mul_ps(d, i8x8(e));
    s.A1 = _mm256_mul_ps(d, i8x8(e + 16));
    s.B = _mm256_setzero_ps();
  }
  return s;
}

// int32 lanes += sum over 4 bytes of u8 w * s8 q (no overflow for w <= 63 or via sign trick).
template <Bits B>
inline __m256i dot4(__m256i acc, __m256i w, __m256i q) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i p;
  if constexpr (B == Bits::B8) {
    const __m256i ws = _mm256_xor_si256(w, _mm256_set1_epi8((char)0x80));  // signed weight
    p = _mm256_maddubs_epi16(_mm256_abs_epi8(ws), _mm256_sign_epi8(q, ws));
  } else {
    p = _mm256_maddubs_epi16(w, q);
  }
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
}

template <Bits B, Scl S>
inline void block_fma(const __m256i w[8], const int8_t* q, const ActBlock& ab, const Sc8& sc, __m256& acc) {
  const __m256 dx = _mm256_set1_ps(ab.dx);
  if constexpr (S == Scl::K6) {
    __m256i i0 = _mm256_set1_epi32(ab.c0), i1 = _mm256_set1_epi32(ab.c1);
    for (int j = 0; j < 4; j++) i0 = dot4<B>(i0, w[j], bcast4(q + 4 * j));
    for (int j = 4; j < 8; j++) i1 = dot4<B>(i1, w[j], bcast4(q + 4 * j));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0), _mm256_mul_ps(sc.A0, dx), acc);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i1), _mm256_mul_ps(sc.A1, dx), acc);
  } else {
    // B8 uses the signed weight directly: w.q = u.q - 128 S, i.e. c0 is already included.
    __m256i i0 = (S == Scl::Sym && B != Bits::B8) ? _mm256_set1_epi32(ab.c0) : _mm256_setzero_si256();
    for (int j = 0; j < 8; j++) i0 = dot4<B>(i0, w[j], bcast4(q + 4 * j));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0), _mm256_mul_ps(sc.A0, dx), acc);
    if constexpr (S == Scl::Min || S == Scl::KMin) acc = _mm256_fmadd_ps(sc.B, _mm256_set1_ps(ab.dxs), acc);
  }
}

template <Bits B, Scl S, int T>
inline void tile_kernel(const uint8_t* grp, int64_t nb, const ActQ& a, int64_t t0, int h, float* y,
                        int64_t rows, int64_t r0, int nr) {
  constexpr Rp16Layout L = rp16_layout<B, S>();
  __m256 acc[T];
  for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
  for (int64_t k = 0; k < nb; k++) {
    __m256i w[8];
    unpack<B>(grp + L.bits_offset(k), h, w);
    const Sc8 sc = load_scales<S>(grp + L.scales_offset(k), L.unit_index(k), h);
    for (int t = 0; t < T; t++)
      block_fma<B, S>(w, act_q(a, t0 + t, k), *act_blk(a, t0 + t, k), sc, acc[t]);
  }
  for (int t = 0; t < T; t++) {
    float* yt = y + (t0 + t) * rows + r0;
    if (nr == 8) {
      _mm256_storeu_ps(yt, acc[t]);
    } else {
      alignas(32) float tmp[8];
      _mm256_store_ps(tmp, acc[t]);
      for (int i = 0; i < nr; i++) yt[i] = tmp[i];
    }
  }
}

template <Bits B, Scl S>
void run(const QJob& j, int64_t g0, int64_t g1) {
  const ActQ& a = *j.act;
  uint8_t* tmp = j.packed ? nullptr : scratch(2, j.gbytes);
  for (int64_t g = g0; g < g1; g++) {
    const uint8_t* grp;
    if (j.packed) {
      grp = j.packed + g * j.gbytes;
    } else {
      pack_group(*j.fmt, j.data, j.row_stride, j.rows, j.cols, g, tmp);
      grp = tmp;
    }
    for (int h = 0; h < 2; h++) {
      const int64_t r0 = g * kGroupRows + 8 * h;
      if (r0 >= j.rows) break;
      const int nr = (int)(j.rows - r0 < 8 ? j.rows - r0 : 8);
      int64_t t = 0;
      for (; t + 4 <= a.n_tok; t += 4) tile_kernel<B, S, 4>(grp, a.nb, a, t, h, j.y, j.rows, r0, nr);
      for (; t < a.n_tok; t++) tile_kernel<B, S, 1>(grp, a.nb, a, t, h, j.y, j.rows, r0, nr);
    }
  }
}

}  // namespace

void qgemm_avx2(const QJob& j, int64_t g0, int64_t g1) {
  const QuantFormat& f = *j.fmt;
  dispatch_format(f, [&]<Bits B, Scl S>() { run<B, S>(j, g0, g1); });
}

// ---- activation quantization ----

namespace {
inline float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}
inline int hsum8i(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}
}  // namespace

void quantize_act_avx2(const QuantFormat& f, const float* x, ActQ& a, int64_t t0, int64_t t1) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t t = t0; t < t1; t++) {
    const float* xt = x + t * a.cols;
    for (int64_t k = 0; k < a.nb; k++) {
      int8_t* q = act_q(a, t, k);
      __m256 v[4];
      for (int i = 0; i < 4; i++) v[i] = _mm256_loadu_ps(xt + 32 * k + 8 * i);
      const __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                                     _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
      const float amax = hmax8(m);
      const float dx = amax / 127.0f;
      const float id = amax > 0 ? 127.0f / amax : 0.0f;
      const __m256 vid = _mm256_set1_ps(id);
      __m256i iv[4];
      for (int i = 0; i < 4; i++) iv[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], vid));
      const __m256i p01 = _mm256_packs_epi32(iv[0], iv[1]), p23 = _mm256_packs_epi32(iv[2], iv[3]);
      const __m256i b = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p01, p23), perm);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), b);
      const int s_lo = hsum8i(_mm256_add_epi32(iv[0], iv[1])), s_hi = hsum8i(_mm256_add_epi32(iv[2], iv[3]));
      const int s = s_lo + s_hi;
      ActBlock& bl = *act_blk(a, t, k);
      bl.dx = dx;
      bl.dxs = dx * (float)s;
      bl.c0 = f.scl == Scl::Sym ? -f.off * s : f.scl == Scl::K6 ? -32 * s_lo : 0;
      bl.c1 = f.scl == Scl::K6 ? -32 * s_hi : 0;
    }
  }
}

// ---- float weights ----

namespace {

template <DType D>
inline __m256 load8(const uint8_t* row, int64_t c) {
  if constexpr (D == DType::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c);
  } else if constexpr (D == DType::F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
  } else {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
}

template <DType D>
inline float load1(const uint8_t* row, int64_t c) {
  uint16_t h;
  if constexpr (D == DType::F32) {
    float f;
    std::memcpy(&f, row + 4 * c, 4);
    return f;
  } else if constexpr (D == DType::F16) {
    std::memcpy(&h, row + 2 * c, 2);
    return fp16_to_fp32(h);
  } else {
    std::memcpy(&h, row + 2 * c, 2);
    return bf16_to_fp32(h);
  }
}

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <DType D, int R, int T>
inline void ftile(const FJob& j, int64_t r, int64_t t0) {
  __m256 acc[R][T];
  for (int i = 0; i < R; i++)
    for (int t = 0; t < T; t++) acc[i][t] = _mm256_setzero_ps();
  const uint8_t* rows[R];
  for (int i = 0; i < R; i++) rows[i] = j.data + (size_t)(r + i) * j.row_stride;
  const float* xs[T];
  for (int t = 0; t < T; t++) xs[t] = j.x + (t0 + t) * j.cols;
  int64_t c = 0;
  for (; c + 8 <= j.cols; c += 8) {
    __m256 xv[T];
    for (int t = 0; t < T; t++) xv[t] = _mm256_loadu_ps(xs[t] + c);
    for (int i = 0; i < R; i++) {
      const __m256 wv = load8<D>(rows[i], c);
      for (int t = 0; t < T; t++) acc[i][t] = _mm256_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
  for (int i = 0; i < R; i++)
    for (int t = 0; t < T; t++) {
      float s = hsum8(acc[i][t]);
      for (int64_t cc = c; cc < j.cols; cc++) s += load1<D>(rows[i], cc) * xs[t][cc];
      j.y[(t0 + t) * j.rows + r + i] = s;
    }
}

template <DType D>
void frun(const FJob& j, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    int64_t t = 0;
    for (; t + 2 <= j.n_tok; t += 2) ftile<D, 4, 2>(j, r, t);
    for (; t < j.n_tok; t++) ftile<D, 4, 1>(j, r, t);
  }
  for (; r < r1; r++)
    for (int64_t t = 0; t < j.n_tok; t++) ftile<D, 1, 1>(j, r, t);
}

}  // namespace

void fgemm_avx2(const FJob& j, int64_t r0, int64_t r1) {
  switch (j.type) {
    case DType::F32: return frun<DType::F32>(j, r0, r1);
    case DType::F16: return frun<DType::F16>(j, r0, r1);
    default: return frun<DType::BF16>(j, r0, r1);
  }
}

// ---- fast dequantization, bit-exact with dequantize_row_ref ----

namespace {

// A product the compiler must not fuse into a following add (the reference rounds it).
inline __m256 opaque(__m256 v) {
  __asm__("" : "+x"(v));
  return v;
}
inline float opaque(float v) {
  __asm__("" : "+x"(v));
  return v;
}
inline float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_fp32(h);
}
// 8 bytes (u8) -> 8 floats
inline __m256 cvt_u8(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)); }
inline __m256 cvt_i8(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)); }

// 32 codes (byte i = value i) written as y = d * (code - off)  [or d*code + m when has_min].
inline void emit32(__m256i codes, __m256 d, int off, bool has_min, __m256 m, float* y) {
  const __m128i lo = _mm256_castsi256_si128(codes), hi = _mm256_extracti128_si256(codes, 1);
  const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
  for (int i = 0; i < 4; i++) {
    __m256 u = cvt_u8(parts[i]);
    if (has_min) {
      _mm256_storeu_ps(y + 8 * i, _mm256_add_ps(opaque(_mm256_mul_ps(d, u)), m));
    } else {
      u = _mm256_sub_ps(u, _mm256_set1_ps((float)off));  // exact (small integers)
      _mm256_storeu_ps(y + 8 * i, _mm256_mul_ps(d, u));
    }
  }
}

// 16 packed bytes -> 32 codes: low nibbles then high nibbles.
inline __m256i nibbles32(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i m4 = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m4), _mm_and_si128(v, m4));
}

}  // namespace

void dequantize_row_avx2(DType type, const void* src_v, float* y, int64_t n) {
  const uint8_t* src = static_cast<const uint8_t*>(src_v);
  (void)row_bytes(type, n);
  switch (type) {
    case DType::F32:
      std::memcpy(y, src, (size_t)n * 4);
      return;
    case DType::F16:
    case DType::BF16: {
      int64_t i = 0;
      if (type == DType::F16) {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, load8<DType::F16>(src, i));
        for (; i < n; i++) y[i] = load1<DType::F16>(src, i);
      } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, load8<DType::BF16>(src, i));
        for (; i < n; i++) y[i] = load1<DType::BF16>(src, i);
      }
      return;
    }
    case DType::Q8_0:
      for (int64_t b = 0; b < n / 32; b++, src += 34, y += 32) {
        const __m256 d = _mm256_set1_ps(h2f(src));
        for (int i = 0; i < 4; i++)
          _mm256_storeu_ps(y + 8 * i, _mm256_mul_ps(cvt_i8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + 2 + 8 * i))), d));
      }
      return;
    case DType::Q4_0:
      for (int64_t b = 0; b < n / 32; b++, src += 18, y += 32)
        emit32(nibbles32(src + 2), _mm256_set1_ps(h2f(src)), 8, false, _mm256_setzero_ps(), y);
      return;
    case DType::Q4_1:
      for (int64_t b = 0; b < n / 32; b++, src += 20, y += 32)
        emit32(nibbles32(src + 4), _mm256_set1_ps(h2f(src)), 0, true, _mm256_set1_ps(h2f(src + 2)), y);
      return;
    case DType::Q5_0:
    case DType::Q5_1: {
      const bool one = type == DType::Q5_1;
      const int bs = one ? 24 : 22;
      for (int64_t b = 0; b < n / 32; b++, src += bs, y += 32) {
        uint32_t qh;
        std::memcpy(&qh, src + (one ? 4 : 2), 4);
        const __m256i codes = _mm256_or_si256(nibbles32(src + (one ? 8 : 6)),
                                              _mm256_and_si256(bytes_from_bits(qh), _mm256_set1_epi8(0x10)));
        emit32(codes, _mm256_set1_ps(h2f(src)), 16, one, one ? _mm256_set1_ps(h2f(src + 2)) : _mm256_setzero_ps(), y);
      }
      return;
    }
    case DType::Q4_K:
    case DType::Q5_K: {
      const bool five = type == DType::Q5_K;
      const int bsz = five ? 176 : 144;
      const __m128i m4 = _mm_set1_epi8(0x0F);
      for (int64_t b = 0; b < n / 256; b++, src += bsz) {
        const float d = h2f(src), dmin = h2f(src + 2);
        const uint8_t* s = src + 4;
        const uint8_t* qs = src + (five ? 48 : 16);
        const __m256i qh = five ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 16)) : _mm256_setzero_si256();
        for (int j = 0; j < 8; j++, y += 32) {
          int sc, mn;
          if (j < 4) {
            sc = s[j] & 63;
            mn = s[j + 4] & 63;
          } else {
            sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
            mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
          }
          const __m256 ds = _mm256_set1_ps(opaque(d * (float)sc));
          const __m256 dm = _mm256_set1_ps(opaque(dmin * (float)mn));
          const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + 32 * (j / 2)));
          const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + 32 * (j / 2) + 16));
          __m256i codes = (j & 1) ? _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v1, 4), m4), _mm_and_si128(_mm_srli_epi16(v0, 4), m4))
                                  : _mm256_set_m128i(_mm_and_si128(v1, m4), _mm_and_si128(v0, m4));
          if (five) {
            // bit j of each qh byte -> 0x10
            const __m256i bit = _mm256_set1_epi8((char)(1 << j));
            const __m256i hb = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
            codes = _mm256_or_si256(codes, _mm256_and_si256(hb, _mm256_set1_epi8(0x10)));
          }
          const __m128i lo = _mm256_castsi256_si128(codes), hi = _mm256_extracti128_si256(codes, 1);
          const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
          for (int i = 0; i < 4; i++)
            _mm256_storeu_ps(y + 8 * i, _mm256_sub_ps(opaque(_mm256_mul_ps(ds, cvt_u8(parts[i]))), dm));
        }
      }
      return;
    }
    case DType::Q6_K: {
      const __m128i m4 = _mm_set1_epi8(0x0F), m3 = _mm_set1_epi8(3);
      for (int64_t b = 0; b < n / 256; b++, src += 210) {
        const uint8_t* ql = src;
        const uint8_t* qh = src + 128;
        const int8_t* sc = reinterpret_cast<const int8_t*>(src + 192);
        const float d = h2f(src + 208);
        for (int c8 = 0; c8 < 8; c8++) {  // 32-value chunk
          const int half = c8 / 4, c = c8 % 4;
          for (int s16 = 0; s16 < 2; s16++) {
            const int l0 = 16 * s16;
            const __m128i lb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ql + 64 * half + 32 * (c & 1) + l0));
            const __m128i lo = c < 2 ? _mm_and_si128(lb, m4) : _mm_and_si128(_mm_srli_epi16(lb, 4), m4);
            const __m128i hb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qh + 32 * half + l0));
            const __m128i hi = _mm_and_si128(_mm_srli_epi16(hb, 2 * c), m3);
            const __m128i code = _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32));
            const int idx = 32 * c8 + l0;
            const __m256 ds = _mm256_set1_ps(opaque(d * (float)sc[idx / 16]));
            _mm256_storeu_ps(y + idx, _mm256_mul_ps(ds, cvt_i8(code)));
            _mm256_storeu_ps(y + idx + 8, _mm256_mul_ps(ds, cvt_i8(_mm_srli_si128(code, 8))));
          }
        }
        y += 256;
      }
      return;
    }
    default:
      dequantize_row_ref(type, src, y, n);
  }
}

}  // namespace rooflm::kern

#pragma GCC pop_options
