#include "bench/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace rooflm::bench {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(q, 0.0, 1.0) * (double)(v.size() - 1);
  const size_t lo = (size_t)std::floor(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - (double)lo) * (v[hi] - v[lo]);
}

double median(std::vector<double> v) { return quantile(std::move(v), 0.5); }

Spread spread_of(const std::vector<double>& v) {
  Spread s;
  s.n = v.size();
  if (v.empty()) return s;
  s.median = quantile(v, 0.5);
  s.q1 = quantile(v, 0.25);
  s.q3 = quantile(v, 0.75);
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

std::vector<double> acceptance_by_depth(const std::vector<int64_t>& accepted, const std::vector<int64_t>& offered) {
  std::vector<double> out(offered.size(), 0.0);
  for (size_t d = 0; d < offered.size(); d++)
    if (offered[d] > 0 && d < accepted.size()) out[d] = (double)accepted[d] / (double)offered[d];
  return out;
}

namespace {

void add_into(std::vector<int64_t>& sum, const std::vector<int64_t>& x) {
  if (sum.size() < x.size()) sum.resize(x.size(), 0);
  for (size_t i = 0; i < x.size(); i++) sum[i] += x[i];
}

}  // namespace

std::vector<ModeSummary> summarize(const std::vector<RunRecord>& runs, const std::vector<std::string>& modes,
                                   const std::string& baseline, bool greedy) {
  std::map<size_t, const RunRecord*> base;  // prompt index -> baseline run
  for (const auto& r : runs)
    if (!baseline.empty() && r.mode == baseline) base[r.prompt_index] = &r;

  std::vector<ModeSummary> out;
  for (const auto& mode : modes) {
    ModeSummary s;
    s.mode = mode;
    std::vector<double> tok_s, ratios;
    if (mode == baseline) s.greedy.note = "reference";
    else if (baseline.empty()) s.greedy.note = "no baseline";
    else if (!greedy) s.greedy.note = "sampling";
    else s.greedy.checked = true;
    for (const auto& r : runs) {
      if (r.mode != mode) continue;
      if (s.runs == 0) s.drafter = r.drafter;
      s.runs++;
      const double ts = r.decode_tok_s();
      if (ts > 0) tok_s.push_back(ts);
      s.tokens += (int64_t)r.tokens.size();
      s.target_steps += r.target_steps;
      s.tree_nodes += r.tree_nodes;
      add_into(s.accepted_at, r.accepted_at);
      add_into(s.offered, r.offered);
      s.peak_rss_mb = std::max(s.peak_rss_mb, r.peak_rss_mb);
      s.decode_s += r.decode_ms / 1000.0;
      s.prefill_s += r.prefill_ms / 1000.0;
      s.draft_s += r.draft_ms / 1000.0;
      s.verify_s += r.verify_ms / 1000.0;
      auto b = base.find(r.prompt_index);
      if (b == base.end()) continue;
      const double bts = b->second->decode_tok_s();
      if (ts > 0 && bts > 0) ratios.push_back(ts / bts);
      if (s.greedy.checked) {
        s.greedy.compared++;
        if (r.tokens == b->second->tokens) s.greedy.equal++;
        else s.greedy.mismatched.push_back(r.prompt_id);
      }
    }
    s.tok_s = spread_of(tok_s);
    s.speedup = spread_of(ratios);
    s.tokens_per_step = s.target_steps ? (double)s.tokens / (double)s.target_steps : 0.0;
    s.nodes_per_step = s.target_steps ? (double)s.tree_nodes / (double)s.target_steps : 0.0;
    s.acceptance = acceptance_by_depth(s.accepted_at, s.offered);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rooflm::bench
