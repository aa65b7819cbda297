// Speculative decoding end to end on the tiny fixture models (fast): every mode and drafter
// reproduces plain greedy decoding token for token, keeps the token budget and the context
// limit exactly, and under sampling produces the target's joint distribution (chi-square
// against the exact distribution computed by plain decoding).
//
// tiny_llama is the target; drafts are tiny_llama itself (same model: greedy acceptance is
// total) and tiny_gpt2 (a different random model with the same 400-token tokenizer: most
// proposals are rejected, which exercises the rejection paths).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "decode/generate.h"
#include "decode/speculative/spec_config.h"
#include "decode/speculative/speculative.h"
#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

using namespace rooflm;
using namespace rooflm::spec;

namespace {

std::string tiny_llama_path() { return test::source_dir() + "/tests/fixtures/tiny_llama/tiny_llama.gguf"; }
std::string tiny_gpt2_path() { return test::source_dir() + "/tests/fixtures/tiny_gpt2/tiny_gpt2.gguf"; }
// A draft head for tiny_llama (scripts/train_head.py --smoke on tiny_llama's features; see
// tests/fixtures/README.md): barely trained, so acceptance and rejection both happen.
std::string tiny_head_path() { return test::source_dir() + "/tests/fixtures/tiny_llama/tiny_llama.head.gguf"; }

const Model& tiny_llama() {
  static std::unique_ptr<Model> m = Model::load(tiny_llama_path());
  return *m;
}

SamplerParams greedy(float penalty = 1.0f) {
  SamplerParams sp;
  sp.temperature = 0;
  sp.repeat_penalty = penalty;
  return sp;
}

GenerateResult run_plain(const Model& m, const std::vector<int32_t>& prompt, int64_t n, const SamplerParams& sp,
                         int64_t n_ctx = 256) {
  ThreadPool pool(1);
  SessionOptions so;
  so.n_ctx = n_ctx;
  Session s(m, so, pool);
  Sampler sampler(sp, m.config().n_vocab);
  return generate_autoregressive(s, sampler, prompt, n, nullptr);
}

struct SpecRun {
  GenerateResult r;
  SpecStats st;
};

SpecRun run_spec(const Model& m, const SpecConfig& cfg, const std::vector<int32_t>& prompt, int64_t n,
                 const SamplerParams& sp, int64_t n_ctx = 256) {
  ThreadPool pool(1);
  SpecSetup setup = make_spec(cfg, m, sp, n_ctx, pool);
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.max_logits = setup.max_logits;
  so.keep_features = setup.target_features;
  Session s(m, so, pool);
  Sampler sampler(sp, m.config().n_vocab);
  SpecRun out;
  out.r = generate_speculative(s, sampler, *setup.drafter, setup.limits, prompt, n, nullptr, &out.st);
  return out;
}

SpecConfig config(SpecMode mode, const std::string& draft = "", const std::string& shape = "dynamic") {
  SpecConfig c;
  c.mode = mode;
  c.draft_path = draft;
  c.tree_shape = shape;
  c.draft_len = 6;
  c.tree_size = 16;
  c.tree_width = 3;
  return c;
}

std::vector<SpecConfig> all_configs() {
  std::vector<SpecConfig> v;
  for (const std::string& d : {std::string(""), tiny_llama_path(), tiny_gpt2_path(), tiny_head_path()}) {
    v.push_back(config(SpecMode::Chain, d));
    v.push_back(config(SpecMode::Tree, d));
    v.push_back(config(SpecMode::Tree, d, "sparse"));
    v.push_back(config(SpecMode::Staged, d));
  }
  // The same without the adaptive budget (every drafted candidate is verified).
  const size_t n = v.size();
  for (size_t i = 0; i < n; i++) {
    v.push_back(v[i]);
    v.back().adaptive = false;
  }
  return v;
}

std::string describe(const SpecConfig& c) {
  return std::string(spec_mode_name(c.mode)) + "/" + c.tree_shape + " draft=" + (c.draft_path.empty() ? "ngram" : c.draft_path) +
         (c.adaptive ? "" : " fixed");
}

}  // namespace

