// Thread pool, fp16 conversion, element-wise ops and tree-masked attention against
// independent naive implementations.
#include <gtest/gtest.h>

#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "core/threadpool.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"

using namespace rooflm;

TEST(ThreadPool, CoversEveryIndexOnceForAwkwardSizes) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 3, 7, 64, 577, 10000}) {
      for (int64_t grain : {1, 4, 32}) {
        std::vector<std::atomic<int>> hits((size_t)n);
        for (auto& h : hits) h = 0;
        pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
          EXPECT_TRUE(b % grain == 0);
          for (int64_t i = b; i < e; i++) hits[(size_t)i]++;
        }, grain);
        for (int64_t i = 0; i < n; i++) ASSERT_EQ(hits[(size_t)i].load(), 1) << "n=" << n << " i=" << i;
      }
    }
  }
}

TEST(ThreadPool, ManyTinyJobsInARow) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int rep = 0; rep < 20000; rep++) pool.parallel_for(4, [&](int64_t b, int64_t e, int) { sum += e - b; });
  EXPECT_EQ(sum.load(), 80000);
}

TEST(ThreadPool, RejectsZeroThreads) { EXPECT_ANY_THROW(ThreadPool(0)); }

TEST(FP16, RoundTripsAndRoundsToNearestEven) {
  // Exhaustive: every half converts to float and back unchanged (NaNs stay NaN).
  for (uint32_t h = 0; h < 65536; h++) {
    const float f = fp16_to_fp32((uint16_t)h);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
      continue;
    }
    ASSERT_EQ(fp32_to_fp16(f), (uint16_t)h) << h;
  }
  EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  // 1 + 2^-11 is halfway between 1 and the next half: ties to even (1.0).
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(fp32_to_fp16(1e6f), 0x7c00);  // overflow -> inf
  EXPECT_EQ(bf16_to_fp32(fp32_to_bf16(1.5f)), 1.5f);
}

TEST(Ops, RmsnormLayernormSoftmaxRope) {
  std::vector<float> x{1, 2, 3, 4}, y(4), w{1, 1, 2, 2};
  rmsnorm(y.data(), x.data(), w.data(), 4, 0.0f);
  const float r = 1.0f / std::sqrt(7.5f);
  EXPECT_NEAR(y[0], 1 * r, 1e-6);
  EXPECT_NEAR(y[3], 8 * r, 1e-6);
  std::vector<float> b{0, 0, 0, 1};
  layernorm(y.data(), x.data(), nullptr, b.data(), 4, 0.0f);
  EXPECT_NEAR(y[0], -1.5f / std::sqrt(1.25f), 1e-5);
  EXPECT_NEAR(y[3], 1.5f / std::sqrt(1.25f) + 1, 1e-5);
  std::vector<float> s{1000, 1000, -1e30f};
  softmax(s.data(), 3);
  EXPECT_NEAR(s[0], 0.5f, 1e-6);
  EXPECT_EQ(s[2], 0.0f);
  // RoPE at position p rotates pair i by p * theta^(-2i/d); both layouts agree on the
  // pair they rotate; the rotation keeps the norm.
  std::vector<float> c(2), sn(2);
  rope_table(c.data(), sn.data(), 4, 3, 10000.0f);
  EXPECT_NEAR(c[0], std::cos(3.0), 1e-6);
  EXPECT_NEAR(sn[1], std::sin(3.0 * std::pow(10000.0, -0.5)), 1e-6);
  std::vector<float> adj{1, 0, 0, 1}, neox{1, 0, 0, 1};
  rope(adj.data(), 4, c.data(), sn.data(), true);    // pairs (0,1), (2,3)
  rope(neox.data(), 4, c.data(), sn.data(), false);  // pairs (0,2), (1,3)
  EXPECT_NEAR(adj[0], std::cos(3.0), 1e-6);
  EXPECT_NEAR(adj[1], std::sin(3.0), 1e-6);
  EXPECT_NEAR(neox[0], std::cos(3.0), 1e-6);
  EXPECT_NEAR(neox[2], std::sin(3.0), 1e-6);
}

// Relative error of a against the reference b, with an absolute floor for values near 0.
static double rel_err(float a, float b) { return std::fabs((double)a - b) / std::max(1e-30, std::fabs((double)b)); }

