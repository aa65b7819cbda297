// Internal to the matmul kernels: activation quantization, the packed weight layout ("RP16")
// and the per-path kernel entry points. Not for use outside src/kernels/.
//
// ---- The canonical computation (identical on every path, hence bit-identical results) ----
// Activations: for token t and 32-value block k: amax = max|x|, dx = amax / 127,
// q_i = nearbyint(x_i * (amax > 0 ? 127 / amax : 0)) in [-127, 127], S = sum q_i (and S_lo,
// S_hi over the two 16-value halves).
// Weights: block k of row r is read as unsigned codes u_i in [0, 255] and f32 factors:
//   Sym  (Q8_0 off 128, Q4_0 off 8, Q5_0 off 16): w_i = A (u_i - off),          A = d
//   Min  (Q4_1, Q5_1):                           w_i = A u_i + B,              A = d, B = m
//   KMin (Q4_K, Q5_K, sub-block of 32):          w_i = A u_i + B,  A = d*sc,  B = -(dmin*m)
//   K6   (Q6_K, two 16-value halves h):          w_i = A_h (u_i - 32),        A_h = d*sc_h
// Per (r, t), acc starts at 0 and for k = 0, 1, ...:
//   Sym:  I = sum u_i q_i - off*S;           acc = fma(float(I), A*dx, acc)
//   Min:  I = sum u_i q_i;                   acc = fma(float(I), A*dx, acc); acc = fma(B, dx*float(S), acc)
//   K6:   I_h = sum_{i in h} u_i q_i - 32*S_h; for h = 0, 1: acc = fma(float(I_h), A_h*dx, acc)
// (A*dx and dx*float(S) are rounded f32 products; fma is the fused f32 multiply-add.)
//
// ---- RP16 packed layout ----
// Rows are grouped by 16 (the last group zero-padded). Group g occupies group_bytes bytes at
// packed + g * group_bytes: a sequence of units, each the code bits of U blocks (bit_bytes
// each) followed by those blocks' scales; U = 1 block for Sym/Min formats and one 256-value
// super-block (U = 8) for KMin/K6. A GEMV then reads every group front to back in one
// stream: with all scales after all bits (the earlier layout) each block also jumped to a
// second stream, which the hardware prefetcher followed worse (docs/KERNEL_NOTES.md).
// Within a block, "quad" j (j = 0..7) holds values 4j..4j+3; a quad-row is
// 64 bytes, byte 4*r + i = u(row r of the group, value 4j + i) (the AMX/VNNI B layout).
//   B8 (Q8_0):  8 quad-rows, u = w + 128.                                       512 bytes
//   B4 (4-bit): 4 x 64 bytes; 64-byte vector p: low nibbles = quad p, high nibbles = quad p+4.
//   B5 (5-bit): B4 (bits 0-3) + 8 x uint64 masks: bit 4r+i of mask j = bit 4 of u(r, 4j+i).
//   B6 (Q6_K):  B4 (bits 0-3) + 2 x 64 bytes: vector h, bits 2c..2c+1 = bits 4-5 of quad 4h+c.
// A unit's scales (fp16 as stored in GGUF, u8/i8 for K sub-block scales), for block kk of
// the unit (kk = 0 for Sym/Min, 0..7 for KMin/K6):
//   Sym:  d[16] fp16                                                                32 B
//   Min:  d[16] fp16, m[16] fp16                                                    64 B
//   KMin: d[16] fp16, dmin[16] fp16, then 8 x (sc[16] u8, m[16] u8)                320 B
//   K6:   d[16] fp16, then 8 x (sc_lo[16] i8, sc_hi[16] i8)                          288 B
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace rooflm::kern {

constexpr int kGroupRows = 16;
constexpr int kBlk = 32;

enum class Bits : int { B8, B4, B5, B6 };
enum class Scl : int { Sym, Min, KMin, K6 };

struct QuantFormat {
  DType type;
  Bits bits;
  Scl scl;
  int off;          // Sym and K6 offset subtracted from u
  int bit_bytes;    // code bytes per 16 x 32 block
  int scale_bytes;  // scale bytes per block (Sym, Min) or per super-block of 8 blocks (KMin, K6)
};

// Where block k of a packed group lies (see the layout above): its code bits at
// bits_offset(k), and its unit's scales at scales_offset(k), where the block is number
// unit_index(k) of the unit. Constexpr so that kernels templated on the format get constants.
struct Rp16Layout {
  int bit_bytes, scale_bytes, unit_blocks;
  constexpr int64_t unit_bytes() const { return (int64_t)unit_blocks * bit_bytes + scale_bytes; }
  constexpr int64_t bits_offset(int64_t k) const {
    return k / unit_blocks * unit_bytes() + k % unit_blocks * bit_bytes;
  }
  constexpr int64_t scales_offset(int64_t k) const {
    return k / unit_blocks * unit_bytes() + (int64_t)unit_blocks * bit_bytes;
  }
  constexpr int64_t unit_index(int64_t k) const { return k % unit_blocks; }
};
constexpr int rp16_bit_bytes(Bits b) { return b == Bits::B8 ? 512 : b == Bits::B4 ? 256 : b == Bits::B5 ? 320 : 384; }
constexpr int rp16_unit_blocks(Scl s) { return s == Scl::KMin || s == Scl::K6 ? 8 : 1; }
constexpr int rp16_scale_bytes(Scl s) {
  return s == Scl::Sym ? 32 : s == Scl::Min ? 64 : s == Scl::KMin ? 320 : 288;
}
template <Bits B, Scl S>
constexpr Rp16Layout rp16_layout() {
  return {rp16_bit_bytes(B), rp16_scale_bytes(S), rp16_unit_blocks(S)};
}
inline Rp16Layout rp16_layout(const QuantFormat& f) {
  return {f.bit_bytes, f.scale_bytes, rp16_unit_blocks(f.scl)};
}

// nullptr for F32/F16/BF16 (and unsupported types).
const QuantFormat* quant_format(DType t);

// Calls fn.template operator()<B, S>() with the format's bit width and scale kind as
// compile-time arguments: the one place that lists the supported (Bits, Scl) pairs, so each
// ISA's kernels are instantiated and chosen the same way.
template <typename Fn>
void dispatch_format(const QuantFormat& f, Fn&& fn) {
  switch (f.scl) {
    case Scl::Sym:
      if (f.bits == Bits::B8) return fn.template operator()<Bits::B8, Scl::Sym>();
      if (f.bits == Bits::B4) return fn.template operator()<Bits::B4, Scl::Sym>();
      return fn.template operator()<Bits::B5, Scl::Sym>();
    case Scl::Min:
      if (f.bits == Bits::B4) return fn.template operator()<Bits::B4, Scl::Min>();
      return fn.template operator()<Bits::B5, Scl::Min>();
    case Scl::KMin:
      if (f.bits == Bits::B4) return fn.template operator()<Bits::B4, Scl::KMin>();
      return fn.template operator()<Bits::B5, Scl::KMin>();
    case Scl::K6:
      return fn.template operator()<Bits::B6, Scl::K6>();
  }
}

// Bytes of one packed 16-row group for `cols` values.
size_t group_bytes(const QuantFormat& f, int64_t cols);

// Packs rows [16 g, 16 g + 16) of the GGUF data (rows beyond `rows` are zero) into `dst`.
void pack_group(const QuantFormat& f, const uint8_t* data, size_t row_stride, int64_t rows,
                int64_t cols, int64_t g, uint8_t* dst);

// Row rr (0..15) of a packed group dequantized to f32, bit-identical to dequantize_row_ref
// on the GGUF row it came from.
void dequantize_packed_row(const QuantFormat& f, const uint8_t* group, int64_t rr, int64_t cols, float* y);

// Per (token, block) activation side data.
struct ActBlock {
  float dx;   // scale
  float dxs;  // dx * float(S)       (Min / KMin)
  int32_t c0; // -off * S  (Sym) or -32 * S_lo (K6); 0 otherwise
  int32_t c1; // -32 * S_hi (K6); 0 otherwise
};

// Quantized activations, stored tile-major: for each group of 16 tokens ("token tile") and
// block k, the 16 tokens' 32 int8 values are contiguous (512 bytes = one AMX A tile) and so
// are their 16 ActBlocks.
struct ActQ {
  int64_t n_tok = 0;      // real tokens
  int64_t n_tok_pad = 0;  // tokens allocated (multiple of 16; padding tokens are zero)
  int64_t cols = 0;
  int64_t nb = 0;         // cols / 32
  int8_t* q = nullptr;    // [n_tok_pad / 16][nb][16][32]
  ActBlock* blk = nullptr;  // [n_tok_pad / 16][nb][16]
};
constexpr int64_t kActQStep = 512;  // bytes between blocks k and k+1 of one token in q
constexpr int64_t kActBStep = 16;   // ActBlocks between blocks k and k+1 of one token

inline int8_t* act_q(const ActQ& a, int64_t t, int64_t k) {
  return a.q + (((t >> 4) * a.nb + k) << 9) + ((t & 15) << 5);
}
inline ActBlock* act_blk(const ActQ& a, int64_t t, int64_t k) {
  return a.blk + (((t >> 4) * a.nb + k) << 4) + (t & 15);
}

// Quantize tokens [t0, t1) of x (row stride cols) into a (buffers already sized).
void quantize_act_scalar(const QuantFormat& f, const float* x, ActQ& a, int64_t t0, int64_t t1);
void quantize_act_avx2(const QuantFormat& f, const float* x, ActQ& a, int64_t t0, int64_t t1);
void quantize_act_avx512(const QuantFormat& f, const float* x, ActQ& a, int64_t t0, int64_t t1);

// Work description shared by the kernels.
struct QJob {
  const QuantFormat* fmt;
  const uint8_t* data;     // GGUF layout
  size_t row_stride;
  const uint8_t* packed;   // RP16 or nullptr (then groups are packed on the fly)
  size_t gbytes;           // group bytes
  int64_t rows, cols;
  const ActQ* act;
  float* y;                // [n_tok][rows]
  int64_t t0 = 0, t1 = -1;  // token range (t1 < 0: all tokens); used by the AVX-512 path
};

// Compute output rows of groups [g0, g1) for all tokens (each path).
void qgemm_scalar(const QJob& j, int64_t r0, int64_t r1);  // scalar works on GGUF rows
void qgemm_avx2(const QJob& j, int64_t g0, int64_t g1);
void qgemm_avx512(const QJob& j, int64_t g0, int64_t g1);
void qgemm_amx(const QJob& j, int64_t g0, int64_t g1);

// Float-weight (F32/F16/BF16) kernels over rows [r0, r1).
struct FJob {
  DType type;
  const uint8_t* data;
  size_t row_stride;
  int64_t rows, cols, n_tok;
  const float* x;
  float* y;
};
void fgemm_scalar(const FJob& j, int64_t r0, int64_t r1);
void fgemm_avx2(const FJob& j, int64_t r0, int64_t r1);
void fgemm_avx512(const FJob& j, int64_t r0, int64_t r1);

// Fast dequantization (bit-exact with dequantize_row_ref).
void dequantize_row_avx2(DType type, const void* src, float* dst, int64_t n);

// AMX: request permission once per process; false if unavailable.
bool amx_init();

// Thread-local scratch that only grows (64-byte aligned).
uint8_t* scratch(int slot, size_t bytes);

}  // namespace rooflm::kern
