// What one benchmark run (one prompt in one mode) leaves behind: the tokens, the timings,
// the speculative statistics and the profiler's sums. Statistics and charts are computed
// from these records alone, so they can be tested on hand-made ones.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "roofline/profiler.h"

namespace rooflm::bench {

struct RunRecord {
  size_t prompt_index = 0;       // position in the prompt list (pairs runs across modes)
  std::string prompt_id;
  std::string mode;              // "baseline", "chain", "tree", "staged"
  std::string drafter;           // the drafter's name ("" for plain decoding), e.g. "head:NAME/dynamic+lookup"
  int64_t n_prompt = 0;          // prompt tokens (after the chat template)
  std::vector<int32_t> tokens;   // generated ids
  std::string stop_reason;
  double prefill_ms = 0, decode_ms = 0;
  int64_t target_steps = 0;      // target forwards after prefill
  int64_t tree_nodes = 0;        // nodes those forwards ran (roots included)
  std::vector<int64_t> accepted_at, offered;  // per depth (speculative modes)
  double draft_ms = 0, verify_ms = 0;
  double peak_rss_mb = 0;        // process peak during this run
  std::vector<prof::Aggregate> profile;  // every kernel call of the run, by phase and op class

  // Generated tokens per second of decoding (as `rooflm generate` reports it); 0 when none.
  double decode_tok_s() const {
    return decode_ms > 0 && !tokens.empty() ? (double)tokens.size() / (decode_ms / 1000.0) : 0.0;
  }
};

}  // namespace rooflm::bench