TEST(SpecDecode, GreedyEqualsPlainDecodingEveryMode) {
  const Model& m = tiny_llama();
  const Tokenizer& tok = m.tokenizer();
  const std::vector<std::vector<int32_t>> prompts{
      tok.encode("the cat sat on the mat. the cat sat on the", true, false),
      tok.encode("def f(x):\n    return x + 1\n\ndef g(x):\n", true, false),
  };
  for (float penalty : {1.0f, 1.3f})
    for (const auto& prompt : prompts) {
      const GenerateResult base = run_plain(m, prompt, 40, greedy(penalty));
      ASSERT_EQ(base.tokens.size(), 40u);
      for (const SpecConfig& c : all_configs()) {
        SpecRun s = run_spec(m, c, prompt, 40, greedy(penalty));
        EXPECT_EQ(s.r.tokens, base.tokens) << describe(c) << " penalty " << penalty;
        EXPECT_EQ(s.r.stop_reason, base.stop_reason) << describe(c);
        EXPECT_LE(s.r.target_steps, base.target_steps) << describe(c);
        if (c.draft_path == tiny_llama_path() && penalty == 1.0f && c.tree_shape == "dynamic" &&
            c.mode != SpecMode::Tree && !c.adaptive) {
          // Self-drafting with greedy acceptance: every step gains the whole chain.
          EXPECT_LE(s.r.target_steps, (40 + 6) / 7 + 1) << describe(c);
        }
      }
    }
}

TEST(SpecDecode, TokenBudgetAndContextEndMatchPlainDecoding) {
  const Model& m = tiny_llama();
  const auto prompt = m.tokenizer().encode("the cat sat on the mat. the cat sat on the", true, false);
  const int64_t np = (int64_t)prompt.size();
  for (int64_t n : {0, 1, 2, 3, 7}) {
    const GenerateResult base = run_plain(m, prompt, n, greedy());
    for (const SpecConfig& c : {config(SpecMode::Staged), config(SpecMode::Chain, tiny_llama_path()),
                                config(SpecMode::Chain, tiny_head_path())}) {
      SpecRun s = run_spec(m, c, prompt, n, greedy());
      EXPECT_EQ(s.r.tokens, base.tokens) << "n=" << n << " " << describe(c);
      EXPECT_EQ(s.r.stop_reason, base.stop_reason) << "n=" << n;
    }
  }
  // The cache ends before n tokens: stop where plain decoding stops ("context").
  for (int64_t extra : {1, 2, 5, 9}) {
    const int64_t n_ctx = np + extra;
    const GenerateResult base = run_plain(m, prompt, 50, greedy(), n_ctx);
    EXPECT_EQ(base.stop_reason, "context");
    for (const SpecConfig& c : {config(SpecMode::Staged), config(SpecMode::Tree, tiny_llama_path()),
                                config(SpecMode::Staged, tiny_llama_path()), config(SpecMode::Staged, tiny_head_path())}) {
      SpecRun s = run_spec(m, c, prompt, 50, greedy(), n_ctx);
      EXPECT_EQ(s.r.tokens, base.tokens) << "n_ctx=" << n_ctx << " " << describe(c);
      EXPECT_EQ(s.r.stop_reason, "context") << describe(c);
    }
  }
}

