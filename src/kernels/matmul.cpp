// Dispatch: CPU feature detection, path selection, activation quantization, threading,
// weight repacking.
#include "kernels/matmul.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>
#include <sys/mman.h>

#include "core/error.h"
#include "kernels/quant.h"
#include "kernels/tuning.h"

namespace rooflm {

using namespace kern;

namespace {

struct Features {
  bool avx2 = false, avx512 = false, amx = false;
};

const Features& features() {
  static const Features f = [] {
    Features r;
    __builtin_cpu_init();
    r.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    r.avx512 = r.avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vnni");
    r.amx = r.avx512 && amx_init();
    return r;
  }();
  return f;
}

KernelPath resolve(KernelPath p) {
  if (p == KernelPath::Auto) return best_kernel_path();
  if (!kernel_path_supported(p)) fail("kernel path ", kernel_path_name(p), " is not supported on this CPU");
  return p;
}

void quantize_act(KernelPath p, const QuantFormat& f, const float* x, ActQ& a, int64_t t0, int64_t t1) {
  if (t0 >= t1) return;
  switch (p) {
    case KernelPath::Scalar: quantize_act_scalar(f, x, a, t0, t1); break;
    case KernelPath::AVX2: quantize_act_avx2(f, x, a, t0, t1); break;
    default: quantize_act_avx512(f, x, a, t0, t1); break;
  }
}

void run_q(KernelPath p, const QJob& j, int64_t g0, int64_t g1) {
  if (g0 >= g1) return;
  switch (p) {
    case KernelPath::Scalar:
      qgemm_scalar(j, g0 * kGroupRows, std::min(j.rows, g1 * kGroupRows));
      break;
    case KernelPath::AVX2: qgemm_avx2(j, g0, g1); break;
    case KernelPath::AVX512: qgemm_avx512(j, g0, g1); break;
    case KernelPath::AMX: qgemm_amx(j, g0, g1); break;
    default: break;
  }
}

// Up to kMaxFused matrices that read the same input, computed in one dispatch: their row
// groups are concatenated and split evenly across the threads.
constexpr int kMaxFused = 4;

struct QCtx {
  KernelPath path;
  const QuantFormat* fmt;
  const QJob* jobs;
  int n_jobs;
  int64_t first_group[kMaxFused + 1];  // prefix sums of the matrices' group counts
  const float* x;
  ActQ* act;
  int n_threads;
};

// Thread t of n_threads computes row groups [begin(t), begin(t + 1)) of the concatenated list
// (prefetch_weight_share relies on the same split).
int64_t thread_groups_begin(int64_t G, int t, int n_threads) { return G * t / n_threads; }

// Groups [g0, g1) of the concatenated list.
void run_groups(const QCtx& c, int64_t g0, int64_t g1) {
  for (int m = 0; m < c.n_jobs && g0 < g1; m++) {
    const int64_t b = c.first_group[m], e = c.first_group[m + 1];
    if (g1 <= b || g0 >= e) continue;
    run_q(c.path, c.jobs[m], std::max(g0, b) - b, std::min(g1, e) - b);
  }
}

// ws[0..n) share cols and quantization format.
void matmul_quant(const WeightMatrix* const* ws, float* const* ys, int n, const QuantFormat& f, const float* x,
                  int64_t n_tok, ThreadPool& pool, KernelPath p) {
  if (p == KernelPath::AMX && n_tok < amx_min_tokens()) p = KernelPath::AVX512;
  const int64_t cols = ws[0]->cols;
  ActQ a;
  a.n_tok = n_tok;
  a.n_tok_pad = (n_tok + 15) / 16 * 16;
  a.cols = cols;
  a.nb = cols / kBlk;
  a.q = reinterpret_cast<int8_t*>(scratch(0, (size_t)(a.n_tok_pad * a.nb * 32)));
  a.blk = reinterpret_cast<ActBlock*>(scratch(1, sizeof(ActBlock) * (size_t)(a.n_tok_pad * a.nb)));
  if (p == KernelPath::AMX && a.n_tok_pad > n_tok) {  // AMX tiles read the padding tokens: zero them
    const int64_t nv = n_tok % 16;
    for (int64_t k = 0; k < a.nb; k++) {
      std::memset(act_q(a, n_tok, k), 0, (size_t)(16 - nv) * 32);
      std::memset(act_blk(a, n_tok, k), 0, sizeof(ActBlock) * (size_t)(16 - nv));
    }
  }
  QJob jobs[kMaxFused];
  QCtx ctx;
  ctx.path = p;
  ctx.fmt = &f;
  ctx.jobs = jobs;
  ctx.n_jobs = n;
  ctx.first_group[0] = 0;
  size_t weight_bytes = 0;
  for (int m = 0; m < n; m++) {
    const WeightMatrix& w = *ws[m];
    QJob& j = jobs[m];
    j.fmt = &f;
    j.data = w.data;
    j.row_stride = w.row_stride;
    j.packed = w.packed;
    j.gbytes = group_bytes(f, w.cols);
    j.rows = w.rows;
    j.cols = w.cols;
    j.act = &a;
    j.y = ys[m];
    ctx.first_group[m + 1] = ctx.first_group[m] + (w.rows + kGroupRows - 1) / kGroupRows;
    weight_bytes += w.nbytes();
  }
  ctx.x = x;
  ctx.act = &a;
  ctx.n_threads = pool.size();
  const int64_t G = ctx.first_group[n];
  // Activations are quantized before the matmul dispatch: on the caller thread when small,
  // else in a dispatch of their own (a spin barrier inside one job stalls for a scheduler
  // tick whenever a worker is descheduled, which is common on a shared machine).
  if (pool.size() > 1 && n_tok >= 8 && n_tok * cols >= 65536) {
    QCtx* c = &ctx;
    pool.run_on_all([c](int t) {
      const int64_t T = c->act->n_tok, nt = c->n_threads;
      quantize_act(c->path, *c->fmt, c->x, *c->act, T * t / nt, T * (t + 1) / nt);
    });
  } else {
    quantize_act(p, f, x, a, 0, n_tok);
  }
  // Tiny GEMVs cost less than waking a worker.
  const bool tiny = n_tok == 1 && (int64_t)weight_bytes < kernel_tuning().matmul_min_parallel_bytes;
  const int nt = tiny ? 1 : (int)std::min<int64_t>(pool.size(), G);
  if (nt <= 1) {
    run_groups(ctx, 0, G);
    return;
  }
  QCtx* c = &ctx;
  pool.run_on_all([c, G](int t) {
    const int64_t g0 = thread_groups_begin(G, t, c->n_threads), g1 = thread_groups_begin(G, t + 1, c->n_threads);
    run_groups(*c, g0, g1);
  });
}

struct FCtx {
  KernelPath path;
  const FJob* job;
  int n_threads;
};

void run_f(KernelPath p, const FJob& j, int64_t r0, int64_t r1) {
  if (r0 >= r1) return;
  switch (p) {
    case KernelPath::Scalar: fgemm_scalar(j, r0, r1); break;
    case KernelPath::AVX2: fgemm_avx2(j, r0, r1); break;
    default: fgemm_avx512(j, r0, r1); break;
  }
}

void matmul_float(const WeightMatrix& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool,
                  KernelPath p) {
  FJob j{w.type, w.data, w.row_stride, w.rows, w.cols, n_tok, x, y};
  // Split rows in multiples of 4 (the kernels' row tile).
  const int64_t units = (w.rows + 3) / 4;
  const int nt = (int)std::min<int64_t>(pool.size(), units);
  if (nt <= 1) {
    run_f(p, j, 0, w.rows);
    return;
  }
  FCtx ctx{p, &j, pool.size()};
  FCtx* c = &ctx;
  pool.run_on_all([c, units](int t) {
    const int n = c->n_threads;
    const int64_t u0 = units * t / n, u1 = units * (t + 1) / n;
    run_f(c->path, *c->job, u0 * 4, std::min(c->job->rows, u1 * 4));
  });
}

}  // namespace

const char* kernel_path_name(KernelPath p) {
  switch (p) {
    case KernelPath::Auto: return "auto";
    case KernelPath::Scalar: return "scalar";
    case KernelPath::AVX2: return "avx2";
    case KernelPath::AVX512: return "avx512";
    case KernelPath::AMX: return "amx";
  }
  return "?";
}

bool kernel_path_supported(KernelPath p) {
  const Features& f = features();
  switch (p) {
    case KernelPath::Auto:
    case KernelPath::Scalar: return true;
    case KernelPath::AVX2: return f.avx2;
    case KernelPath::AVX512: return f.avx512;
    case KernelPath::AMX: return f.amx;
  }
  return false;
}

KernelPath best_kernel_path() {
  const Features& f = features();
  if (f.amx) return KernelPath::AMX;
  if (f.avx512) return KernelPath::AVX512;
  if (f.avx2) return KernelPath::AVX2;
  return KernelPath::Scalar;
}

int64_t amx_min_tokens() { return std::max<int64_t>(1, kernel_tuning().amx_min_tokens); }

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  dequantize_row(type, src, dst, n, KernelPath::Auto);
}

