#include "model/session.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include <xmmintrin.h>

#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "kernels/tuning.h"
#include "roofline/profiler.h"

namespace rooflm {

namespace {

using prof::OpClass;

// MemAvailable from /proc/meminfo in bytes (0 if unknown).
uint64_t available_memory() {
  FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "MemAvailable: %lu kB", &kb) == 1) break;
  std::fclose(f);
  return kb * 1024;
}

// Runs f and, when profiling is on, records it with its FLOPs and compulsory bytes.
template <typename F>
inline void timed(OpClass op, double flops, double bytes, F&& f) {
  if (!prof::enabled()) {
    f();
    return;
  }
  const uint64_t t0 = prof::now_ns();
  f();
  prof::record(op, flops, bytes, prof::now_ns() - t0);
}

// y = W x for n tokens, recorded under `op`: 2*rows*cols FLOPs per token; bytes = weights
// as stored (incl. scales) + f32 activations in and out.
inline void linear(OpClass op, const WeightMatrix& w, const float* x, int n, float* y, ThreadPool& pool) {
  timed(op, 2.0 * (double)w.rows * (double)w.cols * n, (double)w.nbytes() + 4.0 * n * (double)(w.rows + w.cols),
        [&] { matmul(w, x, n, y, pool); });
}

// Several matrices reading the same input x (q/k/v, gate/up) in one dispatch.
template <int N>
inline void linear_multi(OpClass op, const WeightMatrix* const (&ws)[N], const float* x, int n, float* const (&ys)[N],
                         ThreadPool& pool) {
  double flops = 0, bytes = 4.0 * n * (double)ws[0]->cols;
  for (const WeightMatrix* w : ws) {
    flops += 2.0 * (double)w->rows * (double)w->cols * n;
    bytes += (double)w->nbytes() + 4.0 * n * (double)w->rows;
  }
  timed(op, flops, bytes, [&] { matmul_multi(ws, ys, N, x, n, pool); });
}

// Runs fn(i) for every batch row i, split across the pool for batches of several rows. Each
// row is computed by the same code either way, so results do not depend on the batch size
// or the thread count (a tree row equals the same token decoded alone).
template <typename F>
inline void each_row(ThreadPool& pool, int n, const F& fn) {
  constexpr int kMinParallelRows = 4;
  if (n < kMinParallelRows || pool.size() == 1) {
    for (int i = 0; i < n; i++) fn(i);
    return;
  }
  // captures one reference: fits std::function's small buffer, so no allocation
  pool.parallel_for(n, [&fn](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; i++) fn((int)i);
  });
}

}  // namespace

Session::Session(const Model& model, const SessionOptions& opts, ThreadPool& pool)
    : model_(model), pool_(pool) {
  const ModelConfig& c = model.config();
  if (opts.n_ctx < 1) fail("SessionOptions::n_ctx: expected at least 1, got ", opts.n_ctx);
  if (opts.max_batch < 1) fail("SessionOptions::max_batch: expected at least 1, got ", opts.max_batch);
  if (opts.max_logits < 1) fail("SessionOptions::max_logits: expected at least 1, got ", opts.max_logits);
  n_ctx_ = std::min<int64_t>(opts.n_ctx, c.n_ctx_train);
  max_batch_ = (int)std::min<int64_t>(opts.max_batch, n_ctx_);
  max_logits_ = std::min(opts.max_logits, max_batch_);
  kv_dim_ = c.kv_dim();
  if (opts.kv_type != DType::F32 && opts.kv_type != DType::F16)
    fail("SessionOptions::kv_type: expected f32 or f16, got ", dtype_name(opts.kv_type));
  kv_type_ = opts.kv_type;
  kv_row_bytes_ = (size_t)kv_dim_ * (kv_type_ == DType::F16 ? 2 : 4);
  kv_rows_ = k_cache_rows(n_ctx_);

  const int64_t B = max_batch_, d = c.n_embd;
  // Refuse before allocating: a KV cache bigger than the free memory would only thrash.
  const uint64_t kv_need = (uint64_t)c.n_layer * 2 * (uint64_t)kv_rows_ * kv_row_bytes_;
  const uint64_t avail = available_memory();
  if (avail > 0 && kv_need > avail)
    fail("KV cache for a context of ", n_ctx_, " tokens needs ", kv_need / 1048576, " MiB but only ", avail / 1048576,
         " MiB of memory are available; use a smaller context (SessionOptions::n_ctx)");
  kv_.assign((size_t)kv_need, 0);
  x_.resize((size_t)(B * d));
  xn_.resize((size_t)(B * d));
  proj_.resize((size_t)(B * d));
  q_.resize((size_t)(B * c.q_dim()));
  att_.resize((size_t)(B * c.q_dim()));
  k_.resize((size_t)(B * kv_dim_));
  v_.resize((size_t)(B * kv_dim_));
  if (!model.weights().layers.empty() && model.weights().layers[0].wqkv.data)
    qkv_.resize((size_t)(B * (c.q_dim() + 2 * kv_dim_)));
  ff_a_.resize((size_t)(B * c.n_ff));
  ff_b_.resize((size_t)(B * c.n_ff));
  logits_.resize((size_t)(max_logits_ * c.n_logits()));
  const int64_t half = std::max<int64_t>(1, c.rope_dim / 2);
  rope_cos_.resize((size_t)(B * half));
  rope_sin_.resize((size_t)(B * half));
  if (c.rope_theta_local > 0) {
    rope_cos_local_.resize((size_t)(B * half));
    rope_sin_local_.resize((size_t)(B * half));
  }
  positions_.resize((size_t)B);
  depth_.resize((size_t)B);
  visible_begin_.resize((size_t)B + 1);
  visible_.resize((size_t)(B * (B + 1) / 2));
  att_scratch_.resize((size_t)(pool.size() * attention_scratch_floats(n_ctx_ + B, (int)c.head_dim)));
  last_tokens_.resize((size_t)B);
  tokens_.reserve((size_t)n_ctx_);
  row_tmp_.resize((size_t)(B * d));
  keep_features_ = opts.keep_features;
  if (keep_features_) committed_features_.resize((size_t)(n_ctx_ * d));
  if (c.draft_head) head_in_.resize((size_t)(B * 2 * d));
}

