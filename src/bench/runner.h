// Runs a benchmark: every prompt in every mode on one loaded model, modes alternated prompt
// by prompt (the starting mode rotates, so slow drifts of a shared machine and "first run
// after the previous prompt" effects hit every mode alike), after warm-up runs whose results
// are dropped. Each run starts from a fresh Session, drafter and sampler (decode/run.h), with
// the profiler capturing every kernel call and the peak RSS reset.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/prompts.h"
#include "bench/record.h"
#include "core/threadpool.h"
#include "decode/sampler.h"
#include "decode/speculative/spec_config.h"
#include "model/model.h"

namespace rooflm::bench {

struct BenchMode {
  std::string name;        // baseline | chain | tree | staged
  spec::SpecConfig spec;   // mode None for baseline
};

// "baseline,chain,tree,staged" (any subset, each once) -> modes built on `base` (draft model,
// tree limits). Errors name --modes, or -d when a draft model is given to no speculative mode.
std::vector<BenchMode> parse_modes(const std::string& list, const spec::SpecConfig& base);

// Order in which prompt `prompt_index` runs the modes: 0..n-1 rotated left by prompt_index.
std::vector<size_t> mode_order(size_t n_modes, size_t prompt_index);

struct PreparedPrompt {
  BenchPrompt prompt;
  std::string rendered;      // the text given to the tokenizer (the chat template's output, or the prompt)
  std::vector<int32_t> ids;  // encoded (through the chat template when asked)
  int64_t n_ctx = 0;         // context this prompt needs for n_predict new tokens
};

// Encodes every prompt and checks it fits the model with n_predict new tokens. Errors name
// the prompt's source and id.
std::vector<PreparedPrompt> prepare_prompts(const Model& model, const std::vector<BenchPrompt>& prompts, bool chat,
                                            int64_t n_predict, const std::string& source);

struct BenchPlan {
  std::vector<PreparedPrompt> prompts;
  std::vector<BenchMode> modes;
  int64_t n_predict = 128;
  SamplerParams sampling;
  int warmup = 1;               // rounds of the first prompt in every mode, results dropped
  int64_t warmup_tokens = 32;   // tokens per warm-up run (at most n_predict)
};

// Called after each run; `warmup` runs are not counted in `done` / `total`.
using ProgressFn = std::function<void(size_t done, size_t total, const RunRecord& run, bool warmup)>;

// Measured runs, in the order they ran.
std::vector<RunRecord> run_bench(const Model& model, ThreadPool& pool, const BenchPlan& plan,
                                 const ProgressFn& progress = nullptr);

}  // namespace rooflm::bench
