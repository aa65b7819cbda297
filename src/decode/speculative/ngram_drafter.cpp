#include "decode/speculative/ngram_drafter.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace rooflm::spec {

NgramDrafter::NgramDrafter(int64_t n_vocab, const NgramOptions& opt, std::vector<std::vector<int32_t>> corpus)
    : n_vocab_(n_vocab), opt_(opt), corpus_(std::move(corpus)), lookup_(opt.lookup_min_match, opt.lookup_max_match) {
  if (!opt_.katz && !opt_.lookup) fail("n-gram drafter: enable the trigram model, prompt lookup, or both");
  opt_.tree.batch = 1;
  rebuild();
}

std::string NgramDrafter::name() const {
  std::string s = opt_.katz && opt_.lookup ? "ngram(lookup+katz3)" : opt_.katz ? "ngram(katz3)" : "ngram(lookup)";
  return s + "/" + tree_shape_name(opt_.tree.shape);
}

void NgramDrafter::rebuild() {
  katz_ = std::make_unique<KatzTrigram>(n_vocab_);
  for (const auto& doc : corpus_) katz_->add_sequence(doc);
  ctx_.clear();
  if (opt_.lookup && !lookup_docs_) {
    lookup_.add_documents(corpus_);
    lookup_docs_ = true;
  }
}

void NgramDrafter::sync(const std::vector<int32_t>& context) {
  const bool extends = context.size() >= ctx_.size() && std::equal(ctx_.begin(), ctx_.end(), context.begin());
  if (!extends) rebuild();
  if (opt_.katz)
    for (size_t i = ctx_.size(); i < context.size(); i++) katz_->push(context[i]);
  ctx_ = context;
  if (opt_.lookup) lookup_.sync(context);
}

void NgramDrafter::candidates(const std::vector<int32_t>& path, int width, std::vector<Candidate>& out) {
  out.clear();
  const int64_t nc = (int64_t)ctx_.size(), np = (int64_t)path.size();
  auto back = [&](int64_t t) -> int32_t {
    if (t < np) return path[(size_t)(np - 1 - t)];
    t -= np;
    return t < nc ? ctx_[(size_t)(nc - 1 - t)] : -1;
  };
  float conf = 0;
  if (opt_.lookup) {
    const int m = lookup_.top(path, width, a_);
    if (m > 0) conf = PromptLookup::confidence(m);
    if (!opt_.katz) {
      out = a_;
      return;
    }
  }
  katz_->top(back(1), back(0), width, b_);
  if (conf <= 0) {
    out = b_;
    return;
  }
  // Mixture: conf * P_lookup (already scaled by conf) + (1 - conf) * P_katz.
  out = a_;
  for (const Candidate& c : b_) {
    auto it = std::find_if(out.begin(), out.end(), [&](const Candidate& x) { return x.token == c.token; });
    if (it == out.end()) out.push_back({c.token, (1 - conf) * c.prob});
    else it->prob += (1 - conf) * c.prob;
  }
  std::stable_sort(out.begin(), out.end(), [](const Candidate& x, const Candidate& y) { return x.prob > y.prob; });
  if ((int)out.size() > width) out.resize((size_t)width);
}

void NgramDrafter::expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
                          std::vector<std::vector<Candidate>>& out) {
  out.resize(nodes.size());
  for (size_t k = 0; k < nodes.size(); k++) {
    path_ = extra_;
    for (int32_t j : tree.path_to(nodes[k])) path_.push_back(tree.token(j));
    candidates(path_, width, out[k]);
  }
}

void NgramDrafter::propose(const std::vector<int32_t>& context, const DraftLimits& lim, DraftTree& tree) {
  sync(context);
  propose_after({}, lim, tree);
}

void NgramDrafter::propose_after(const std::vector<int32_t>& extra, const DraftLimits& lim, DraftTree& tree) {
  extra_ = extra;
  TreeOptions t = opt_.tree;
  t.depth = std::min(t.depth, lim.depth);
  t.size = std::min(t.size, lim.size);
  build_tree(*this, t, tree);
}

std::vector<std::vector<int32_t>> load_corpus(const std::string& path, const Tokenizer& tok, const std::string& option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(option, ": cannot open '", path, "'");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(option, ": cannot read '", path, "'");
  const std::string text = ss.str();
  std::vector<std::vector<int32_t>> docs;
  constexpr size_t kBlock = 8192;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + kBlock);
    if (end < text.size()) {
      size_t cut = text.rfind("\n\n", end);
      if (cut == std::string::npos || cut <= start) cut = text.rfind('\n', end);
      if (cut != std::string::npos && cut > start) end = cut + 1;
    }
    std::vector<int32_t> ids = tok.encode(std::string_view(text).substr(start, end - start), false, false);
    if (!ids.empty()) docs.push_back(std::move(ids));
    start = end;
  }
  if (docs.empty()) fail(option, ": '", path, "' holds no text");
  return docs;
}

}  // namespace rooflm::spec