const float* Session::committed_feature(int64_t pos) const {
  if (!keep_features_) fail("committed_feature: the session was created without keep_features");
  if (pos < 0 || pos >= n_past_) fail("committed_feature: position ", pos, " is outside 0..", n_past_ - 1);
  return committed_features_.data() + pos * model_.config().n_embd;
}

size_t Session::buffer_bytes() const {
  size_t f = x_.size() + xn_.size() + q_.size() + k_.size() + v_.size() + qkv_.size() + att_.size() +
             proj_.size() + ff_a_.size() + ff_b_.size() + logits_.size() + rope_cos_.size() + rope_sin_.size() +
             rope_cos_local_.size() + rope_sin_local_.size() + att_scratch_.size() + row_tmp_.size() +
             committed_features_.size() + head_in_.size();
  size_t i = positions_.size() + visible_.size() + visible_begin_.size() + depth_.size() + last_tokens_.size();
  return kv_.size() + f * sizeof(float) + i * sizeof(int32_t);
}

const float* Session::forward(const int32_t* tokens, const int32_t* parents, int n, bool all_logits,
                             const float* features_in) {
  const ModelConfig& c = model_.config();
  const Weights& w = model_.weights();
  if (n < 1 || n > max_batch_) fail("batch of ", n, " nodes: expected 1..", max_batch_);
  if (c.draft_head != (features_in != nullptr))
    fail(c.draft_head ? "a draft head's forward needs the target's features" : "only a draft head reads target features");
  if (all_logits && n > max_logits_) fail("batch of ", n, " nodes wants all logits, but at most ", max_logits_, " rows are available");
  if (n_past_ + n > n_ctx_)
    fail("context full: ", n_past_, " committed tokens + ", n, " new exceed the context of ", n_ctx_, " tokens");

  // Tree structure: depth, position, and each node's visible batch rows (ancestors + self).
  int64_t nv = 0;
  for (int i = 0; i < n; i++) {
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab) fail("token id ", tokens[i], " is outside the vocabulary (0..", c.n_vocab - 1, ")");
    const int32_t p = parents[i];
    if (p < -1 || p >= i) fail("batch node ", i, ": parent ", p, " must be -1 or an earlier node");
    depth_[i] = p < 0 ? 0 : depth_[p] + 1;
    positions_[i] = (int32_t)(n_past_ + depth_[i]);
    visible_begin_[i] = (int32_t)nv;
    const int64_t start = nv;
    for (int32_t j = i; j >= 0; j = parents[j]) visible_[nv++] = j;
    std::reverse(visible_.begin() + start, visible_.begin() + nv);
    last_tokens_[i] = tokens[i];
  }
  visible_begin_[n] = (int32_t)nv;
  if (c.learned_pos)
    for (int i = 0; i < n; i++)
      if (positions_[i] >= w.pos_embd.rows)
        fail("position ", positions_[i], " exceeds the model's ", w.pos_embd.rows, " learned positions");

  const int64_t d = c.n_embd;
  timed(OpClass::other, 0, (double)n * d * 4, [&] {
    each_row(pool_, n, [&](int i) {
      float* xi = x_.data() + i * d;
      get_row(w.tok_embd, tokens[i], xi);
      if (c.embed_scale != 1.0f) scale(xi, c.embed_scale, d);
      if (c.learned_pos) {
        float* tmp = row_tmp_.data() + (int64_t)i * d;
        dequantize_row(w.pos_embd.type, w.pos_embd.data + (size_t)positions_[i] * w.pos_embd.row_stride, tmp, d);
        add(xi, tmp, d);
      }
      if (c.draft_head) {  // [embedding, target feature]; fc projects the pair below
        float* in = head_in_.data() + (int64_t)i * 2 * d;
        std::memcpy(in, xi, sizeof(float) * d);
        std::memcpy(in + d, features_in + (int64_t)i * d, sizeof(float) * d);
      }
      if (c.rope != RopeKind::None) {
        const int64_t half = c.rope_dim / 2;
        rope_table(&rope_cos_[i * half], &rope_sin_[i * half], c.rope_dim, positions_[i], c.rope_theta);
        if (c.rope_theta_local > 0)
          rope_table(&rope_cos_local_[i * half], &rope_sin_local_[i * half], c.rope_dim, positions_[i], c.rope_theta_local);
      }
    });
  });

  if (c.draft_head) linear(OpClass::other, w.fc, head_in_.data(), n, x_.data(), pool_);

  for (int64_t il = 0; il < c.n_layer; il++) layer(il, n);

  // Rows from `first` get logits; with keep_features every row is normalized (row i at i).
  const int first = all_logits ? 0 : n - 1;
  const int rows = n - first;
  const int norm_first = keep_features_ ? 0 : first;
  each_row(pool_, n - norm_first, [&](int i) {
    float* y = xn_.data() + (int64_t)i * d;
    const float* x = x_.data() + (int64_t)(norm_first + i) * d;
    if (c.norm == NormKind::RMS) rmsnorm(y, x, w.out_norm, d, c.norm_eps);
    else layernorm(y, x, w.out_norm, w.out_norm_b, d, c.norm_eps);
  });
  linear(OpClass::lm_head, w.output, xn_.data() + (int64_t)(first - norm_first) * d, rows, logits_.data(), pool_);
  last_n_ = n;
  return logits_.data();
}

