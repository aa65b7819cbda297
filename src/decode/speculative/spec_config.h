// Speculative-decoding configuration: the public SpecOptions (rooflm/options.h, which
// documents the modes), its validation (errors name the SpecOptions field; the CLI adds its
// flag names), and the drafter it builds.
//
// Which drafter each mode builds:
//   mode     with draft_path                        without a draft model
//   chain    draft model chain of K                 n-gram chain (prompt lookup + Katz) of K
//   tree     draft-model tree (dynamic or sparse)   Katz trigram tree (dynamic or sparse)
//   staged   draft model sped up by n-grams: its    prompt lookup + Katz trigram tree
//            greedy chain + alternatives as a tree  (the n-gram stage alone)
// draft_path may also name a draft head (docs/DRAFT_HEADS.md), which drafts from the target's
// own features: a chain (chain), a dynamic tree (tree), or a dynamic tree with prompt-lookup
// branches (staged). shipped_head drafts with the model's shipped head (heads/, or the folders
// in ROOFLM_HEADS; an error when none matches). Not the default: on the machine measured so far
// the n-gram stage is faster (BENCHMARKS.md).
// K = draft_len (depth), N = tree_size (candidates, root excluded), W = tree_width.
// The defaults are caps: the adaptive budget (budget.h) decides per step how much of the tree
// to verify; 12 levels catch long verbatim repeats, 16 candidates is where the gain flattens.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/threadpool.h"
#include "decode/sampler.h"
#include "decode/speculative/budget.h"
#include "decode/speculative/drafter.h"
#include "decode/speculative/speculative.h"
#include "model/model.h"
#include "rooflm/options.h"

namespace rooflm::spec {

using SpecMode = api::SpecMode;
using SpecConfig = api::SpecOptions;  // one definition for the API and the internals
SpecMode spec_mode_from_name(const std::string& name);  // Error names SpecOptions::mode
const char* spec_mode_name(SpecMode m);

// Candidate limits of one tree in cfg's mode.
SpecLimits spec_limits(const SpecConfig& cfg);

struct SpecSetup {
  std::unique_ptr<Model> draft_model;  // when draft_path (or shipped_head) was given
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