TEST(Ops, VectorExpWithinThreeUlpOfLibm) {
  if (!kernel_path_supported(KernelPath::AVX512)) GTEST_SKIP() << "no AVX-512 here";
  std::vector<float> x;
  for (double v = -103.0; v <= 88.7; v += 0.0137) x.push_back((float)v);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, 88.72f, -87.3f}) x.push_back(v);
  std::vector<float> got = x, want = x;
  ops_avx512::exp(got.data(), (int64_t)got.size());
  ops_ref::exp(want.data(), (int64_t)want.size());
  for (size_t i = 0; i < x.size(); i++) {
    if (want[i] < FLT_MIN) {  // would be subnormal: flushed to exactly 0 (no microcode assists)
      ASSERT_EQ(got[i], 0.0f) << "x=" << x[i];
      continue;
    }
    ASSERT_LT(rel_err(got[i], want[i]), 3.6e-7) << "x=" << x[i];  // 3 ulp
  }
  std::vector<float> edge{-1000.0f, -INFINITY, NAN};
  ops_avx512::exp(edge.data(), 3);
  EXPECT_EQ(edge[0], 0.0f);
  EXPECT_EQ(edge[1], 0.0f);
  EXPECT_TRUE(std::isnan(edge[2]));
}

TEST(Ops, VectorOpsMatchScalarReferenceOnAwkwardSizes) {
  if (!kernel_path_supported(KernelPath::AVX512)) GTEST_SKIP() << "no AVX-512 here";
  std::mt19937 rng(11);
  for (int64_t n : {1, 5, 15, 16, 17, 31, 33, 64, 576, 1000, 1536}) {
    for (float spread : {1.0f, 30.0f}) {
      std::normal_distribution<float> nd(0.0f, spread);
      std::vector<float> x((size_t)n), w((size_t)n), b((size_t)n), up((size_t)n);
      for (auto* v : {&x, &w, &b, &up})
        for (auto& e : *v) e = nd(rng);
      auto close = [&](const std::vector<float>& got, const std::vector<float>& want, double tol, const char* what) {
        for (int64_t i = 0; i < n; i++)
          ASSERT_NEAR(got[(size_t)i], want[(size_t)i], tol * std::max(1.0f, std::fabs(want[(size_t)i])))
              << what << " n=" << n << " spread=" << spread << " i=" << i;
      };
      std::vector<float> g1((size_t)n), g2((size_t)n);
      ops_avx512::rmsnorm(g1.data(), x.data(), w.data(), n, 1e-5f);
      ops_ref::rmsnorm(g2.data(), x.data(), w.data(), n, 1e-5f);
      close(g1, g2, 2e-6, "rmsnorm");
      ops_avx512::rmsnorm(g1.data(), x.data(), nullptr, n, 1e-5f);
      ops_ref::rmsnorm(g2.data(), x.data(), nullptr, n, 1e-5f);
      close(g1, g2, 2e-6, "rmsnorm without weight");
      ops_avx512::layernorm(g1.data(), x.data(), w.data(), b.data(), n, 1e-5f);
      ops_ref::layernorm(g2.data(), x.data(), w.data(), b.data(), n, 1e-5f);
      close(g1, g2, n == 1 ? 1e-2 : 2e-5, "layernorm");
      g1 = x, g2 = x;
      ops_avx512::silu_mul(g1.data(), up.data(), n);
      ops_ref::silu_mul(g2.data(), up.data(), n);
      close(g1, g2, 2e-6, "silu_mul");
      g1 = x, g2 = x;
      ops_avx512::gelu_mul(g1.data(), up.data(), n);
      ops_ref::gelu_mul(g2.data(), up.data(), n);
      close(g1, g2, 2e-6, "gelu_mul");
      g1 = x, g2 = x;
      ops_avx512::gelu(g1.data(), n);
      ops_ref::gelu(g2.data(), n);
      close(g1, g2, 2e-6, "gelu");
      g1 = x, g2 = x;
      if (n > 3) g1[2] = g2[2] = -INFINITY;  // a masked score
      ops_avx512::softmax(g1.data(), n);
      ops_ref::softmax(g2.data(), n);
      close(g1, g2, 2e-6, "softmax");
      if (n > 3) {
        EXPECT_EQ(g1[2], 0.0f);
      }
      std::vector<uint16_t> h1((size_t)n), h2((size_t)n);
      ops_avx512::to_fp16(h1.data(), x.data(), n);
      ops_ref::to_fp16(h2.data(), x.data(), n);
      ASSERT_EQ(h1, h2) << "to_fp16 n=" << n;  // both round to nearest even: bit-identical
      // the output beyond n is never touched (masked tails)
      std::vector<float> guard((size_t)n + 16, 7.0f);
      std::copy(x.begin(), x.end(), guard.begin());
      ops_avx512::silu_mul(guard.data(), up.data(), n);
      for (size_t i = (size_t)n; i < guard.size(); i++) ASSERT_EQ(guard[i], 7.0f);
    }
  }
}

