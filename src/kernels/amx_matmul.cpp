// AMX int8 GEMM on the RP16 packed layout.
//
// C tile (16 tokens x 16 rows, int32) = A tile (16 tokens x 32 int8 activations of block k)
// . B tile (8 quad-rows x 64 bytes: the packed block itself, unpacked to u8 for 4/5/6-bit
// types) with TDPBSUD. Every 32-value block has its own scales, so each C tile is stored and
// combined into f32 accumulators with AVX-512 in the canonical order (quant.h), which makes
// the result bit-identical to the VNNI GEMV. Q6_K uses two K=16 products per block (its
// scales change every 16 values).
// GCC 12 warns falsely about _mm512_undefined_* inside the intrinsics headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "kernels/quant_simd512.h"
#include "kernels/tuning.h"

#pragma GCC push_options
#pragma GCC target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c,avx2")

namespace rooflm::kern {

namespace {

constexpr long kArchReqXcompPerm = 0x1023;
constexpr long kXfeatureXtiledata = 18;

struct alignas(64) TileCfg {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

inline void barrier() { __asm__ volatile("" ::: "memory"); }

// tilestored of one 16 x 64-byte C tile into buf. Unlike _tile_stored (which clobbers all
// memory and so makes GCC spill and reload the 16 accumulators around it), this names the
// exact 1 KB it writes.
struct Tile1K {
  int32_t v[256];
};
#define ROOFLM_TILESTORE(tmm, buf)                                                               \
  __asm__ volatile("tilestored %%tmm" #tmm ", (%1,%2,1)" : "=m"(*reinterpret_cast<Tile1K*>(buf)) \
                   : "r"(buf), "r"(64L))

void load_cfg(bool k6) {
  TileCfg cfg;
  // tmm0/1 (+6/7 for K6): C (16 x 16 int32); tmm2/3: A; tmm4/5: B
  for (int i : {0, 1, 6, 7}) {
    cfg.rows[i] = 16;
    cfg.colsb[i] = 64;
  }
  for (int i = 2; i < 4; i++) {
    cfg.rows[i] = 16;
    cfg.colsb[i] = k6 ? 16 : 32;
  }
  for (int i = 4; i < 6; i++) {
    cfg.rows[i] = k6 ? 4 : 8;
    cfg.colsb[i] = 64;
  }
  barrier();
  _tile_loadconfig(&cfg);
}

using namespace simd512;

}  // namespace

int64_t amx_tokens(int64_t n_tok);

namespace {

// Combine one stored C tile (for K6 also the second half) into the accumulator of token t.
// Padding tokens (beyond n_tok) have zero activations and scales: computed, never stored.
// Sym / K6 tiles were computed with signed codes (u - off), so C already is the canonical I.
template <Scl S>
inline void post_one(const int32_t* c0, const int32_t* c1, const ActBlock& ab, const BlockScales& sc, __m512& acc) {
  const __m512i i0 = _mm512_load_si512(c0);
  const __m512i i1 = S == Scl::K6 ? _mm512_load_si512(c1) : i0;
  post<S>(i0, i1, ab, sc, acc);
}

// B tiles for block k: the packed block itself (Min/KMin 8-bit codes are not used by AMX:
// Q8_0 is Sym) or unpacked into `unp`. Sym and K6 codes are stored signed (u - off).
template <Bits B, Scl S>
inline void unpack_b(const uint8_t* blk, uint8_t* dst) {
  __m512i w[8];
  unpack<B>(blk, w);
  if constexpr (S == Scl::Sym || S == Scl::K6) {
    const int off = B == Bits::B8 ? 128 : B == Bits::B4 ? 8 : B == Bits::B5 ? 16 : 32;
    const __m512i o = _mm512_set1_epi8((char)off);
#pragma GCC unroll 8
    for (int q = 0; q < 8; q++) w[q] = _mm512_sub_epi8(w[q], o);
  }
#pragma GCC unroll 8
  for (int q = 0; q < 8; q++) _mm512_store_si512(dst + 64 * q, w[q]);
}

// Tile products of one block: DP loads A (activations) and B (codes) and multiplies into C;
// ST stores C for the AVX-512 combine. Two register sets P = 0/1 alternate between blocks:
// C = tmm0 / tmm1 (K6: tmm0+1 / tmm6+7), A = tmm2 / tmm3, B = tmm4 / tmm5 (K6: A tmm2+3,
// B tmm4+5 for both).
#define ROOFLM_DP(c, a, b)   \
  do {                       \
    if constexpr (sgn)       \
      _tile_dpbssd(c, a, b); \
    else                     \
      _tile_dpbsud(c, a, b); \
  } while (0)

template <Scl S, int P>
inline void dp(const int8_t* qk, const uint8_t* bk) {
  constexpr long qs = 32;
  constexpr bool sgn = S == Scl::Sym || S == Scl::K6;
  if constexpr (S == Scl::K6) {
    _tile_loadd(2, qk, qs);
    _tile_loadd(3, qk + 16, qs);
    _tile_loadd(4, bk, 64);
    _tile_loadd(5, bk + 256, 64);
    if constexpr (P == 0) {
      _tile_zero(0);
      _tile_zero(1);
      ROOFLM_DP(0, 2, 4);
      ROOFLM_DP(1, 3, 5);
    } else {
      _tile_zero(6);
      _tile_zero(7);
      ROOFLM_DP(6, 2, 4);
      ROOFLM_DP(7, 3, 5);
    }
  } else if constexpr (P == 0) {
    _tile_loadd(2, qk, qs);
    _tile_loadd(4, bk, 64);
    _tile_zero(0);
    ROOFLM_DP(0, 2, 4);
  } else {
    _tile_loadd(3, qk, qs);
    _tile_loadd(5, bk, 64);
    _tile_zero(1);
    ROOFLM_DP(1, 3, 5);
  }
}
#undef ROOFLM_DP

template <Scl S, int P>
inline void st(int32_t* cb) {
  if constexpr (S == Scl::K6) {
    if constexpr (P == 0) {
      ROOFLM_TILESTORE(0, cb);
      ROOFLM_TILESTORE(1, cb + 256);
    } else {
      ROOFLM_TILESTORE(6, cb);
      ROOFLM_TILESTORE(7, cb + 256);
    }
  } else if constexpr (P == 0) {
    ROOFLM_TILESTORE(0, cb);
  } else {
    ROOFLM_TILESTORE(1, cb);
  }
}

// The unpack ring: slots, and how many blocks ahead of its tile product a block is unpacked
// (the products run 4 blocks ahead of the combine; the ring must outlast both).
constexpr int64_t kRing = 16;
constexpr int64_t kUnpackAhead = 8;

template <Bits B, Scl S>
void run(const QJob& j, int64_t g0, int64_t g1) {
  constexpr Rp16Layout L = rp16_layout<B, S>();
  constexpr bool k6 = S == Scl::K6;
  // Min/KMin with 8-bit codes never occurs; B tiles come straight from the packed block only
  // for unsigned codes that are already bytes (none today), so every type unpacks.
  const ActQ& a = *j.act;
  const int64_t nb = a.nb;
  const int64_t n_amx = amx_tokens(a.n_tok);
  uint8_t* tmp = j.packed ? nullptr : scratch(2, j.gbytes);
  // For one or two token tiles, B tiles are unpacked just in time into a ring that stays in
  // L1 (a whole group unpacked ahead no longer fits there beside the activations); for more,
  // a group is unpacked once for all its tiles (BENCHMARKS.md, "AMX unpacking").
  alignas(64) uint8_t ring[kRing * 512];
  const bool jit = n_amx <= 16 * kernel_tuning().amx_jit_max_tiles;
  uint8_t* unp = jit ? nullptr : scratch(4, (size_t)nb * 512);
  alignas(64) int32_t cbuf[4][512];  // [block & 3][C (K6: C0, C1)]
  load_cfg(k6);
  for (int64_t g = g0; g < g1; g++) {
    const uint8_t* grp;
    if (j.packed) {
      grp = j.packed + g * j.gbytes;
    } else {
      pack_group(*j.fmt, j.data, j.row_stride, j.rows, j.cols, g, tmp);
      grp = tmp;
    }
    if (!jit) {
      for (int64_t k = 0; k < nb; k++) unpack_b<B, S>(grp + L.bits_offset(k), unp + 512 * k);
      barrier();
    }
    const int64_t r0 = g * kGroupRows;
    const int64_t nr = j.rows - r0 < kGroupRows ? j.rows - r0 : kGroupRows;
    const __mmask16 rmask = (__mmask16)((1u << nr) - 1);
    for (int64_t tt = 0; tt < n_amx; tt += 16) {
      const int nv = (int)(n_amx - tt < 16 ? n_amx - tt : 16);
      const int8_t* qt = act_q(a, tt, 0);      // block k at qt + 512 k, 32 bytes per token
      const ActBlock* bt0 = act_blk(a, tt, 0);  // block k at bt0 + 16 k
      // 16 named accumulators (an array of them ends up in memory with GCC)
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0,
             a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
      // Software pipeline, so that neither the tile product nor the tile store is waited on:
      // in step k, store C(k+2), start the product of block k+4 and combine block k-1 (a tile
      // store takes long to become visible to vector loads, docs/KERNEL_NOTES.md). Block j uses
      // tile register set j & 1 and cbuf[j & 3].
      const int8_t* qk = qt;
      // block kk's B tile: unpacked kUnpackAhead blocks before its product
      auto bk = [&](int64_t kk) { return jit ? ring + 512 * (kk & (kRing - 1)) : unp + 512 * kk; };
      auto unpack_k = [&](int64_t kk) {
        if (jit && kk < nb) unpack_b<B, S>(grp + L.bits_offset(kk), ring + 512 * (kk & (kRing - 1)));
      };
      for (int64_t kk = 0; kk < kUnpackAhead; kk++) unpack_k(kk);
      barrier();
#define ROOFLM_P1(cb, bb, sc, t, acc) \
  if (t < nv) post_one<S>(cb + 16 * t, cb + 256 + 16 * t, bb[t], sc, acc)
#define post_k(cb, kk)                                                                          \
  do {                                                                                          \
    const BlockScales sc = load_scales<S>(grp + L.scales_offset(kk), L.unit_index(kk));         \
    const ActBlock* bb = bt0 + 16 * (kk);                                                       \
    ROOFLM_P1(cb, bb, sc, 0, a0); ROOFLM_P1(cb, bb, sc, 1, a1); ROOFLM_P1(cb, bb, sc, 2, a2);     \
    ROOFLM_P1(cb, bb, sc, 3, a3); ROOFLM_P1(cb, bb, sc, 4, a4); ROOFLM_P1(cb, bb, sc, 5, a5);     \
    ROOFLM_P1(cb, bb, sc, 6, a6); ROOFLM_P1(cb, bb, sc, 7, a7); ROOFLM_P1(cb, bb, sc, 8, a8);     \
    ROOFLM_P1(cb, bb, sc, 9, a9); ROOFLM_P1(cb, bb, sc, 10, a10); ROOFLM_P1(cb, bb, sc, 11, a11); \
    ROOFLM_P1(cb, bb, sc, 12, a12); ROOFLM_P1(cb, bb, sc, 13, a13); ROOFLM_P1(cb, bb, sc, 14, a14); \
    ROOFLM_P1(cb, bb, sc, 15, a15);                                                             \
  } while (0)
      // prologue: C(0), C(1) stored; C(2), C(3) in flight
      dp<S, 0>(qk, bk(0));
      if (nb > 1) dp<S, 1>(qk + 512, bk(1));
      st<S, 0>(cbuf[0]);
      if (nb > 2) dp<S, 0>(qk + 512 * 2, bk(2));
      if (nb > 1) st<S, 1>(cbuf[1]);
      if (nb > 3) dp<S, 1>(qk + 512 * 3, bk(3));
      // the weights amx_prefetch groups ahead into L2 while this one computes (by the first
      // token tile; hardware prefetchers stop at page boundaries)
      const int64_t pf_dist = kernel_tuning().amx_prefetch;
      if (tt == 0 && j.packed && g == g0)  // the groups before the first one the loop prefetches
        for (const uint8_t* p = grp + j.gbytes; p < j.packed + std::min(g1, g + pf_dist) * j.gbytes; p += 64)
          _mm_prefetch((const char*)p, _MM_HINT_T1);
      const uint8_t* pf = tt == 0 && j.packed && pf_dist > 0 && g + pf_dist < g1 ? grp + pf_dist * j.gbytes : nullptr;
      const int64_t pf_step = (2 * (int64_t)j.gbytes / nb + 63) / 64 * 64;  // a group over the nb / 2 steps
      for (int64_t k = 0; k < nb; k += 2) {
        if (pf)
          for (int64_t o = 0; o < pf_step && k / 2 * pf_step + o < (int64_t)j.gbytes; o += 64)
            _mm_prefetch((const char*)pf + k / 2 * pf_step + o, _MM_HINT_T1);
        unpack_k(k + kUnpackAhead);
        unpack_k(k + kUnpackAhead + 1);
        if (k + 2 < nb) st<S, 0>(cbuf[(k + 2) & 3]);
        if (k + 4 < nb) dp<S, 0>(qk + 512 * (k + 4), bk(k + 4));
        if (k > 0) post_k(cbuf[(k - 1) & 3], k - 1);
        if (k + 1 < nb) {
          if (k + 3 < nb) st<S, 1>(cbuf[(k + 3) & 3]);
          if (k + 5 < nb) dp<S, 1>(qk + 512 * (k + 5), bk(k + 5));
          post_k(cbuf[k & 3], k);
        }
      }
      post_k(cbuf[(nb - 1) & 3], nb - 1);
#undef post_k
#undef ROOFLM_P1
      const __m512 acc[16] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15};
      for (int t = 0; t < nv; t++) _mm512_mask_storeu_ps(j.y + (tt + t) * j.rows + r0, rmask, acc[t]);
    }
  }
  _tile_release();
}

}  // namespace

bool amx_init() {
  static const bool ok = [] {
    unsigned a, b, c, d;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    const bool tile = (d >> 24) & 1, int8 = (d >> 25) & 1;
    if (!tile || !int8) return false;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return ok;
}

int64_t amx_tokens(int64_t n_tok) {
  const int64_t full = n_tok / 16 * 16;
  return n_tok - full >= amx_min_tokens() ? n_tok : full;
}

void qgemm_amx(const QJob& j, int64_t g0, int64_t g1) {
  const int64_t n_amx = amx_tokens(j.act->n_tok);
  if (n_amx < j.act->n_tok) {  // leftover tokens: VNNI
    QJob rest = j;
    rest.t0 = n_amx;
    qgemm_avx512(rest, g0, g1);
  }
  if (n_amx == 0) return;
  const QuantFormat& f = *j.fmt;
  dispatch_format(f, [&]<Bits B, Scl S>() { run<B, S>(j, g0, g1); });
}

}  // namespace rooflm::kern

#pragma GCC pop_options