void Session::layer(int64_t il, int n) {
  const ModelConfig& c = model_.config();
  const LayerWeights& L = model_.weights().layers[(size_t)il];
  const int64_t d = c.n_embd, qd = c.q_dim(), kvd = kv_dim_, hd = c.head_dim;
  const bool rms = c.norm == NormKind::RMS;
  auto norm_row = [&](int i, float* out, const float* in, const float* wn, const float* bn) {
    if (rms) rmsnorm(out + i * d, in + i * d, wn, d, c.norm_eps);
    else layernorm(out + i * d, in + i * d, wn, bn, d, c.norm_eps);
  };
  auto add_bias = [](float* y, const float* b, int64_t dim) {
    if (b) add(y, b, dim);
  };

  // Attention block. This layer's cached K/V rows were evicted by the other layers' weights
  // streaming through the caches since the last step; attention reads them row by row and
  // waits on memory. Prefetching them now overlaps those misses with the q/k/v projection.
  prefetch_kv(il, n);
  timed(OpClass::other, 8.0 * n * d, 8.0 * n * d, [&] {
    each_row(pool_, n, [&](int i) { norm_row(i, xn_.data(), x_.data(), L.attn_norm, L.attn_norm_b); });
  });
  if (L.wqkv.data) {
    linear(OpClass::qkv, L.wqkv, xn_.data(), n, qkv_.data(), pool_);
  } else {
    linear_multi(OpClass::qkv, {&L.wq, &L.wk, &L.wv}, xn_.data(), n, {q_.data(), k_.data(), v_.data()}, pool_);
  }

  const bool sliding = c.layer_is_sliding(il);
  timed(OpClass::other, 6.0 * n * (qd + kvd), 8.0 * n * (qd + 2 * kvd), [&] {
    const bool adjacent = c.rope == RopeKind::Adjacent;
    const int64_t half = c.rope_dim / 2;
    const float* cs = (sliding && !rope_cos_local_.empty()) ? rope_cos_local_.data() : rope_cos_.data();
    const float* sn = (sliding && !rope_sin_local_.empty()) ? rope_sin_local_.data() : rope_sin_.data();
    each_row(pool_, n, [&](int i) {
      float* q = q_.data() + i * qd;
      float* k = k_.data() + i * kvd;
      float* v = v_.data() + i * kvd;
      if (L.wqkv.data) {  // split the fused projection
        const float* src = qkv_.data() + i * (qd + 2 * kvd);
        std::memcpy(q, src, sizeof(float) * qd);
        std::memcpy(k, src + qd, sizeof(float) * kvd);
        std::memcpy(v, src + qd + kvd, sizeof(float) * kvd);
        add_bias(q, L.bqkv, qd);
        add_bias(k, L.bqkv ? L.bqkv + qd : nullptr, kvd);
        add_bias(v, L.bqkv ? L.bqkv + qd + kvd : nullptr, kvd);
      } else {
        add_bias(q, L.bq, qd);
        add_bias(k, L.bk, kvd);
        add_bias(v, L.bv, kvd);
      }
      if (c.qk_norm) {
        for (int64_t h = 0; h < c.n_head; h++) rmsnorm(q + h * hd, q + h * hd, L.q_norm, hd, c.norm_eps);
        for (int64_t h = 0; h < c.n_head_kv; h++) rmsnorm(k + h * hd, k + h * hd, L.k_norm, hd, c.norm_eps);
      }
      if (c.rope != RopeKind::None) {
        for (int64_t h = 0; h < c.n_head; h++) rope(q + h * hd, c.rope_dim, cs + i * half, sn + i * half, adjacent);
        for (int64_t h = 0; h < c.n_head_kv; h++) rope(k + h * hd, c.rope_dim, cs + i * half, sn + i * half, adjacent);
      }
      store_k(il, n_past_ + i, k);
      store_v(il, n_past_ + i, v);
    });
  });

  AttentionArgs a;
  a.q = q_.data();
  a.q_stride = qd;
  a.k_cache = k_tiles(il);
  a.v_cache = v_row(il, 0);
  a.kv_stride = kvd;
  a.kv_f16 = kv_type_ == DType::F16;
  a.n_head = (int)c.n_head;
  a.n_head_kv = (int)c.n_head_kv;
  a.head_dim = (int)hd;
  a.n_past = n_past_;
  a.n_tok = n;
  a.positions = positions_.data();
  a.visible = visible_.data();
  a.visible_begin = visible_begin_.data();
  a.window = sliding ? c.sliding_window : 0;
  a.scale = c.attn_scale > 0 ? c.attn_scale : 1.0f / std::sqrt((float)hd);
  a.out = att_.data();
  a.out_stride = qd;
  a.scratch = att_scratch_.data();
  a.scratch_stride = attention_scratch_floats(n_ctx_ + max_batch_, (int)hd);
  {
    // qk/pv: 2 FLOPs per multiply-add, two products (scores and weighted sum) per key per
    // head dim. Bytes: K and V rows read once (committed + batch) plus q in and out.
    const double keys = (double)(visible_begin_[n]) + (double)n * (double)n_past_;
    const double rows = (double)(n_past_ + n);
    timed(OpClass::qk_pv, 4.0 * keys * (double)qd, rows * 2.0 * (double)kv_row_bytes_ + 8.0 * n * qd,
          [&] { attention_overlapped(a, L); });
  }

  linear(OpClass::o, L.wo, att_.data(), n, proj_.data(), pool_);
  timed(OpClass::other, 10.0 * n * d, 12.0 * n * d, [&] {
    each_row(pool_, n, [&](int i) {
      float* p = proj_.data() + i * d;
      add_bias(p, L.bo, d);
      if (L.post_attn_norm) rmsnorm(p, p, L.post_attn_norm, d, c.norm_eps);
      add(x_.data() + i * d, p, d);
      norm_row(i, xn_.data(), x_.data(), L.ffn_norm, L.ffn_norm_b);
    });
  });

  // Feed-forward block.
  const int64_t ff = c.n_ff;
  if (c.ffn == FFNKind::GELU) {
    linear(OpClass::up_gate_down, L.w_up, xn_.data(), n, ff_a_.data(), pool_);
    timed(OpClass::other, 10.0 * n * ff, 8.0 * n * ff, [&] {
      each_row(pool_, n, [&](int i) {
        add_bias(ff_a_.data() + i * ff, L.b_up, ff);
        gelu(ff_a_.data() + i * ff, ff);
      });
    });
  } else {
    linear_multi(OpClass::up_gate_down, {&L.w_gate, &L.w_up}, xn_.data(), n, {ff_a_.data(), ff_b_.data()}, pool_);
    timed(OpClass::other, 10.0 * n * ff, 12.0 * n * ff, [&] {
      each_row(pool_, n, [&](int i) {
        if (c.ffn == FFNKind::SwiGLU) silu_mul(ff_a_.data() + i * ff, ff_b_.data() + i * ff, ff);
        else gelu_mul(ff_a_.data() + i * ff, ff_b_.data() + i * ff, ff);
      });
    });
  }
  linear(OpClass::up_gate_down, L.w_down, ff_a_.data(), n, proj_.data(), pool_);
  timed(OpClass::other, 6.0 * n * d, 12.0 * n * d, [&] {
    each_row(pool_, n, [&](int i) {
      float* p = proj_.data() + i * d;
      add_bias(p, L.b_down, d);
      if (L.post_ffn_norm) rmsnorm(p, p, L.post_ffn_norm, d, c.norm_eps);
      add(x_.data() + i * d, p, d);
    });
  });
}