namespace {

// Naive attention for one node: explicit key list, double precision.
std::vector<double> naive(const std::vector<float>& q, const std::vector<float>& K, const std::vector<float>& V,
                          const std::vector<int64_t>& rows, int h, int kvh, int hd, int n_head, int kv_dim,
                          int node, float scale) {
  std::vector<double> sc;
  for (int64_t r : rows) {
    double s = 0;
    for (int d = 0; d < hd; d++) s += (double)q[(size_t)(node * n_head * hd + h * hd + d)] * K[(size_t)(r * kv_dim + kvh * hd + d)];
    sc.push_back(s * scale);
  }
  double mx = -1e300, sum = 0;
  for (double s : sc) mx = std::max(mx, s);
  for (double& s : sc) sum += (s = std::exp(s - mx));
  std::vector<double> out((size_t)hd, 0.0);
  for (size_t j = 0; j < rows.size(); j++)
    for (int d = 0; d < hd; d++) out[(size_t)d] += sc[j] / sum * V[(size_t)(rows[j] * kv_dim + kvh * hd + d)];
  return out;
}

}  // namespace

TEST(Attention, TreeMaskMatchesNaiveOnAwkwardShapes) {
  auto binary_tree = [](int n) {
    std::vector<int32_t> p((size_t)n);
    for (int i = 0; i < n; i++) p[(size_t)i] = i == 0 ? -1 : (i - 1) / 2;
    return p;
  };
  auto chain = [](int n) {
    std::vector<int32_t> p((size_t)n);
    for (int i = 0; i < n; i++) p[(size_t)i] = i - 1;
    return p;
  };
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0, 1);
  struct Shape { int n_head, n_head_kv, hd; int64_t n_past; std::vector<int32_t> parents; int64_t window; };
  std::vector<Shape> shapes = {
      {1, 1, 16, 0, {-1}, 0},                                // first token
      {4, 2, 64, 37, {-1}, 0},                               // decode, GQA
      {9, 3, 64, 5, {-1, 0, 1, 2, 3}, 0},                    // chain (prefill continuation)
      {2, 1, 24, 11, {-1, 0, 0, 1, 1, 2, -1, 6}, 0},         // tree with two roots, head_dim not /16
      {4, 1, 32, 40, {-1, 0, 1, 1, 3, 2}, 8},                // sliding window cuts committed rows
      {2, 2, 128, 50, {-1, 0, 1, 2, 3, 4}, 3},               // window shorter than the chain: batch rows cut
      {4, 1, 256, 33, {-1, 0, 0, 1}, 0},                     // long heads (Gemma 3), > 16 keys
      {3, 3, 64, 0, {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, 0},  // prefill, 18 keys
      {9, 3, 64, 70, binary_tree(15), 0},                     // SmolLM2's heads, a 15-node tree, threaded
      {8, 1, 64, 33, binary_tree(40), 0},                     // 8 query heads per KV head
      {6, 2, 128, 45, chain(12), 20},                         // window start differs between nodes
      {40, 1, 32, 20, chain(3), 0},                           // 40 query heads on one KV head
      {9, 3, 64, 150, {-1}, 0},                               // decode split across threads: heads of a KV head in chunks
  };
  for (const auto& s : shapes) {
    const int n = (int)s.parents.size(), qd = s.n_head * s.hd, kvd = s.n_head_kv * s.hd;
    const int64_t rows = s.n_past + n;
    std::vector<float> q((size_t)(n * qd)), K((size_t)(rows * kvd)), V((size_t)(rows * kvd));
    for (auto& v : q) v = nd(rng);
    for (auto& v : K) v = nd(rng);
    for (auto& v : V) v = nd(rng);
    std::vector<int32_t> depth(n), pos(n), vis, vb;
    for (int i = 0; i < n; i++) {
      depth[i] = s.parents[i] < 0 ? 0 : depth[s.parents[i]] + 1;
      pos[i] = (int32_t)(s.n_past + depth[i]);
      vb.push_back((int32_t)vis.size());
      std::vector<int32_t> anc;
      for (int j = i; j >= 0; j = s.parents[j]) anc.insert(anc.begin(), j);
      vis.insert(vis.end(), anc.begin(), anc.end());
    }
    vb.push_back((int32_t)vis.size());
    // f16 cache: the same values rounded to halves (the naive oracle sees the rounded ones)
    std::vector<uint16_t> K16(K.size()), V16(V.size());
    std::vector<float> Kr(K.size()), Vr(V.size());
    for (size_t e = 0; e < K.size(); e++) {
      K16[e] = fp32_to_fp16(K[e]), V16[e] = fp32_to_fp16(V[e]);
      Kr[e] = fp16_to_fp32(K16[e]), Vr[e] = fp16_to_fp32(V16[e]);
    }
    // the K cache in key tiles (attention.h); V stays row-major
    const int64_t tiled = k_cache_rows(rows) * kvd;
    std::vector<float> Kt((size_t)tiled, 0.0f);
    std::vector<uint16_t> K16t((size_t)tiled, 0);
    for (int64_t r = 0; r < rows; r++)
      for (int c = 0; c < kvd; c++) {
        Kt[(size_t)k_tile_offset(r, c, kvd)] = K[(size_t)(r * kvd + c)];
        K16t[(size_t)k_tile_offset(r, c, kvd)] = K16[(size_t)(r * kvd + c)];
      }
    for (int threads : {1, 2, 3}) for (bool f16 : {false, true}) {
      ThreadPool pool(threads);
      std::vector<float> out((size_t)(n * qd)), scratch((size_t)(threads * attention_scratch_floats(rows, s.hd)));
      AttentionArgs a;
      a.q = q.data(); a.q_stride = qd; a.kv_stride = kvd;
      a.k_cache = f16 ? (const void*)K16t.data() : Kt.data();
      a.v_cache = f16 ? (const void*)V16.data() : V.data();
      a.kv_f16 = f16;
      a.n_head = s.n_head; a.n_head_kv = s.n_head_kv; a.head_dim = s.hd; a.n_past = s.n_past; a.n_tok = n;
      a.positions = pos.data(); a.visible = vis.data(); a.visible_begin = vb.data(); a.window = s.window;
      a.scale = 1.0f / std::sqrt((float)s.hd); a.out = out.data(); a.out_stride = qd;
      a.scratch = scratch.data(); a.scratch_stride = attention_scratch_floats(rows, s.hd);
      attention(a, pool);
      if (kernel_path_supported(KernelPath::AVX512) && attention_avx512_supports(s.hd)) {
        // The AVX-512 kernel takes up to 3 query heads of a KV head at once; each head's output
        // must be bit-identical to that head computed alone (what makes a tree node equal the
        // same token decoded alone).
        std::vector<float> out_one((size_t)(n * qd));
        a.out = out_one.data();
        for (int i = 0; i < n; i++)
          for (int h = 0; h < s.n_head; h++) attend_heads_avx512(a, i, h, 1, scratch.data());
        a.out = out.data();
        for (size_t e = 0; e < out.size(); e++)
          ASSERT_EQ(std::memcmp(&out[e], &out_one[e], sizeof(float)), 0)
              << "element " << e << ": " << out[e] << " vs " << out_one[e] << " alone, f16 " << f16;
      }
      std::vector<float> out_ref((size_t)(n * qd));
      a.out = out_ref.data();
      attention_ref(a);
      for (int i = 0; i < n; i++) {
        // Rows node i may see: committed rows inside the window, then its ancestors.
        std::vector<int64_t> keys;
        for (int64_t j = 0; j < s.n_past; j++)
          if (s.window == 0 || pos[i] - j < s.window) keys.push_back(j);
        for (int j = i; j >= 0; j = s.parents[j])
          if (s.window == 0 || pos[i] - pos[j] < s.window) keys.push_back(s.n_past + j);
        for (int h = 0; h < s.n_head; h++) {
          const auto want = naive(q, f16 ? Kr : K, f16 ? Vr : V, keys, h, h / (s.n_head / s.n_head_kv), s.hd, s.n_head, kvd, i, a.scale);
          for (int d = 0; d < s.hd; d++) {
            ASSERT_NEAR(out[(size_t)(i * qd + h * s.hd + d)], want[(size_t)d], 2e-5) << "node " << i << " head " << h << " f16 " << f16;
            ASSERT_NEAR(out_ref[(size_t)(i * qd + h * s.hd + d)], want[(size_t)d], 2e-5);
          }
        }
      }
    }
  }
}