namespace {

// Exact joint distribution of the first `len` generated tokens under plain sampling.
void exact_joint(Session& s, Sampler& sampler, const std::vector<int32_t>& prefix_gen, const float* logits, int len,
                 double mass, std::map<std::vector<int32_t>, double>& out) {
  const int64_t V = s.n_vocab();
  std::vector<float> p((size_t)V);
  sampler.probabilities(logits, s.tokens(), p.data());
  const int64_t n_past = s.n_past();
  for (int32_t t = 0; t < V; t++) {
    if (p[(size_t)t] <= 0) continue;
    std::vector<int32_t> g = prefix_gen;
    g.push_back(t);
    if ((int)g.size() == len) {
      out[g] += mass * p[(size_t)t];
      continue;
    }
    const float* l = s.decode(t);
    std::vector<float> copy(l, l + V);
    exact_joint(s, sampler, g, copy.data(), len, mass * p[(size_t)t], out);
    s.truncate(n_past);
  }
}

// A drafter that knows roughly what the target likes (it runs the target model itself) but
// proposes badly on purpose, so that acceptance and rejection both happen often:
//   Deterministic: the target's top-4 tokens at the root in reverse order (least likely
//     first), and under each the target's argmax followed by its 2nd choice (one-hot q).
//   Sampled: a chain of 2 drawn from q = 0.5 * uniform(target's top-4) + 0.5 * uniform(vocab),
//     each candidate carrying its q (dense), plus a deterministic sibling at the root.
class AwkwardDrafter : public Drafter {
 public:
  AwkwardDrafter(const Model& m, bool sampled, ThreadPool& pool)
      : m_(m), sampled_(sampled), rng_(77) {
    SessionOptions so;
    so.n_ctx = 128;
    so.max_logits = 8;
    s_ = std::make_unique<Session>(m, so, pool);
  }
  std::string name() const override { return sampled_ ? "awkward-sampled" : "awkward-deterministic"; }
  void propose(const std::vector<int32_t>& ctx, const DraftLimits& lim, DraftTree& tree) override {
    const int64_t V = m_.config().n_vocab;
    s_->truncate(0);
    const float* l = s_->prefill(ctx);
    std::vector<int32_t> top = top_ids(l, 4);
    if (!sampled_) {
      std::vector<int32_t> kids;
      for (int i = 3; i >= 0 && tree.size() <= lim.size; i--) kids.push_back(tree.add(0, top[(size_t)i], 0.1f * (float)(i + 1)));
      if (lim.depth < 2) return;
      std::vector<int32_t> par(kids.size(), -1);
      std::vector<int32_t> toks;
      for (int32_t k : kids) toks.push_back(tree.token(k));
      const float* rows = s_->forward(toks.data(), par.data(), (int)toks.size(), true);
      for (size_t k = 0; k < kids.size(); k++) {
        const auto t2 = top_ids(rows + k * (size_t)V, 2);
        for (int32_t t : t2)
          if (tree.size() <= lim.size) tree.add(kids[k], t, tree.score(kids[k]) * (t == t2[0] ? 0.6f : 0.2f));
      }
      return;
    }
    int node = 0;
    for (int d = 0; d < std::min(2, lim.depth) && tree.size() <= lim.size; d++) {
      const int q = tree.new_dist(V);
      float* qd = tree.dist(q);
      for (int64_t i = 0; i < V; i++) qd[i] = 0.5f / (float)V;
      for (int32_t t : top) qd[t] += 0.5f / 4;
      double u = rng_.uniform(), acc = 0;
      int32_t x = (int32_t)V - 1;
      for (int64_t i = 0; i < V; i++) {
        acc += qd[i];
        if (u < acc) {
          x = (int32_t)i;
          break;
        }
      }
      // The score is the sampled token's draft probability: a budget that cut by it would bias
      // the output, which is what this case checks.
      const int c = tree.add(node, x, tree.score(node) * qd[x], q);
      if (d == 0 && tree.size() <= lim.size) tree.add(0, top[0], 0.3f);  // a deterministic sibling after it
      if (d + 1 < std::min(2, lim.depth)) {
        l = s_->decode(x);
        top = top_ids(l, 4);
      }
      node = c;
    }
  }