void Session::attention_overlapped(const AttentionArgs& a, const LayerWeights& L) {
  // A short attention (a decode step over a short context) runs on this thread alone while
  // the others wait, and streams no weights. Let them prefetch the weights the next matmuls
  // read meanwhile: each its own share of the o projection and of the feed-forward's first
  // matmul, and thread 1 also this thread's shares. They stop when the attention is done.
  // (kernel_tuning().attn_overlap_prefetch; measured in docs/KERNEL_NOTES.md)
  if (!kernel_tuning().attn_overlap_prefetch || pool_.size() < 2 || attention_is_parallel(a)) {
    attention(a, pool_);
    return;
  }
  const WeightMatrix* o[1] = {&L.wo};
  const WeightMatrix* ffn_gated[2] = {&L.w_gate, &L.w_up};
  const WeightMatrix* ffn_plain[1] = {&L.w_up};
  const bool gated = L.w_gate.data != nullptr;
  const int threads = pool_.size();
  std::atomic<bool> done{false};
  pool_.run_on_all([&](int t) {
    if (t == 0) {
      attention(a, pool_);
      done.store(true, std::memory_order_release);
      return;
    }
    for (int owner : {t, 0}) {
      if (owner == 0 && t != 1) break;
      prefetch_weight_share(o, 1, owner, threads, done);
      if (gated) prefetch_weight_share(ffn_gated, 2, owner, threads, done);
      else prefetch_weight_share(ffn_plain, 1, owner, threads, done);
    }
  });
}

