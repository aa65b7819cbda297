// Scalar reference dequantization + matmul, the packed-layout formats and the scalar path.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/fp16.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"

namespace rooflm {

namespace {

inline float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_fp32(h);
}

// a*b rounded to f32 (an opaque value: the compiler must not fuse it into a later add,
// because the gguf package computes these products and sums separately).
inline float mul_r(float a, float b) {
  float p = a * b;
  __asm__("" : "+x"(p));
  return p;
}

// Q4_K / Q5_K packed 6-bit scales: sub-block j in 0..7 -> (sc, m).
inline void k_scale_min(const uint8_t* s, int j, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = (uint8_t)((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4));
    m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

}  // namespace

WeightMatrix make_weight(DType type, int64_t rows, int64_t cols, const void* data) {
  if (rows < 0) fail("weight: negative row count ", rows);
  WeightMatrix w;
  w.type = type;
  w.rows = rows;
  w.cols = cols;
  w.row_stride = row_bytes(type, cols);  // checks cols against the block size
  w.data = static_cast<const uint8_t*>(data);
  return w;
}

void dequantize_row_ref(DType type, const void* src_v, float* y, int64_t n) {
  const uint8_t* src = static_cast<const uint8_t*>(src_v);
  (void)row_bytes(type, n);
  switch (type) {
    case DType::F32:
      std::memcpy(y, src, (size_t)n * 4);
      return;
    case DType::F16:
      for (int64_t i = 0; i < n; i++) y[i] = h2f(src + 2 * i);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; i++) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        y[i] = bf16_to_fp32(b);
      }
      return;
    case DType::Q8_0:
      for (int64_t b = 0; b < n / 32; b++, src += 34, y += 32) {
        const float d = h2f(src);
        for (int i = 0; i < 32; i++) y[i] = (float)(int8_t)src[2 + i] * d;
      }
      return;
    case DType::Q4_0:
      for (int64_t b = 0; b < n / 32; b++, src += 18, y += 32) {
        const float d = h2f(src);
        for (int i = 0; i < 16; i++) {
          y[i] = d * (float)((src[2 + i] & 0x0F) - 8);
          y[i + 16] = d * (float)((src[2 + i] >> 4) - 8);
        }
      }
      return;
    case DType::Q4_1:
      for (int64_t b = 0; b < n / 32; b++, src += 20, y += 32) {
        const float d = h2f(src), m = h2f(src + 2);
        for (int i = 0; i < 16; i++) {
          y[i] = mul_r(d, (float)(src[4 + i] & 0x0F)) + m;
          y[i + 16] = mul_r(d, (float)(src[4 + i] >> 4)) + m;
        }
      }
      return;
    case DType::Q5_0:
      for (int64_t b = 0; b < n / 32; b++, src += 22, y += 32) {
        const float d = h2f(src);
        uint32_t qh;
        std::memcpy(&qh, src + 2, 4);
        for (int i = 0; i < 16; i++) {
          const int lo = (src[6 + i] & 0x0F) | (((qh >> i) & 1) << 4);
          const int hi = (src[6 + i] >> 4) | (((qh >> (i + 16)) & 1) << 4);
          y[i] = d * (float)(lo - 16);
          y[i + 16] = d * (float)(hi - 16);
        }
      }
      return;
    case DType::Q5_1:
      for (int64_t b = 0; b < n / 32; b++, src += 24, y += 32) {
        const float d = h2f(src), m = h2f(src + 2);
        uint32_t qh;
        std::memcpy(&qh, src + 4, 4);
        for (int i = 0; i < 16; i++) {
          const int lo = (src[8 + i] & 0x0F) | (((qh >> i) & 1) << 4);
          const int hi = (src[8 + i] >> 4) | (((qh >> (i + 16)) & 1) << 4);
          y[i] = mul_r(d, (float)lo) + m;
          y[i + 16] = mul_r(d, (float)hi) + m;
        }
      }
      return;
    case DType::Q4_K:
    case DType::Q5_K: {
      const bool five = type == DType::Q5_K;
      const int bsz = five ? 176 : 144;
      for (int64_t b = 0; b < n / 256; b++, src += bsz) {
        const float d = h2f(src), dmin = h2f(src + 2);
        const uint8_t* sc = src + 4;
        const uint8_t* qh = src + 16;              // Q5_K only
        const uint8_t* qs = src + (five ? 48 : 16);
        for (int j = 0; j < 8; j++, y += 32) {
          uint8_t s, m;
          k_scale_min(sc, j, s, m);
          const float ds = mul_r(d, (float)s), dm = mul_r(dmin, (float)m);
          const uint8_t* q = qs + 32 * (j / 2);
          for (int i = 0; i < 32; i++) {
            int u = (j & 1) ? (q[i] >> 4) : (q[i] & 0x0F);
            if (five) u |= ((qh[i] >> j) & 1) << 4;
            y[i] = mul_r(ds, (float)u) - dm;
          }
        }
      }
      return;
    }
    case DType::Q6_K:
      for (int64_t b = 0; b < n / 256; b++, src += 210) {
        const uint8_t* ql = src;
        const uint8_t* qh = src + 128;
        const int8_t* sc = reinterpret_cast<const int8_t*>(src + 192);
        const float d = h2f(src + 208);
        for (int i = 0; i < 256; i++) {
          const int half = i / 128, w = i % 128;  // w in the 128-value half
          const int c = w / 32, l = w % 32;      // 32-chunk in the half, position
          const uint8_t lb = ql[64 * half + 32 * (c & 1) + l];
          const int lo = (c < 2) ? (lb & 0x0F) : (lb >> 4);
          const int hi = (qh[32 * half + l] >> (2 * c)) & 3;
          const float ds = mul_r(d, (float)sc[i / 16]);
          y[i] = ds * (float)((lo | (hi << 4)) - 32);
        }
        y += 256;
      }
      return;
    default:
      fail("dequantize: unsupported number format ", dtype_name(type));
  }
}

