#include "decode/speculative/spec_config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "io/gguf.h"

#include "core/error.h"
#include "decode/speculative/draft_session.h"
#include "decode/speculative/head_drafter.h"
#include "decode/speculative/model_drafter.h"
#include "decode/speculative/ngram_drafter.h"
#include "decode/speculative/staged_drafter.h"

namespace rooflm::spec {

namespace {
constexpr int kMaxTreeSize = 511;  // the target session's batch holds the tree and its root
constexpr int kInnerTreeSize = 12;  // staged: the draft model's own n-gram trees
}

SpecMode spec_mode_from_name(const std::string& name) {
  if (name == "none") return SpecMode::None;
  if (name == "chain") return SpecMode::Chain;
  if (name == "tree") return SpecMode::Tree;
  if (name == "staged") return SpecMode::Staged;
  fail("SpecOptions::mode: expected none, chain, tree or staged, got '", name, "'");
}

const char* spec_mode_name(SpecMode m) {
  switch (m) {
    case SpecMode::None: return "none";
    case SpecMode::Chain: return "chain";
    case SpecMode::Tree: return "tree";
    case SpecMode::Staged: return "staged";
  }
  return "?";
}

SpecLimits spec_limits(const SpecConfig& cfg) {
  SpecLimits l;
  l.depth = cfg.draft_len;
  l.size = cfg.mode == SpecMode::Chain ? cfg.draft_len : cfg.tree_size;
  return l;
}

std::string find_shipped_head(const Model& target) {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("ROOFLM_HEADS")) {
    std::string list = env;
    for (size_t a = 0; a <= list.size();) {
      size_t b = list.find(':', a);
      if (b == std::string::npos) b = list.size();
      if (b > a) dirs.emplace_back(list.substr(a, b - a));
      a = b + 1;
    }
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "heads");
  dirs.emplace_back("heads");
  const ModelConfig& c = target.config();
  for (const auto& dir : dirs) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".gguf") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      try {
        GGUFFile f(p.string());
        const std::string k = "rooflm-head.target.";
        if (f.get_string("general.architecture", "") != "rooflm-head" || f.get_string(k + "architecture", "") != c.arch ||
            f.get_int(k + "embedding_length", -1) != c.n_embd || f.get_int(k + "vocab_size", -1) != c.n_vocab ||
            f.get_int(k + "block_count", -1) != c.n_layer)
          continue;
        if (f.get_string(k + "weights_hash", "") == target.weights_hash()) return p.string();
      } catch (const Error&) {
        continue;  // a damaged file in a heads folder is not this model's head
      }
    }
  }
  return "";
}