void Session::prefetch_kv(int64_t il, int n) {
  // The most recent rows (a sliding window reads only those), at most kMaxBytes per K and V:
  // enough for contexts of several hundred tokens; longer ones stream well on their own. For
  // K also the tiles this forward's n rows are written into (each row touches all lines of
  // its tile).
  constexpr int64_t kMaxBytes = 256 << 10;
  const int64_t rows = std::min<int64_t>(n_past_, kMaxBytes / (int64_t)kv_row_bytes_);
  const int64_t first = n_past_ - rows;
  const int64_t tile_bytes = kKeyTile * (int64_t)kv_row_bytes_;
  const uint8_t* k = k_tiles(il) + first / kKeyTile * tile_bytes;
  const int64_t k_bytes = ((n_past_ + n - 1) / kKeyTile - first / kKeyTile + 1) * tile_bytes;
  const uint8_t* v = v_row(il, first);
  const int64_t v_bytes = rows * (int64_t)kv_row_bytes_;
  for (int64_t o = 0; o < k_bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(k + o), _MM_HINT_T1);
  for (int64_t o = 0; o < v_bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(v + o), _MM_HINT_T1);
}

void Session::store_v(int64_t il, int64_t row, const float* src) {
  uint8_t* dst = v_row(il, row);
  if (kv_type_ == DType::F16) to_fp16(reinterpret_cast<uint16_t*>(dst), src, kv_dim_);
  else std::memcpy(dst, src, kv_row_bytes_);
}