void matmul_ref(const WeightMatrix& w, const float* x, int64_t n_tok, float* y) {
  std::vector<float> row((size_t)w.cols);
  for (int64_t r = 0; r < w.rows; r++) {
    dequantize_row_ref(w.type, w.data + (size_t)r * w.row_stride, row.data(), w.cols);
    for (int64_t t = 0; t < n_tok; t++) {
      const float* xt = x + t * w.cols;
      double s = 0;
      for (int64_t c = 0; c < w.cols; c++) s += (double)row[c] * (double)xt[c];
      y[t * w.rows + r] = (float)s;
    }
  }
}

void get_row(const WeightMatrix& w, int64_t row, float* dst) {
  if (row < 0 || row >= w.rows) fail("get_row: row ", row, " out of range [0, ", w.rows, ")");
  if (w.packed) {
    const kern::QuantFormat& f = *kern::quant_format(w.type);
    const int64_t g = row / kern::kGroupRows;
    kern::dequantize_packed_row(f, w.packed + (size_t)g * kern::group_bytes(f, w.cols), row % kern::kGroupRows,
                                w.cols, dst);
    return;
  }
  dequantize_row(w.type, w.data + (size_t)row * w.row_stride, dst, w.cols);
}

namespace kern {

namespace {
constexpr QuantFormat kFormats[] = {
    {DType::Q8_0, Bits::B8, Scl::Sym, 128, 512, 32},
    {DType::Q4_0, Bits::B4, Scl::Sym, 8, 256, 32},
    {DType::Q5_0, Bits::B5, Scl::Sym, 16, 320, 32},
    {DType::Q4_1, Bits::B4, Scl::Min, 0, 256, 64},
    {DType::Q5_1, Bits::B5, Scl::Min, 0, 320, 64},
    {DType::Q4_K, Bits::B4, Scl::KMin, 0, 256, 320},
    {DType::Q5_K, Bits::B5, Scl::KMin, 0, 320, 320},
    {DType::Q6_K, Bits::B6, Scl::K6, 32, 384, 288},
};
constexpr bool formats_match_layout() {
  for (const QuantFormat& f : kFormats)
    if (f.bit_bytes != rp16_bit_bytes(f.bits) || f.scale_bytes != rp16_scale_bytes(f.scl)) return false;
  return true;
}
static_assert(formats_match_layout(), "kFormats' byte counts must match the RP16 layout in quant.h");

// One 32-value block of one GGUF row decoded to codes + raw scale fields.
struct BlockCodes {
  uint8_t u[32];
  uint16_t d = 0, m = 0;    // fp16 bits (d; m = min for Min, dmin for KMin)
  uint8_t sc = 0, mn = 0;   // KMin sub-block scale / min (6-bit)
  int8_t sc2[2] = {0, 0};   // K6 half scales
};

void decode_block(DType t, const uint8_t* row, int64_t k, BlockCodes& o) {
  auto rd16 = [](const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  };
  switch (t) {
    case DType::Q8_0: {
      const uint8_t* b = row + 34 * k;
      o.d = rd16(b);
      for (int i = 0; i < 32; i++) o.u[i] = (uint8_t)(b[2 + i] ^ 0x80);
      return;
    }
    case DType::Q4_0:
    case DType::Q4_1: {
      const bool one = t == DType::Q4_1;
      const uint8_t* b = row + (one ? 20 : 18) * k;
      o.d = rd16(b);
      if (one) o.m = rd16(b + 2);
      const uint8_t* qs = b + (one ? 4 : 2);
      for (int i = 0; i < 16; i++) {
        o.u[i] = qs[i] & 0x0F;
        o.u[i + 16] = qs[i] >> 4;
      }
      return;
    }
    case DType::Q5_0:
    case DType::Q5_1: {
      const bool one = t == DType::Q5_1;
      const uint8_t* b = row + (one ? 24 : 22) * k;
      o.d = rd16(b);
      if (one) o.m = rd16(b + 2);
      uint32_t qh;
      std::memcpy(&qh, b + (one ? 4 : 2), 4);
      const uint8_t* qs = b + (one ? 8 : 6);
      for (int i = 0; i < 16; i++) {
        o.u[i] = (uint8_t)((qs[i] & 0x0F) | (((qh >> i) & 1) << 4));
        o.u[i + 16] = (uint8_t)((qs[i] >> 4) | (((qh >> (i + 16)) & 1) << 4));
      }
      return;
    }
    case DType::Q4_K:
    case DType::Q5_K: {
      const bool five = t == DType::Q5_K;
      const uint8_t* b = row + (five ? 176 : 144) * (k / 8);
      const int j = (int)(k % 8);
      o.d = rd16(b);
      o.m = rd16(b + 2);
      k_scale_min(b + 4, j, o.sc, o.mn);
      const uint8_t* q = b + (five ? 48 : 16) + 32 * (j / 2);
      for (int i = 0; i < 32; i++) {
        int u = (j & 1) ? (q[i] >> 4) : (q[i] & 0x0F);
        if (five) u |= ((b[16 + i] >> j) & 1) << 4;
        o.u[i] = (uint8_t)u;
      }
      return;
    }
    case DType::Q6_K: {
      const uint8_t* b = row + 210 * (k / 8);
      const int j = (int)(k % 8);  // 32-chunk in the super-block
      const int half = j / 4, c = j % 4;
      o.d = rd16(b + 208);
      o.sc2[0] = (int8_t)b[192 + 2 * j];
      o.sc2[1] = (int8_t)b[192 + 2 * j + 1];
      for (int l = 0; l < 32; l++) {
        const uint8_t lb = b[64 * half + 32 * (c & 1) + l];
        const int lo = (c < 2) ? (lb & 0x0F) : (lb >> 4);
        const int hi = (b[128 + 32 * half + l] >> (2 * c)) & 3;
        o.u[l] = (uint8_t)(lo | (hi << 4));
      }
      return;
    }
    default:
      fail("quantized matmul: unsupported number format ", dtype_name(t));
  }
}

float f16f(uint16_t h) { return fp16_to_fp32(h); }

}  // namespace

const QuantFormat* quant_format(DType t) {
  for (const auto& f : kFormats)
    if (f.type == t) return &f;
  return nullptr;
}

size_t group_bytes(const QuantFormat& f, int64_t cols) {
  const int64_t nb = cols / kBlk;
  size_t s = (size_t)nb * f.bit_bytes;
  if (f.scl == Scl::Sym || f.scl == Scl::Min)
    s += (size_t)nb * f.scale_bytes;
  else
    s += (size_t)(nb / 8) * f.scale_bytes;
  return (s + 63) / 64 * 64;
}

namespace {

inline uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void wr32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// Word-level packers for the layouts where RP16 is a 4-byte transpose of the GGUF bytes
// (about as fast as a copy; used by prepare_weight and by the on-the-fly path).
// Q4_0/Q4_1/Q5_0/Q5_1: B4 byte 64p + 4r + i = qs[4p + i] exactly (low nibble = value
// 4p + i, high nibble = value 16 + 4p + i); Q8_0: B8 quad j = qs[4j..4j+3] ^ 0x80.
template <int BSZ, int QS, int QH, int M, bool B8>
void pack_legacy(const uint8_t* data, size_t row_stride, int64_t rows, int64_t nb, int64_t g, uint8_t* dst) {
  constexpr Rp16Layout L = rp16_layout<B8 ? Bits::B8 : QH >= 0 ? Bits::B5 : Bits::B4, M >= 0 ? Scl::Min : Scl::Sym>();
  const int nr = (int)std::min<int64_t>(kGroupRows, rows - g * kGroupRows);
  for (int rr = 0; rr < nr; rr++) {
    const uint8_t* b = data + (size_t)(g * kGroupRows + rr) * row_stride;
    for (int64_t k = 0; k < nb; k++, b += BSZ) {
      uint8_t* bits = dst + L.bits_offset(k) + 4 * rr;
      uint8_t* sc = dst + L.scales_offset(k) + 2 * rr;
      if constexpr (B8) {
        for (int j = 0; j < 8; j++) wr32(bits + 64 * j, rd32(b + QS + 4 * j) ^ 0x80808080u);
      } else {
        for (int p = 0; p < 4; p++) wr32(bits + 64 * p, rd32(b + QS + 4 * p));
        if constexpr (QH >= 0) {  // mask j, bits 4rr..4rr+3 = qh bits 4j..4j+3
          const uint32_t qh = rd32(b + QH);
          uint8_t* m = bits - 4 * rr + 256 + rr / 2;
          for (int j = 0; j < 8; j++) m[8 * j] |= (uint8_t)(((qh >> (4 * j)) & 0x0F) << (4 * (rr & 1)));
        }
      }
      std::memcpy(sc, b, 2);
      if constexpr (M >= 0) std::memcpy(sc + 32, b + M, 2);
    }
  }
}

void pack_q4k(const uint8_t* data, size_t row_stride, int64_t rows, int64_t nb, int64_t g, uint8_t* dst) {
  constexpr Rp16Layout L = rp16_layout<Bits::B4, Scl::KMin>();
  const int nr = (int)std::min<int64_t>(kGroupRows, rows - g * kGroupRows);
  for (int rr = 0; rr < nr; rr++) {
    const uint8_t* row = data + (size_t)(g * kGroupRows + rr) * row_stride;
    for (int64_t sb = 0; sb < nb / 8; sb++) {
      const uint8_t* b = row + 144 * sb;
      uint8_t* h = dst + L.scales_offset(8 * sb);
      std::memcpy(h + 2 * rr, b, 2);
      std::memcpy(h + 32 + 2 * rr, b + 2, 2);
      for (int j = 0; j < 8; j++) {
        uint8_t sc, mn;
        k_scale_min(b + 4, j, sc, mn);
        h[64 + 32 * j + rr] = sc;
        h[64 + 32 * j + 16 + rr] = mn;
        const uint8_t* q = b + 16 + 32 * (j / 2);
        uint8_t* bits = dst + L.bits_offset(8 * sb + j) + 4 * rr;
        for (int p = 0; p < 4; p++) {
          const uint32_t lo = rd32(q + 4 * p), hi = rd32(q + 16 + 4 * p);
          const uint32_t v = (j & 1) ? (((lo >> 4) & 0x0F0F0F0Fu) | (hi & 0xF0F0F0F0u))
                                     : ((lo & 0x0F0F0F0Fu) | ((hi & 0x0F0F0F0Fu) << 4));
          wr32(bits + 64 * p, v);
        }
      }
    }
  }
}

// Word-level packers for the layouts where RP16 is a 4-byte transpose of the GGUF bytes
// (about as fast as a copy; used by prepare_weight and by the on-the-fly path).
// Q4_0/Q4_1/Q5_0/Q5_1: B4 byte 64p + 4r + i = qs[4p + i] exactly (low nibble = value
// 4p + i, high nibble = value 16 + 4p + i); Q8_0: B8 quad j = qs[4j..4j+3] ^ 0x80.
bool pack_group_fast(const QuantFormat& f, const uint8_t* data, size_t row_stride, int64_t rows, int64_t nb,
                     int64_t g, uint8_t* dst) {
  switch (f.type) {
    case DType::Q8_0: pack_legacy<34, 2, -1, -1, true>(data, row_stride, rows, nb, g, dst); return true;
    case DType::Q4_0: pack_legacy<18, 2, -1, -1, false>(data, row_stride, rows, nb, g, dst); return true;
    case DType::Q4_1: pack_legacy<20, 4, -1, 2, false>(data, row_stride, rows, nb, g, dst); return true;
    case DType::Q5_0: pack_legacy<22, 6, 2, -1, false>(data, row_stride, rows, nb, g, dst); return true;
    case DType::Q5_1: pack_legacy<24, 8, 4, 2, false>(data, row_stride, rows, nb, g, dst); return true;
    case DType::Q4_K: pack_q4k(data, row_stride, rows, nb, g, dst); return true;
    default: return false;
  }
}

}  // namespace

void pack_group(const QuantFormat& f, const uint8_t* data, size_t row_stride, int64_t rows,
                int64_t cols, int64_t g, uint8_t* dst) {
  const int64_t nb = cols / kBlk;
  const size_t gb = group_bytes(f, cols);
  if (f.bits == Bits::B5 || (g + 1) * kGroupRows > rows)
    std::memset(dst, 0, gb);  // masks are OR-ed in; padding rows must be zero
  else
    std::memset(dst + gb - 64, 0, 64);  // the alignment tail
  if (pack_group_fast(f, data, row_stride, rows, nb, g, dst)) return;
  std::memset(dst, 0, gb);
  const Rp16Layout L = rp16_layout(f);
  BlockCodes bc;
  for (int rr = 0; rr < kGroupRows; rr++) {
    const int64_t r = g * kGroupRows + rr;
    if (r >= rows) break;
    const uint8_t* row = data + (size_t)r * row_stride;
    for (int64_t k = 0; k < nb; k++) {
      decode_block(f.type, row, k, bc);
      uint8_t* bits = dst + L.bits_offset(k);
      uint8_t* sreg = dst + L.scales_offset(k);
      const int64_t kk = L.unit_index(k);
      for (int i = 0; i < 32; i++) {
        const int j = i / 4, e = i % 4;
        const int pos = 4 * rr + e;
        const uint8_t u = bc.u[i];
        if (f.bits == Bits::B8) {
          bits[64 * j + pos] = u;
          continue;
        }
        bits[64 * (j % 4) + pos] |= (uint8_t)((u & 0x0F) << (j >= 4 ? 4 : 0));
        if (f.bits == Bits::B5) {
          if (u & 0x10) bits[256 + 8 * j + pos / 8] |= (uint8_t)(1u << (pos % 8));
        } else if (f.bits == Bits::B6) {
          bits[256 + 64 * (j / 4) + pos] |= (uint8_t)(((u >> 4) & 3) << (2 * (j % 4)));
        }
      }
      // scales
      switch (f.scl) {
        case Scl::Sym:
          std::memcpy(sreg + 2 * rr, &bc.d, 2);
          break;
        case Scl::Min:
          std::memcpy(sreg + 2 * rr, &bc.d, 2);
          std::memcpy(sreg + 32 + 2 * rr, &bc.m, 2);
          break;
        case Scl::KMin:
          std::memcpy(sreg + 2 * rr, &bc.d, 2);
          std::memcpy(sreg + 32 + 2 * rr, &bc.m, 2);
          sreg[64 + 32 * kk + rr] = bc.sc;
          sreg[64 + 32 * kk + 16 + rr] = bc.mn;
          break;
        case Scl::K6:
          std::memcpy(sreg + 2 * rr, &bc.d, 2);
          sreg[32 + 32 * kk + rr] = (uint8_t)bc.sc2[0];
          sreg[32 + 32 * kk + 16 + rr] = (uint8_t)bc.sc2[1];
          break;
      }
    }
  }
}

// Inverse of pack_group for one row, with dequantize_row_ref's arithmetic (bit-identical to
// dequantizing the GGUF row): the embedding lookup reads the packed copy, so no page of the
// mapped file is touched after loading.
void dequantize_packed_row(const QuantFormat& f, const uint8_t* group, int64_t rr, int64_t cols, float* y) {
  const int64_t nb = cols / kBlk;
  const Rp16Layout L = rp16_layout(f);
  auto h16 = [](const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return fp16_to_fp32(h);
  };
  for (int64_t k = 0; k < nb; k++, y += 32) {
    const uint8_t* bits = group + L.bits_offset(k);
    const uint8_t* sreg = group + L.scales_offset(k);
    const int64_t kk = L.unit_index(k);
    uint8_t u[32];
    for (int i = 0; i < 32; i++) {
      const int j = i / 4, pos = 4 * (int)rr + i % 4;
      if (f.bits == Bits::B8) {
        u[i] = bits[64 * j + pos];
        continue;
      }
      int v = (bits[64 * (j % 4) + pos] >> (j >= 4 ? 4 : 0)) & 0x0F;
      if (f.bits == Bits::B5) v |= ((bits[256 + 8 * j + pos / 8] >> (pos % 8)) & 1) << 4;
      if (f.bits == Bits::B6) v |= ((bits[256 + 64 * (j / 4) + pos] >> (2 * (j % 4))) & 3) << 4;
      u[i] = (uint8_t)v;
    }
    switch (f.scl) {
      case Scl::Sym: {
        const float d = h16(sreg + 2 * rr);
        for (int i = 0; i < 32; i++) y[i] = d * (float)(u[i] - f.off);
        break;
      }
      case Scl::Min: {
        const float d = h16(sreg + 2 * rr), m = h16(sreg + 32 + 2 * rr);
        for (int i = 0; i < 32; i++) y[i] = mul_r(d, (float)u[i]) + m;
        break;
      }
      case Scl::KMin: {
        const float ds = mul_r(h16(sreg + 2 * rr), (float)sreg[64 + 32 * kk + rr]);
        const float dm = mul_r(h16(sreg + 32 + 2 * rr), (float)sreg[64 + 32 * kk + 16 + rr]);
        for (int i = 0; i < 32; i++) y[i] = mul_r(ds, (float)u[i]) - dm;
        break;
      }
      case Scl::K6: {
        const float d = h16(sreg + 2 * rr);
        for (int half = 0; half < 2; half++) {
          const float ds = mul_r(d, (float)(int8_t)sreg[32 + 32 * kk + 16 * half + rr]);
          for (int i = 16 * half; i < 16 * half + 16; i++) y[i] = ds * (float)(u[i] - 32);
        }
        break;
      }
    }
  }
}

// ---- activation quantization (the canonical definition) ----

void quantize_act_scalar(const QuantFormat& f, const float* x, ActQ& a, int64_t t0, int64_t t1) {
  for (int64_t t = t0; t < t1; t++) {
    const float* xt = x + t * a.cols;
    for (int64_t k = 0; k < a.nb; k++) {
      int8_t* q = act_q(a, t, k);
      const float* xb = xt + 32 * k;
      float amax = 0;
      for (int i = 0; i < 32; i++) amax = std::max(amax, std::fabs(xb[i]));
      const float dx = amax / 127.0f;
      const float id = amax > 0 ? 127.0f / amax : 0.0f;
      int s_lo = 0, s_hi = 0;
      for (int i = 0; i < 32; i++) {
        const int v = (int)std::nearbyint(xb[i] * id);
        q[i] = (int8_t)v;
        (i < 16 ? s_lo : s_hi) += v;
      }
      const int s = s_lo + s_hi;
      ActBlock& b = *act_blk(a, t, k);
      b.dx = dx;
      b.dxs = dx * (float)s;
      b.c0 = f.scl == Scl::Sym ? -f.off * s : f.scl == Scl::K6 ? -32 * s_lo : 0;
      b.c1 = f.scl == Scl::K6 ? -32 * s_hi : 0;
    }
  }
}

// ---- scalar matmul on the GGUF layout (canonical order) ----

void qgemm_scalar(const QJob& j, int64_t r0, int64_t r1) {
  const QuantFormat& f = *j.fmt;
  const ActQ& a = *j.act;
  const int64_t nb = a.nb;
  // per block: codes + the f32 factors
  struct Dec {
    uint8_t u[32];
    float A0, A1, B;
  };
  Dec* dec = reinterpret_cast<Dec*>(scratch(3, sizeof(Dec) * (size_t)nb));
  BlockCodes bc;
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* row = j.data + (size_t)r * j.row_stride;
    for (int64_t k = 0; k < nb; k++) {
      decode_block(f.type, row, k, bc);
      Dec& d = dec[k];
      std::memcpy(d.u, bc.u, 32);
      const float dd = f16f(bc.d);
      switch (f.scl) {
        case Scl::Sym: d.A0 = dd; d.A1 = dd; d.B = 0; break;
        case Scl::Min: d.A0 = dd; d.A1 = dd; d.B = f16f(bc.m); break;
        case Scl::KMin:
          d.A0 = d.A1 = mul_r(dd, (float)bc.sc);
          d.B = -mul_r(f16f(bc.m), (float)bc.mn);
          break;
        case Scl::K6:
          d.A0 = mul_r(dd, (float)bc.sc2[0]);
          d.A1 = mul_r(dd, (float)bc.sc2[1]);
          d.B = 0;
          break;
      }
    }
    for (int64_t t = 0; t < a.n_tok; t++) {
      float acc = 0;
      for (int64_t k = 0; k < nb; k++) {
        const Dec& d = dec[k];
        const int8_t* qb = act_q(a, t, k);
        const ActBlock& b = *act_blk(a, t, k);
        if (f.scl == Scl::K6) {
          int i0 = b.c0, i1 = b.c1;
          for (int i = 0; i < 16; i++) i0 += (int)d.u[i] * qb[i];
          for (int i = 16; i < 32; i++) i1 += (int)d.u[i] * qb[i];
          acc = std::fma((float)i0, mul_r(d.A0, b.dx), acc);
          acc = std::fma((float)i1, mul_r(d.A1, b.dx), acc);
        } else {
          int s = b.c0;
          for (int i = 0; i < 32; i++) s += (int)d.u[i] * qb[i];
          acc = std::fma((float)s, mul_r(d.A0, b.dx), acc);
          if (f.scl == Scl::Min || f.scl == Scl::KMin) acc = std::fma(d.B, b.dxs, acc);
        }
      }
      j.y[t * j.rows + r] = acc;
    }
  }
}

// ---- float weights, scalar ----

void fgemm_scalar(const FJob& j, int64_t r0, int64_t r1) {
  float* row = reinterpret_cast<float*>(scratch(3, sizeof(float) * (size_t)j.cols));
  for (int64_t r = r0; r < r1; r++) {
    dequantize_row_ref(j.type, j.data + (size_t)r * j.row_stride, row, j.cols);
    for (int64_t t = 0; t < j.n_tok; t++) {
      const float* xt = j.x + t * j.cols;
      float s = 0;
      for (int64_t c = 0; c < j.cols; c++) s = std::fma(row[c], xt[c], s);
      j.y[t * j.rows + r] = s;
    }
  }
}

uint8_t* scratch(int slot, size_t bytes) {
  struct Buf {
    uint8_t* p = nullptr;
    size_t n = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[6];
  Buf& b = bufs[slot];
  if (b.n < bytes) {
    std::free(b.p);
    const size_t n = (bytes + 4095) / 4096 * 4096;
    b.p = static_cast<uint8_t*>(std::aligned_alloc(64, n));
    if (!b.p) fail("out of memory allocating ", n, " bytes of kernel scratch");
    b.n = n;
  }
  return b.p;
}

}  // namespace kern
}  // namespace rooflm
