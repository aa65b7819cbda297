#include "decode/speculative/draft_session.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "decode/speculative/tree_builder.h"

namespace rooflm::spec {

void check_same_vocab(const Model& target, const Model& draft, const char* option) {
  const auto& a = target.tokenizer().spec().tokens;
  const auto& b = draft.tokenizer().spec().tokens;
  const std::string what = std::string(option) + " " + draft.path();
  if (a.size() != b.size())
    fail(what, ": the draft model's vocabulary has ", b.size(), " tokens but the target's has ", a.size(),
         "; speculative decoding needs a draft model with the target's tokenizer");
  for (size_t i = 0; i < a.size(); i++)
    if (a[i] != b[i])
      fail(what, ": the draft model's vocabulary differs from the target's at token ", i, " ('", b[i], "' vs '", a[i],
           "'); speculative decoding needs a draft model with the target's tokenizer");
  if (target.config().n_vocab != draft.config().n_vocab)
    fail(what, ": the draft model has ", draft.config().n_vocab, " logits per token but the target has ",
         target.config().n_vocab, "; speculative decoding needs the same vocabulary");
}

DraftSession::DraftSession(const Model& draft, const SessionOptions& opts, ThreadPool& pool)
    : model_(draft), session_(std::make_unique<Session>(draft, opts, pool)) {}

void DraftSession::rollback(const std::vector<int32_t>& context, int64_t keep) {
  const auto& have = session_->tokens();
  keep = std::min<int64_t>(keep, (int64_t)context.size());
  int64_t n = 0;
  const int64_t lim = std::min<int64_t>(keep, (int64_t)have.size());
  while (n < lim && have[(size_t)n] == context[(size_t)n]) n++;
  if (n < session_->n_past()) session_->truncate(n);
}

const float* DraftSession::catch_up(const std::vector<int32_t>& context) {
  const int64_t from = session_->n_past();
  if (from >= (int64_t)context.size()) fail("draft session: nothing to catch up (", from, " tokens committed)");
  const std::vector<int32_t> rest(context.begin() + from, context.end());
  forwards_ += ((int64_t)rest.size() + session_->max_batch() - 1) / session_->max_batch();
  return session_->prefill(rest);
}

const float* DraftSession::decode(int32_t token) {
  forwards_++;
  return session_->decode(token);
}

const float* DraftSession::forward(const int32_t* tokens, const int32_t* parents, int n, bool all_logits) {
  forwards_++;
  return session_->forward(tokens, parents, n, all_logits);
}

void partial_tree_batch(const DraftTree& tree, const std::vector<int32_t>& nodes, std::vector<int32_t>& tokens,
                        std::vector<int32_t>& parents, std::vector<int32_t>& row_of) {
  std::vector<char> need((size_t)tree.size(), 0);
  for (int32_t u : nodes)
    for (int j = u; j > 0 && !need[(size_t)j]; j = tree.parent(j)) need[(size_t)j] = 1;
  tokens.clear();
  parents.clear();
  row_of.assign((size_t)tree.size(), -1);
  for (int i = 1; i < tree.size(); i++) {
    if (!need[(size_t)i]) continue;
    const int p = tree.parent(i);
    row_of[(size_t)i] = (int32_t)tokens.size();
    tokens.push_back(tree.token(i));
    parents.push_back(p == 0 ? -1 : row_of[(size_t)p]);
  }
}

void top_softmax(const float* logits, int64_t n_vocab, int k, std::vector<Candidate>& out) {
  out.clear();
  if (k <= 0) return;
  float mx = logits[0];
  for (int64_t i = 1; i < n_vocab; i++) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n_vocab; i++) sum += std::exp((double)(logits[i] - mx));
  // Keep the k largest logits with a small insertion list (k is small).
  std::vector<std::pair<float, int32_t>> best;
  for (int64_t i = 0; i < n_vocab; i++) {
    const float l = logits[i];
    if ((int)best.size() == k && l <= best.back().first) continue;
    auto pos = std::upper_bound(best.begin(), best.end(), l, [](float v, const auto& e) { return v > e.first; });
    best.insert(pos, {l, (int32_t)i});
    if ((int)best.size() > k) best.pop_back();
  }
  for (auto& [l, t] : best) out.push_back({t, (float)(std::exp((double)(l - mx)) / sum)});
}

float softmax_at(const float* logits, int64_t n_vocab, int32_t token) {
  float mx = logits[0];
  for (int64_t i = 1; i < n_vocab; i++) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n_vocab; i++) sum += std::exp((double)(logits[i] - mx));
  return (float)(std::exp((double)(logits[token] - mx)) / sum);
}

}  // namespace rooflm::spec