void dequantize_row(DType type, const void* src, float* dst, int64_t n, KernelPath path) {
  const KernelPath p = resolve(path);
  if (p == KernelPath::Scalar)
    dequantize_row_ref(type, src, dst, n);
  else
    dequantize_row_avx2(type, src, dst, n);
}

void matmul(const WeightMatrix& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool) {
  matmul(w, x, n_tok, y, pool, KernelPath::Auto);
}

void matmul(const WeightMatrix& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool,
            KernelPath path) {
  if (n_tok <= 0 || w.rows == 0) return;
  if (w.cols == 0) {
    std::memset(y, 0, sizeof(float) * (size_t)(n_tok * w.rows));
    return;
  }
  const KernelPath p = resolve(path);
  if (const QuantFormat* f = quant_format(w.type)) {
    const WeightMatrix* ws[1] = {&w};
    float* ys[1] = {y};
    matmul_quant(ws, ys, 1, *f, x, n_tok, pool, p);
    return;
  }
  if (w.type == DType::F32 || w.type == DType::F16 || w.type == DType::BF16) {
    matmul_float(w, x, n_tok, y, pool, p);
    return;
  }
  fail("matmul: unsupported weight number format ", dtype_name(w.type));
}

void matmul_multi(const WeightMatrix* const* ws, float* const* ys, int n, const float* x, int64_t n_tok,
                  ThreadPool& pool) {
  if (n <= 0 || n_tok <= 0) return;
  const QuantFormat* f = quant_format(ws[0]->type);
  bool fuse = f && n <= kMaxFused;
  for (int m = 0; m < n && fuse; m++)
    fuse = ws[m]->type == ws[0]->type && ws[m]->cols == ws[0]->cols && ws[m]->rows > 0;
  if (!fuse) {
    for (int m = 0; m < n; m++) matmul(*ws[m], x, n_tok, ys[m], pool);
    return;
  }
  matmul_quant(ws, ys, n, *f, x, n_tok, pool, resolve(KernelPath::Auto));
}