SpecSetup make_spec(const SpecConfig& cfg, const Model& target, const SamplerParams& sampling, int64_t n_ctx,
                    ThreadPool& pool) {
  cfg.validate();
  SpecSetup s;
  if (cfg.mode == SpecMode::None) return s;
  s.limits = spec_limits(cfg);
  if ((int64_t)s.limits.size + 1 > n_ctx)
    fail(cfg.mode == SpecMode::Chain ? "SpecOptions::draft_len " : "SpecOptions::tree_size ", s.limits.size, ": a tree of ",
         s.limits.size + 1, " nodes (with its root) does not fit the context of ", n_ctx, " tokens");
  s.max_logits = s.limits.size + 1;
  if (cfg.adaptive) {
    s.budget = std::make_unique<TreeBudget>(s.limits.size + 1);
    s.limits.budget = s.budget.get();
  }
  const int64_t V = target.config().n_vocab;
  const TreeShape shape = cfg.mode == SpecMode::Chain ? TreeShape::Chain : tree_shape_from_name(cfg.tree_shape);

  std::vector<std::vector<int32_t>> corpus;
  if (!cfg.ngram_corpus.empty()) corpus = load_corpus(cfg.ngram_corpus, target.tokenizer(), "SpecOptions::ngram_corpus");

  std::string head = !cfg.draft_path.empty() && Model::is_draft_head(cfg.draft_path) ? cfg.draft_path : "";
  if (cfg.shipped_head) {
    head = find_shipped_head(target);
    if (head.empty())
      fail("SpecOptions::shipped_head: no draft head made for ", target.path(),
           " in heads/ or ROOFLM_HEADS (scripts/train_head.py makes one)");
  }
  if (!head.empty()) {
    s.draft_model = Model::load_draft_head(head, target);
    HeadDrafterOptions o;
    o.tree = {shape, cfg.draft_len, cfg.mode == SpecMode::Chain ? 1 : cfg.tree_width, s.limits.size, 1};
    o.lookup = cfg.mode == SpecMode::Staged;
    s.drafter = std::make_unique<HeadDrafter>(*s.draft_model, o, std::move(corpus), n_ctx, pool);
    s.target_features = true;
    s.head_path = head;
    return s;
  }
  if (!cfg.draft_path.empty()) {
    s.draft_model = Model::load(cfg.draft_path);
    check_same_vocab(target, *s.draft_model, "SpecOptions::draft_path");
    const int64_t draft_ctx =
        std::min<int64_t>(s.draft_model->config().n_ctx_train, n_ctx + cfg.draft_len + cfg.tree_size + 2);
    if (cfg.mode == SpecMode::Staged) {
      StagedOptions o;
      o.tree = {TreeShape::Dynamic, cfg.draft_len, cfg.tree_width, cfg.tree_size, 1};
      o.inner.tree = {TreeShape::Dynamic, cfg.draft_len, cfg.tree_width, kInnerTreeSize, 1};
      o.sampling = sampling;
      s.drafter = std::make_unique<StagedDrafter>(*s.draft_model, o, std::move(corpus), draft_ctx, pool);
    } else {
      ModelDrafterOptions o;
      o.tree = {shape, cfg.draft_len, cfg.mode == SpecMode::Chain ? 1 : cfg.tree_width, s.limits.size, 1};
      o.sampling = sampling;
      s.drafter = std::make_unique<ModelDrafter>(*s.draft_model, o, draft_ctx, pool);
    }
    return s;
  }
  NgramOptions o;
  o.katz = true;
  o.lookup = cfg.mode != SpecMode::Tree;
  o.tree = {shape, cfg.draft_len, cfg.mode == SpecMode::Chain ? 1 : cfg.tree_width, s.limits.size, 1};
  s.drafter = std::make_unique<NgramDrafter>(V, o, std::move(corpus));
  return s;
}

}  // namespace rooflm::spec

namespace rooflm {

void api::SpecOptions::validate() const {
  using spec::kMaxTreeSize;
  if (draft_len < 1) fail("SpecOptions::draft_len: expected at least 1 token, got ", draft_len);
  if (draft_len > kMaxTreeSize) fail("SpecOptions::draft_len: expected at most ", kMaxTreeSize, ", got ", draft_len);
  if (tree_size < 1) fail("SpecOptions::tree_size: expected at least 1 candidate, got ", tree_size);
  if (tree_size > kMaxTreeSize)
    fail("SpecOptions::tree_size: expected at most ", kMaxTreeSize, " candidates, got ", tree_size);
  if (tree_width < 1) fail("SpecOptions::tree_width: expected at least 1, got ", tree_width);
  if (tree_width > 64) fail("SpecOptions::tree_width: expected at most 64, got ", tree_width);
  if (tree_shape != "dynamic" && tree_shape != "sparse")
    fail("SpecOptions::tree_shape: expected dynamic or sparse, got '", tree_shape, "'");
  if (shipped_head && !draft_path.empty()) fail("SpecOptions::shipped_head and SpecOptions::draft_path: choose one drafter");
  if (mode == spec::SpecMode::None) {
    if (shipped_head) fail("SpecOptions::shipped_head: a draft head needs SpecOptions::mode chain, tree or staged");
    if (!draft_path.empty()) fail("SpecOptions::draft_path: a draft model needs SpecOptions::mode chain, tree or staged");
    if (!ngram_corpus.empty()) fail("SpecOptions::ngram_corpus: needs SpecOptions::mode chain, tree or staged");
  }
  if (mode == spec::SpecMode::Chain && !draft_path.empty() && !ngram_corpus.empty())
    fail("SpecOptions::ngram_corpus: SpecOptions::mode chain with a draft model (SpecOptions::draft_path) uses no n-gram drafter");
  if (mode == spec::SpecMode::Tree && !draft_path.empty() && !ngram_corpus.empty())
    fail("SpecOptions::ngram_corpus: SpecOptions::mode tree with a draft model (SpecOptions::draft_path) uses no n-gram drafter");
}

}  // namespace rooflm
