// Speculative-decoding configuration as the CLI sees it (--spec, -d, --draft-len,
// --tree-size, --tree-width, --tree-shape, --ngram-corpus), its validation (errors name the
// flag), and the drafter it builds.
//
//   mode     with -d DRAFT                          without a draft model
//   chain    draft model chain of K                 n-gram chain (prompt lookup + Katz) of K
//   tree     draft-model tree (dynamic or sparse)   Katz trigram tree (dynamic or sparse)
//   staged   draft model sped up by n-grams: its    prompt lookup + Katz trigram tree
//            greedy chain + alternatives as a tree  (the n-gram stage alone)
// -d may also name a draft head (docs/DRAFT_HEADS.md), which drafts from the target's own
// features: a chain (chain), a dynamic tree (tree), or a dynamic tree with prompt-lookup
// branches (staged). --head drafts with the model's shipped head (heads/, or the folders in
// ROOFLM_HEADS; an error when none matches). Not the default: on the machine measured so far
// the n-gram stage is faster (BENCHMARKS.md, session 12).
// K = --draft-len (depth), N = --tree-size (candidates, root excluded), W = --tree-width.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/threadpool.h"
#include "decode/sampler.h"
#include "decode/spec/budget.h"
#include "decode/spec/drafter.h"
#include "decode/spec/speculative.h"
#include "model/model.h"

namespace rooflm::spec {

enum class SpecMode { None, Chain, Tree, Staged };
SpecMode spec_mode_from_name(const std::string& name);  // Error names --spec
const char* spec_mode_name(SpecMode m);

struct SpecConfig {
  // Defaults from measurements with SmolLM2-135M Q4_1 on the 2-core host (see the README):
  // the adaptive budget (budget.h) decides per step how much of the drafted tree to verify,
  // so these are caps: 12 levels catch long verbatim repeats; 16 candidates is where the
  // gain flattens even if verification were free (offline replay of greedy outputs).
  static constexpr int kDefaultDraftLen = 12;
  static constexpr int kDefaultTreeSize = 16;
  static constexpr int kDefaultTreeWidth = 4;
  static constexpr int kInnerTreeSize = 12;  // staged: the draft model's own n-gram trees

  SpecMode mode = SpecMode::None;
  std::string draft_path;             // -d/--draft
  int draft_len = kDefaultDraftLen;   // --draft-len
  int tree_size = kDefaultTreeSize;   // --tree-size
  int tree_width = kDefaultTreeWidth; // --tree-width
  std::string tree_shape = "dynamic"; // --tree-shape
  std::string ngram_corpus;           // --ngram-corpus
  bool adaptive = true;               // --tree-adapt on|off: verify only the worthwhile prefix
  bool shipped_head = false;          // --head: draft with the model's shipped head

  // Checks the flags alone (ranges, combinations).
  void validate() const;
  // Candidate limits of one tree in this mode.
  SpecLimits limits() const;
};

struct SpecSetup {
  std::unique_ptr<Model> draft_model;  // when -d was given
  std::unique_ptr<Drafter> drafter;
  std::unique_ptr<TreeBudget> budget;  // when adaptive (limits.budget points to it)
  SpecLimits limits;
  int max_logits = 1;                  // what the target Session needs
  bool target_features = false;        // the target Session must keep features (a draft head)
  std::string head_path;               // the draft head in use, if any
};

// The shipped draft head made for `target` (same architecture, sizes and weights hash), or ""
// when none: looked up in the folders of ROOFLM_HEADS (':'-separated), then heads/ beside the
// executable's folder and the current folder.
std::string find_shipped_head(const Model& target);

// Validates against the target (context, vocabulary of the draft model, corpus file) and
// builds the drafter. n_ctx: the target Session's context.
SpecSetup make_spec(const SpecConfig& cfg, const Model& target, const SamplerParams& sampling, int64_t n_ctx,
                    ThreadPool& pool);

}  // namespace rooflm::spec