void weight_share(const WeightMatrix* const* ws, int n, int owner, int n_threads, ByteRange* out) {
  int64_t G = 0;
  for (int m = 0; m < n; m++) G += (ws[m]->rows + kGroupRows - 1) / kGroupRows;
  const int64_t g0 = thread_groups_begin(G, owner, n_threads), g1 = thread_groups_begin(G, owner + 1, n_threads);
  int64_t first = 0;  // first group of matrix m in the concatenated list
  for (int m = 0; m < n; m++) {
    const WeightMatrix& w = *ws[m];
    const int64_t groups = (w.rows + kGroupRows - 1) / kGroupRows;
    const int64_t b = std::max(g0, first), e = std::min(g1, first + groups);
    out[m] = ByteRange{};
    if (w.packed && b < e) {
      const size_t gb = w.packed_bytes / (size_t)groups;
      out[m] = ByteRange{w.packed + (size_t)(b - first) * gb, (size_t)(e - b) * gb};
    }
    first += groups;
  }
}

void prefetch_weight_share(const WeightMatrix* const* ws, int n, int owner, int n_threads,
                           const std::atomic<bool>& stop) {
  if (n <= 0 || n > kMaxFused) return;
  ByteRange r[kMaxFused];
  weight_share(ws, n, owner, n_threads, r);
  for (int m = 0; m < n; m++) {
    const char* p = reinterpret_cast<const char*>(r[m].p);
    // 8 lines between checks: a few hundred nanoseconds of issue at DRAM speed
    for (size_t off = 0; off < r[m].n; off += 512) {
      if (stop.load(std::memory_order_acquire)) return;
      for (size_t l = off; l < std::min(r[m].n, off + 512); l += 64) _mm_prefetch(p + l, _MM_HINT_T1);
    }
  }
}