// Writes the row into its lane of every channel of its key tile (converted like V rows).
void Session::store_k(int64_t il, int64_t row, const float* src) {
  const int64_t at = k_tile_offset(row, 0, kv_dim_);  // channel c follows at + c * kKeyTile
  constexpr int64_t kChunk = 256;
  for (int64_t c0 = 0; c0 < kv_dim_; c0 += kChunk) {
    const int64_t cn = std::min<int64_t>(kChunk, kv_dim_ - c0);
    if (kv_type_ == DType::F16) {
      uint16_t h[kChunk];
      to_fp16(h, src + c0, cn);
      uint16_t* t = reinterpret_cast<uint16_t*>(k_tiles(il)) + at + c0 * kKeyTile;
      for (int64_t c = 0; c < cn; c++) t[c * kKeyTile] = h[c];
    } else {
      float* t = reinterpret_cast<float*>(k_tiles(il)) + at + c0 * kKeyTile;
      for (int64_t c = 0; c < cn; c++) t[c * kKeyTile] = src[c0 + c];
    }
  }
}

void Session::copy_kv_row(int64_t il, int64_t dst, int64_t src) {
  std::memcpy(v_row(il, dst), v_row(il, src), kv_row_bytes_);
  const size_t es = kv_row_bytes_ / (size_t)kv_dim_;
  uint8_t* t = k_tiles(il);
  for (int64_t c = 0; c < kv_dim_; c++)
    std::memcpy(t + (size_t)k_tile_offset(dst, c, kv_dim_) * es, t + (size_t)k_tile_offset(src, c, kv_dim_) * es, es);
}

void Session::commit(const std::vector<int32_t>& path) {
  if (path.empty()) return;
  if (last_n_ == 0) fail("commit: no forward pass to commit from");
  if (n_past_ + (int64_t)path.size() > n_ctx_) fail("commit: path of ", path.size(), " nodes overflows the context");
  const int64_t L = model_.config().n_layer;
  for (size_t k = 0; k < path.size(); k++) {
    const int32_t node = path[k];
    if (node < 0 || node >= last_n_) fail("commit: node ", node, " is not in the last batch of ", last_n_);
    // A path runs root to leaf: the first node hangs off the committed cache, each next
    // one is the previous one's child. Node indices increase along a path, so rows only
    // move towards the front and never overwrite a row still to be moved.
    const int32_t expect_depth = (int32_t)k;
    if (depth_[node] != expect_depth || (k > 0 && visible_[visible_begin_[node + 1] - 2] != path[k - 1]))
      fail("commit: nodes do not form a root-to-leaf path at step ", k);
    const int64_t src = n_past_ + node, dst = n_past_ + (int64_t)k;
    if (src != dst)
      for (int64_t il = 0; il < L; il++) copy_kv_row(il, dst, src);
    if (keep_features_) {
      const int64_t d = model_.config().n_embd;
      std::memcpy(committed_features_.data() + dst * d, xn_.data() + (int64_t)node * d, sizeof(float) * d);
    }
    tokens_.push_back(last_tokens_[node]);
  }
  n_past_ += (int64_t)path.size();
  last_n_ = 0;
}

void Session::truncate(int64_t n) {
  if (n < 0 || n > n_past_) fail("truncate: ", n, " is outside 0..", n_past_);
  n_past_ = n;
  tokens_.resize((size_t)n);
  last_n_ = 0;
}

const float* Session::prefill(const std::vector<int32_t>& tokens) {
  if (tokens.empty()) fail("prefill: empty prompt");
  if (n_past_ + (int64_t)tokens.size() > n_ctx_)
    fail("prompt of ", tokens.size(), " tokens does not fit the context of ", n_ctx_, " tokens (", n_past_, " already used)");
  const float* logits = nullptr;
  std::vector<int32_t> parents((size_t)max_batch_), path((size_t)max_batch_);
  for (size_t start = 0; start < tokens.size(); start += (size_t)max_batch_) {
    const int n = (int)std::min<size_t>((size_t)max_batch_, tokens.size() - start);
    for (int i = 0; i < n; i++) parents[(size_t)i] = i - 1;
    logits = forward(tokens.data() + start, parents.data(), n, false);
    path.resize((size_t)n);
    std::iota(path.begin(), path.end(), 0);
    commit(path);
  }
  return logits;
}

const float* Session::decode(int32_t token) {
  static const int32_t kRoot = -1;
  const float* logits = forward(&token, &kRoot, 1, false);
  static const std::vector<int32_t> kFirst{0};
  commit(kFirst);
  return logits;
}

}  // namespace rooflm
