#include "decode/speculative/speculative.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "core/error.h"
#include "decode/speculative/budget.h"
#include "roofline/profiler.h"

namespace rooflm::spec {

namespace {
using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }
}  // namespace

GenerateResult decode_speculative(Session& target, Sampler& sampler, Drafter& drafter, const SpecLimits& lim,
                                  const float* logits, int64_t n_predict, const TokenCallback& on_token,
                                  SpecStats* stats) {
  SpecStats local;
  SpecStats& st = stats ? *stats : local;
  GenerateResult r;
  r.n_prompt = target.n_past();
  if (lim.size < 0 || lim.depth < 0) fail("speculative decoding: negative tree limits");
  if (lim.size + 1 > target.max_logits())
    fail("speculative decoding: trees of ", lim.size + 1, " nodes need a target session with max_logits >= ", lim.size + 1,
         " (has ", target.max_logits(), ")");
  if (drafter.needs_target_features() && !target.keeps_features())
    fail("speculative decoding: drafter ", drafter.name(), " reads the target's features, but the target session keeps none");
  drafter.bind_target(target);
  const Tokenizer& tok = target.model().tokenizer();
  Verifier verifier(sampler, target.n_vocab());
  DraftTree tree;
  std::vector<int32_t> context, commit;

  const auto t_start = Clock::now();
  r.stop_reason = "length";
  int64_t produced = 0;
  auto finish = [&] {
    r.decode_ms = ms_between(t_start, Clock::now());
    st.draft = drafter.stats();
    return r;
  };
  if (n_predict <= 0) return finish();
  prof::set_phase("ar");
  int32_t pending = sampler.sample(logits, target.tokens());
  if (tok.is_eog(pending)) {
    r.stop_reason = "eos";
    return finish();
  }
  auto emit = [&](int32_t t) {
    r.tokens.push_back(t);
    produced++;
    if (on_token) on_token(t);
  };
  emit(pending);

  for (;;) {
    if (target.n_past() + 1 > target.n_ctx()) {
      r.stop_reason = "context";
      break;
    }
    // Candidates may not outrun the token budget or the cache.
    const int64_t remaining = n_predict - produced;
    const int64_t room = target.n_ctx() - target.n_past() - 1;
    const int64_t cap = std::min<int64_t>({room, (int64_t)target.max_batch() - 1, (int64_t)target.max_logits() - 1});
    DraftLimits dl;
    dl.depth = (int)std::max<int64_t>(0, std::min<int64_t>({(int64_t)lim.depth, remaining, cap}));
    dl.size = (int)std::max<int64_t>(0, std::min<int64_t>((int64_t)lim.size, cap));
    tree.reset(pending);
    if (dl.depth > 0 && dl.size > 0 && (!lim.budget || lim.budget->should_draft())) {
      const auto t0 = Clock::now();
      prof::set_phase("draft");
      context = target.tokens();
      context.push_back(pending);
      drafter.propose(context, dl, tree);
      const double dms = ms_between(t0, Clock::now());
      st.draft_ms += dms;
      st.drafted_nodes += tree.size() - 1;
      if (tree.size() > dl.size + 1 || tree.max_depth() > dl.depth)
        fail("drafter ", drafter.name(), " proposed ", tree.size() - 1, " candidates ", tree.max_depth(),
             " deep; the limits were ", dl.size, " and ", dl.depth);
      if (lim.budget) {
        lim.budget->observe_draft(dms);
        tree.truncate(lim.budget->choose(tree));
      }
    }

    const auto t1 = Clock::now();
    const int n = tree.size();
    // Phase names are interned by the profiler (at most 64): exact up to 32 nodes, then
    // rounded up to a multiple of 16.
    prof::set_phase(n == 1 ? std::string("ar") : "tree:" + std::to_string(n <= 32 ? n : (n + 15) / 16 * 16));
    const float* out = target.forward(tree.tokens().data(), tree.parents().data(), n, true);
    if (lim.budget) lim.budget->observe_forward(n, ms_between(t1, Clock::now()));
    r.target_steps++;
    st.target_steps++;
    st.tree_nodes += n;
    const int depth = tree.max_depth();
    if ((int)st.offered.size() < depth) {
      st.offered.resize((size_t)depth, 0);
      st.accepted_at.resize((size_t)depth, 0);
    }
    for (int d = 0; d < depth; d++) st.offered[(size_t)d]++;

    if (remaining == 0) {  // the last token's own forward pass, as in plain decoding
      commit.assign(1, 0);
      target.commit(commit);
      st.verify_ms += ms_between(t1, Clock::now());
      break;
    }
    const VerifyResult v = verifier.verify(tree, out, target.tokens());
    if (lim.budget) lim.budget->observe_acceptance(tree, v.path);
    commit.assign(1, 0);
    bool stop = false;
    for (int32_t node : v.path) {
      const int32_t t = tree.token(node);
      if (tok.is_eog(t)) {
        r.stop_reason = "eos";
        stop = true;
        break;
      }
      commit.push_back(node);
      st.accepted_at[(size_t)tree.depth(node) - 1]++;
      st.accepted++;
      emit(t);
      if (produced == n_predict) {
        stop = true;
        break;
      }
    }
    target.commit(commit);
    st.verify_ms += ms_between(t1, Clock::now());
    {
      const auto t2 = Clock::now();
      drafter.on_accept(tree, std::vector<int32_t>(commit.begin() + 1, commit.end()));
      st.draft_ms += ms_between(t2, Clock::now());
    }
    if (stop) break;
    if (tok.is_eog(v.next)) {
      r.stop_reason = "eos";
      break;
    }
    pending = v.next;
    emit(pending);
  }
  return finish();
}

GenerateResult generate_speculative(Session& target, Sampler& sampler, Drafter& drafter, const SpecLimits& lim,
                                    const std::vector<int32_t>& prompt, int64_t n_predict,
                                    const TokenCallback& on_token, SpecStats* stats) {
  prof::set_phase("init");
  const auto t0 = Clock::now();
  const float* logits = target.prefill(prompt);
  const double prefill_ms = ms_between(t0, Clock::now());
  GenerateResult r = decode_speculative(target, sampler, drafter, lim, logits, n_predict, on_token, stats);
  r.n_prompt = (int64_t)prompt.size();
  r.prefill_ms = prefill_ms;
  return r;
}

}  // namespace rooflm::spec
