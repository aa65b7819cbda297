#include "kernels/attention.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/fp16.h"
#include "kernels/tuning.h"
#include "kernels/matmul.h"

namespace rooflm {

namespace {

inline float dot(const float* a, const float* b, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

inline void axpy(float* y, float alpha, const float* x, int n) {
  for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

// Cache row `row`, KV head `kvh` of V as floats: a pointer into an f32 cache, or the f16 row
// converted into `buf` (head_dim floats).
inline const float* v_head(const AttentionArgs& a, int64_t row, int kvh, float* buf) {
  const int64_t off = row * a.kv_stride + (int64_t)kvh * a.head_dim;
  if (!a.kv_f16) return static_cast<const float*>(a.v_cache) + off;
  const uint16_t* h = static_cast<const uint16_t*>(a.v_cache) + off;
  for (int d = 0; d < a.head_dim; d++) buf[d] = fp16_to_fp32(h[d]);
  return buf;
}

// The same for K, gathered from its key tile into `buf`.
inline const float* k_head(const AttentionArgs& a, int64_t row, int kvh, float* buf) {
  const int64_t c0 = (int64_t)kvh * a.head_dim;
  for (int d = 0; d < a.head_dim; d++) {
    const int64_t e = k_tile_offset(row, c0 + d, a.kv_stride);
    buf[d] = a.kv_f16 ? fp16_to_fp32(static_cast<const uint16_t*>(a.k_cache)[e]) : static_cast<const float*>(a.k_cache)[e];
  }
  return buf;
}

// One (node, head) pair, scalar. scores holds n_past + n_tok + head_dim floats.
void attend_one(const AttentionArgs& a, int i, int h, float* scores) {
  const int group = a.n_head / a.n_head_kv;
  const int kvh = h / group;
  const float* q = a.q + (int64_t)i * a.q_stride + (int64_t)h * a.head_dim;
  const int64_t pos = a.positions[i];
  const int64_t lo = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;
  const int32_t* vis = a.visible + a.visible_begin[i];
  const int n_vis = a.visible_begin[i + 1] - a.visible_begin[i];
  float* buf = scores + a.n_past + a.n_tok;

  // Scores: committed rows [lo, n_past), then visible batch rows (window-checked).
  int64_t n = 0;
  float mx = -INFINITY;
  for (int64_t j = lo; j < a.n_past; j++) {
    const float s = dot(q, k_head(a, j, kvh, buf), a.head_dim) * a.scale;
    scores[n++] = s;
    mx = std::max(mx, s);
  }
  for (int v = 0; v < n_vis; v++) {
    const int32_t b = vis[v];
    float s = -INFINITY;
    if (a.window <= 0 || pos - a.positions[b] < a.window)
      s = dot(q, k_head(a, a.n_past + b, kvh, buf), a.head_dim) * a.scale;
    scores[n++] = s;
    mx = std::max(mx, s);
  }
  double sum = 0.0;
  for (int64_t j = 0; j < n; j++) {
    scores[j] = std::exp(scores[j] - mx);
    sum += scores[j];
  }
  const float inv = (float)(1.0 / sum);

  float* out = a.out + (int64_t)i * a.out_stride + (int64_t)h * a.head_dim;
  std::fill(out, out + a.head_dim, 0.0f);
  n = 0;
  for (int64_t j = lo; j < a.n_past; j++) axpy(out, scores[n++] * inv, v_head(a, j, kvh, buf), a.head_dim);
  for (int v = 0; v < n_vis; v++)
    axpy(out, scores[n++] * inv, v_head(a, a.n_past + vis[v], kvh, buf), a.head_dim);
}

}  // namespace

void attention(const AttentionArgs& a, ThreadPool& pool) {
  if (a.scratch_stride < attention_scratch_floats(a.n_past + a.n_tok, a.head_dim))
    fail("attention: scratch_stride ", a.scratch_stride, " is below the ",
         attention_scratch_floats(a.n_past + a.n_tok, a.head_dim), " floats needed");
  static const bool avx512 = kernel_path_supported(KernelPath::AVX512);
  const bool fast = avx512 && attention_avx512_supports(a.head_dim);
  // A decode step's attention over a short context is a few microseconds of work on K/V rows
  // the caller has just prefetched into its own cache: splitting it costs a dispatch and
  // sends the other thread to the caller's cache for every row; from ~100 rows on, splitting
  // wins (kernel_tuning().attn_min_parallel_macs; docs/KERNEL_NOTES.md).
  const bool parallel = attention_is_parallel(a);
  // Work units: a node x a chunk of the query heads that share one KV head (the AVX-512
  // kernel converts each K tile vector and V row once per chunk). Chunks as large as the
  // kernel takes, but small enough that every thread gets two units when the work is split.
  const int group = a.n_head / a.n_head_kv;
  const int max_heads = fast ? attention_avx512_max_heads(a.head_dim) : 1;
  int chunks = (group + max_heads - 1) / max_heads;
  while (parallel && chunks < group && (int64_t)a.n_tok * a.n_head_kv * chunks < 2 * pool.size()) chunks++;
  const int64_t per_node = (int64_t)a.n_head_kv * chunks;
  auto body = [&](int64_t begin, int64_t end, int t) {
    float* scratch = a.scratch + (int64_t)t * a.scratch_stride;
    for (int64_t u = begin; u < end; u++) {
      const int i = (int)(u / per_node);
      const int kvh = (int)(u % per_node) / chunks, c = (int)(u % per_node) % chunks;
      const int h0 = kvh * group + group * c / chunks, h1 = kvh * group + group * (c + 1) / chunks;
      if (fast) attend_heads_avx512(a, i, h0, h1 - h0, scratch);
      else
        for (int h = h0; h < h1; h++) attend_one(a, i, h, scratch);
    }
  };
  if (parallel) pool.parallel_for(a.n_tok * per_node, body);
  else body(0, a.n_tok * per_node, 0);
}

bool attention_is_parallel(const AttentionArgs& a) {
  const int64_t macs = (int64_t)a.n_tok * a.n_head * (a.n_past + a.n_tok) * a.head_dim;
  return macs >= kernel_tuning().attn_min_parallel_macs;
}

void attention_ref(const AttentionArgs& a) {
  for (int i = 0; i < a.n_tok; i++)
    for (int h = 0; h < a.n_head; h++) attend_one(a, i, h, a.scratch);
}

}  // namespace rooflm
