// Drafting without a model: a Katz back-off trigram model of the context (plus an optional
// corpus) and/or prompt lookup, shaped into a chain, a sparse tree or a dynamic tree.
//
// Prompt lookup searches the corpus documents too (the context is searched as well; the
// longest match wins). With both sources, a node's next-token distribution mixes them by the prompt-lookup
// match length m: P = conf(m) P_lookup + (1 - conf(m)) P_katz (conf = 0 without a match of
// at least min_match tokens), so long verbatim repeats dominate and the trigram model fills in.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "decode/speculative/drafter.h"
#include "decode/speculative/katz.h"
#include "decode/speculative/prompt_lookup.h"
#include "decode/speculative/tree_builder.h"
#include "tokenizer/tokenizer.h"

namespace rooflm::spec {

struct NgramOptions {
  bool katz = true;
  bool lookup = true;
  int lookup_min_match = 2;  // shorter matches are left to the trigram model
  int lookup_max_match = 16;
  TreeOptions tree;          // shape, depth, width, size (batch is forced to 1)
};

class NgramDrafter : public Drafter, private CandidateSource {
 public:
  // corpus: token sequences (documents) counted into the trigram model up front.
  NgramDrafter(int64_t n_vocab, const NgramOptions& opt, std::vector<std::vector<int32_t>> corpus = {});

  std::string name() const override;
  void propose(const std::vector<int32_t>& context, const DraftLimits& lim, DraftTree& tree) override;

  // Makes the models reflect `context` (cheap when it extends the last one).
  void sync(const std::vector<int32_t>& context);
  // Like propose(), for a tree whose root is extra.back(): extra are tokens after the synced
  // context (e.g. a draft model's own guesses) that are matched against but not counted.
  void propose_after(const std::vector<int32_t>& extra, const DraftLimits& lim, DraftTree& tree);
  // The next-token candidates after context + path (for tests and other drafters).
  void candidates(const std::vector<int32_t>& path, int width, std::vector<Candidate>& out);
  const NgramOptions& options() const { return opt_; }

 private:
  void expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
              std::vector<std::vector<Candidate>>& out) override;
  void rebuild();

  int64_t n_vocab_;
  NgramOptions opt_;
  std::vector<std::vector<int32_t>> corpus_;
  std::unique_ptr<KatzTrigram> katz_;
  PromptLookup lookup_;
  std::vector<int32_t> ctx_;
  std::vector<Candidate> a_, b_;
  std::vector<int32_t> path_, extra_;
  bool lookup_docs_ = false;
};

// Reads a text file and tokenizes it (no BOS) into documents: blocks of about 8k characters
// cut at blank lines (or line ends), each tokenized alone; n-grams do not cross blocks.
// Throws Error naming `option` when the file cannot be read or holds no tokens.
std::vector<std::vector<int32_t>> load_corpus(const std::string& path, const Tokenizer& tok, const std::string& option);

}  // namespace rooflm::spec