 private:
  std::vector<int32_t> top_ids(const float* l, int k) {
    std::vector<int32_t> id((size_t)m_.config().n_vocab);
    std::iota(id.begin(), id.end(), 0);
    std::partial_sort(id.begin(), id.begin() + k, id.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
    id.resize((size_t)k);
    return id;
  }
  const Model& m_;
  bool sampled_;
  Rng rng_;
  std::unique_ptr<Session> s_;
};

double chi2_critical(int df, double z) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

}  // namespace

TEST(SpecDecode, SamplingReproducesTheTargetJointDistribution) {
  const Model& m = tiny_llama();
  const auto prompt = m.tokenizer().encode("the cat sat on the mat. the cat sat on the", true, false);
  SamplerParams sp;
  sp.temperature = 1.0f;
  sp.top_k = 3;
  sp.top_p = 1.0f;
  sp.min_p = 0.0f;
  sp.repeat_penalty = 1.2f;
  const int len = 3;
  ThreadPool pool(1);
  std::map<std::vector<int32_t>, double> want;
  {
    SessionOptions so;
    so.n_ctx = 128;
    Session s(m, so, pool);
    Sampler sampler(sp, m.config().n_vocab);
    const float* l = s.prefill(prompt);
    std::vector<float> copy(l, l + m.config().n_vocab);
    exact_joint(s, sampler, {}, copy.data(), len, 1.0, want);
  }
  const int kRuns = 2500;
  struct Case {
    std::string name;
    std::unique_ptr<SpecSetup> setup;
    std::unique_ptr<Drafter> own;
    bool expect_accepts;
  };
  std::vector<Case> cases;
  auto add_config = [&](const SpecConfig& c0, bool expect) {
    SpecConfig c = c0;
    c.draft_len = 2;
    c.adaptive = false;  // verify every candidate (the budget is tested with the awkward drafter)
    cases.push_back({describe(c), std::make_unique<SpecSetup>(make_spec(c, m, sp, 128, pool)), nullptr, expect});
  };
  add_config(config(SpecMode::Staged), false);                    // n-gram tree (mostly rejected)
  add_config(config(SpecMode::Chain, tiny_gpt2_path()), false);   // sampled chain, dense q, disjoint support
  add_config(config(SpecMode::Chain, tiny_llama_path()), true);   // q == p: always accepted
  add_config(config(SpecMode::Staged, tiny_llama_path()), true);  // trunk + alternatives
  add_config(config(SpecMode::Tree, tiny_head_path()), false);    // draft head: a deterministic tree
  add_config(config(SpecMode::Staged, tiny_head_path()), false);  // draft head + prompt lookup
  for (int variant = 0; variant < 4; variant++) {
    const bool sampled = variant & 1, budget = variant & 2;
    Case c{std::string(sampled ? "awkward sampled" : "awkward deterministic") + (budget ? " + budget" : ""),
           std::make_unique<SpecSetup>(), nullptr, true};
    c.own = std::make_unique<AwkwardDrafter>(m, sampled, pool);
    c.setup->limits = {2, 8};
    c.setup->max_logits = 9;
    if (budget) {  // the adaptive budget cuts trees; the cut must not bias the output
      c.setup->budget = std::make_unique<TreeBudget>(9, /*allow_pause=*/false);
      c.setup->limits.budget = c.setup->budget.get();
    }
    cases.push_back(std::move(c));
  }
  for (Case& c : cases) {
    Drafter& drafter = c.own ? *c.own : *c.setup->drafter;
    SessionOptions so;
    so.n_ctx = 128;
    so.max_logits = c.setup->max_logits;
    so.keep_features = c.setup->target_features;
    Session s(m, so, pool);
    const float* l = s.prefill(prompt);
    const std::vector<float> first(l, l + m.config().n_vocab);
    std::map<std::vector<int32_t>, int64_t> got;
    SpecStats st;
    const auto t0 = std::chrono::steady_clock::now();
    for (int run = 0; run < kRuns; run++) {
      s.truncate((int64_t)prompt.size());
      SamplerParams spr = sp;
      spr.seed = 1000 + (uint64_t)run;
      Sampler sampler(spr, m.config().n_vocab);
      GenerateResult r = decode_speculative(s, sampler, drafter, c.setup->limits, first.data(), len, nullptr, &st);
      ASSERT_EQ(r.tokens.size(), (size_t)len);
      got[r.tokens]++;
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    double chi = 0;
    for (auto& [k, n] : got) EXPECT_TRUE(want.count(k)) << c.name << ": impossible sequence";
    for (auto& [k, p] : want) {
      const double e = p * kRuns;
      const double o = got.count(k) ? (double)got[k] : 0.0;
      chi += (o - e) * (o - e) / e;
    }
    const int df = (int)want.size() - 1;
    std::printf("  %-40s chi2 %.1f (df %d, limit %.1f), accepted %lld in %lld steps, %.0f ms\n", c.name.c_str(),
                chi, df, chi2_critical(df, 3.719), (long long)st.accepted, (long long)st.target_steps, ms);
    EXPECT_LT(chi, chi2_critical(df, 3.719)) << c.name << " (" << want.size() << " cells)";
    if (c.expect_accepts) {
      EXPECT_GT(st.accepted, kRuns / 8) << c.name << ": too few accepted draft tokens; the test would be weak";
    }
  }
}

TEST(SpecDecode, BadConfigurationsNameTheFlag) {
  const Model& m = tiny_llama();
  ThreadPool pool(1);
  auto expect_error = [&](SpecConfig c, const std::string& field, int64_t n_ctx = 128) {
    try {
      make_spec(c, m, greedy(), n_ctx, pool);
      ADD_FAILURE() << "no error for " << field;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  SpecConfig c = config(SpecMode::Tree);
  c.tree_size = 0;
  expect_error(c, "SpecOptions::tree_size");
  c.tree_size = 200;
  expect_error(c, "SpecOptions::tree_size", 128);  // 201 nodes do not fit 128 rows
  c = config(SpecMode::Chain);
  c.draft_len = 0;
  expect_error(c, "SpecOptions::draft_len");
  c = config(SpecMode::Tree);
  c.tree_width = 0;
  expect_error(c, "SpecOptions::tree_width");
  c.tree_width = 2;
  c.tree_shape = "star";
  expect_error(c, "SpecOptions::tree_shape");
  c = config(SpecMode::Staged);
  c.ngram_corpus = "/nonexistent/corpus.txt";
  expect_error(c, "SpecOptions::ngram_corpus");
  c = config(SpecMode::None);
  c.draft_path = tiny_gpt2_path();
  expect_error(c, "SpecOptions::draft_path");
  c = config(SpecMode::Staged);
  c.shipped_head = true;  // tiny_llama has no head in heads/
  expect_error(c, "SpecOptions::shipped_head");
  c.draft_path = tiny_head_path();
  expect_error(c, "SpecOptions::shipped_head");
  c = config(SpecMode::None);
  c.shipped_head = true;
  expect_error(c, "SpecOptions::shipped_head");
  EXPECT_THROW(spec_mode_from_name("fast"), Error);
  try {
    spec_mode_from_name("fast");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("SpecOptions::mode"), std::string::npos);
  }
}

namespace {
std::string expect_error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}
}  // namespace

// A head is refused by any target but the one it was trained for, with one line naming both.
TEST(DraftHead, LoadsForItsTargetAndRefusesOthers) {
  const Model& m = tiny_llama();
  auto head = Model::load_draft_head(tiny_head_path(), m);
  EXPECT_TRUE(head->config().draft_head);
  EXPECT_EQ(head->config().n_embd, m.config().n_embd);
  EXPECT_EQ((int64_t)head->weights().draft_vocab.size(), head->config().n_logits());
  EXPECT_TRUE(Model::is_draft_head(tiny_head_path()));
  EXPECT_FALSE(Model::is_draft_head(tiny_llama_path()));

  auto gpt2 = Model::load(tiny_gpt2_path());
  std::string e = expect_error_text([&] { Model::load_draft_head(tiny_head_path(), *gpt2); });
  EXPECT_NE(e.find("tiny_llama.head.gguf"), std::string::npos) << e;
  EXPECT_NE(e.find("tiny_gpt2.gguf"), std::string::npos) << e;
  EXPECT_NE(e.find("architecture differs"), std::string::npos) << e;

  // The same model with one weight byte changed: only the weights hash tells them apart.
  test::TempDir t;
  const std::string changed = t.path.string() + "/changed.gguf";
  std::filesystem::copy_file(tiny_llama_path(), changed);
  {
    GGUFFile f(changed);
    const size_t at = f.data_offset() + 100;
    std::FILE* fp = std::fopen(changed.c_str(), "r+b");
    ASSERT_TRUE(fp);
    std::fseek(fp, (long)at, SEEK_SET);
    const int c = std::fgetc(fp);
    std::fseek(fp, (long)at, SEEK_SET);
    std::fputc(c ^ 1, fp);
    std::fclose(fp);
  }
  auto other = Model::load(changed);
  EXPECT_NE(other->weights_hash(), m.weights_hash());
  e = expect_error_text([&] { Model::load_draft_head(tiny_head_path(), *other); });
  EXPECT_NE(e.find("weights hash"), std::string::npos) << e;

  // A head is not a model: `generate -m HEAD` is refused with what to do instead.
  e = expect_error_text([&] { Model::load(tiny_head_path()); });
  EXPECT_NE(e.find("draft head"), std::string::npos) << e;
  // A model is not a head.
  e = expect_error_text([&] { Model::load_draft_head(tiny_llama_path(), m); });
  EXPECT_NE(e.find("not a rooflm draft head"), std::string::npos) << e;
}

// Damaged head files get the loader's checks: every truncation is refused cleanly.
TEST(DraftHead, TruncatedFilesAreRefused) {
  const Model& m = tiny_llama();
  std::ifstream in(tiny_head_path(), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  test::TempDir t;
  const std::string p = t.path.string() + "/cut.head.gguf";
  for (size_t cut : {size_t(3), size_t(40), bytes.size() / 3, bytes.size() - 1}) {
    test::write_bytes(p, std::vector<uint8_t>(bytes.begin(), bytes.begin() + (ptrdiff_t)cut));
    EXPECT_THROW(Model::load_draft_head(p, m), Error) << "cut at " << cut;
  }
}

// The head session's features and the target's committed features line up with positions.
TEST(DraftHead, TargetSessionKeepsCommittedFeatures) {
  const Model& m = tiny_llama();
  ThreadPool pool(1);
  SessionOptions so;
  so.n_ctx = 64;
  so.keep_features = true;
  Session a(m, so, pool), b(m, so, pool);
  const auto prompt = m.tokenizer().encode("the cat sat on the mat", true, false);
  a.prefill(prompt);
  for (int32_t t : prompt) b.decode(t);  // one token at a time: the same features, bit for bit
  const int64_t d = m.config().n_embd;
  for (int64_t pos = 0; pos < (int64_t)prompt.size(); pos++)
    for (int64_t i = 0; i < d; i++) ASSERT_EQ(a.committed_feature(pos)[i], b.committed_feature(pos)[i]) << pos;
  EXPECT_THROW(a.committed_feature((int64_t)prompt.size()), Error);
  // A tree forward whose accepted path skips a sibling: each committed feature is the one of
  // its own node (the same as decoding the path), not of the batch row at its position.
  const int64_t n0 = a.n_past();
  ASSERT_GE(prompt.size(), 5u);
  const int32_t toks[4] = {prompt[1], prompt[2], prompt[3], prompt[4]};
  const int32_t parents[4] = {-1, 0, 0, 2};  // root; two children; a grandchild under the second
  a.forward(toks, parents, 4, true);
  a.commit({0, 2, 3});
  for (int32_t t : {toks[0], toks[2], toks[3]}) b.decode(t);
  for (int64_t pos = n0; pos < n0 + 3; pos++)
    for (int64_t i = 0; i < d; i++) ASSERT_EQ(a.committed_feature(pos)[i], b.committed_feature(pos)[i]) << pos;
  SessionOptions plain;
  plain.n_ctx = 64;
  Session c(m, plain, pool);
  c.prefill(prompt);
  EXPECT_THROW(c.committed_feature(0), Error);
}