namespace {

// Pack matrix w into dst (gb bytes per group), groups split over the pool.
void pack_into(const WeightMatrix& w, const QuantFormat& f, uint8_t* dst, ThreadPool* pool) {
  const size_t gb = group_bytes(f, w.cols);
  const int64_t G = (w.rows + kGroupRows - 1) / kGroupRows;
  struct PCtx {
    const QuantFormat* f;
    const WeightMatrix* w;
    uint8_t* dst;
    size_t gb;
    int64_t G;
    int n;
  } ctx{&f, &w, dst, gb, G, pool ? pool->size() : 1};
  auto body = [](const PCtx& c, int t) {
    for (int64_t g = c.G * t / c.n; g < c.G * (t + 1) / c.n; g++)
      pack_group(*c.f, c.w->data, c.w->row_stride, c.w->rows, c.w->cols, g, c.dst + g * c.gb);
  };
  if (pool && pool->size() > 1 && G > 1) {
    const PCtx* c = &ctx;
    pool->run_on_all([c, body](int t) { body(*c, t); });
  } else {
    body(ctx, 0);
  }
}

size_t packed_size(const WeightMatrix& w, const QuantFormat& f) {
  return group_bytes(f, w.cols) * (size_t)((w.rows + kGroupRows - 1) / kGroupRows);
}

std::shared_ptr<void> alloc_packed(size_t bytes) {
  const size_t huge = (size_t)2 << 20;
  const bool big = bytes >= huge;
  const size_t align = big ? huge : 64;
  const size_t n = (bytes + align - 1) / align * align;
  void* mem = std::aligned_alloc(align, n);
  if (!mem) fail("prepare_weight: out of memory repacking ", bytes, " bytes");
  if (big) madvise(mem, n, MADV_HUGEPAGE);  // a hint; ignored where THP is off
  return std::shared_ptr<void>(mem, [](void* p) { std::free(p); });
}

}  // namespace

void prepare_weight(WeightMatrix& w, ThreadPool* pool) {
  const QuantFormat* f = quant_format(w.type);
  if (!f || w.packed || w.rows == 0 || w.cols == 0) return;
  const size_t bytes = packed_size(w, *f);
  std::shared_ptr<void> owned = alloc_packed(bytes);
  uint8_t* dst = static_cast<uint8_t*>(owned.get());
  pack_into(w, *f, dst, pool);
  w.owned = std::move(owned);
  w.packed = dst;
  w.packed_bytes = bytes;
}

void prepare_weights(WeightMatrix* const* ws, size_t n, ThreadPool* pool) {
  // an earlier entry viewing the same GGUF bytes (tied embeddings), or nullptr
  auto same_as = [&](size_t i) -> const WeightMatrix* {
    for (size_t j = 0; j < i; j++)
      if (ws[j]->data == ws[i]->data && ws[j]->type == ws[i]->type && ws[j]->rows == ws[i]->rows &&
          ws[j]->cols == ws[i]->cols && ws[j]->packed)
        return ws[j];
    for (size_t j = 0; j < i; j++)  // not yet packed: only the first occurrence is counted
      if (ws[j]->data == ws[i]->data && ws[j]->type == ws[i]->type && ws[j]->rows == ws[i]->rows &&
          ws[j]->cols == ws[i]->cols)
        return ws[j];
    return nullptr;
  };
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    const WeightMatrix& w = *ws[i];
    const QuantFormat* f = quant_format(w.type);
    if (!f || w.packed || w.rows == 0 || w.cols == 0 || same_as(i)) continue;
    total += (packed_size(w, *f) + 4095) / 4096 * 4096;  // each matrix starts on a page
  }
  if (total == 0) return;
  std::shared_ptr<void> arena = alloc_packed(total);
  uint8_t* p = static_cast<uint8_t*>(arena.get());
  for (size_t i = 0; i < n; i++) {
    WeightMatrix& w = *ws[i];
    const QuantFormat* f = quant_format(w.type);
    if (!f || w.packed || w.rows == 0 || w.cols == 0) continue;
    if (const WeightMatrix* d = same_as(i)) {  // tied weights listed twice: pack once
      w.owned = d->owned;
      w.packed = d->packed;
      w.packed_bytes = d->packed_bytes;
      continue;
    }
    const size_t bytes = packed_size(w, *f);
    pack_into(w, *f, p, pool);
    w.owned = arena;
    w.packed = p;
    w.packed_bytes = bytes;
    p += (bytes + 4095) / 4096 * 4096;
  }
}

}  // namespace rooflm
