#include "cli/flag_names.h"

#include <utility>

namespace rooflm::cli {

namespace {
// Option field -> the flag of `rooflm generate` / `rooflm bench` that sets it.
constexpr std::pair<const char*, const char*> kFlags[] = {
    {"SamplerOptions::temperature", "--temp"},
    {"SamplerOptions::top_k", "--top-k"},
    {"SamplerOptions::top_p", "--top-p"},
    {"SamplerOptions::min_p", "--min-p"},
    {"SamplerOptions::repeat_penalty", "--repeat-penalty"},
    {"SamplerOptions::repeat_last_n", "--repeat-last-n"},
    {"SpecOptions::mode", "--spec"},
    {"SpecOptions::draft_path", "-d/--draft"},
    {"SpecOptions::draft_len", "--draft-len"},
    {"SpecOptions::tree_size", "--tree-size"},
    {"SpecOptions::tree_width", "--tree-width"},
    {"SpecOptions::tree_shape", "--tree-shape"},
    {"SpecOptions::ngram_corpus", "--ngram-corpus"},
    {"SpecOptions::shipped_head", "--head"},
    {"SpecOptions::adaptive", "--tree-adapt"},
    {"GenerateOptions::n_predict", "-n"},
    {"GenerateOptions::n_ctx", "-c"},
    {"SessionOptions::n_ctx", "-c"},
    {"SessionOptions::kv_type", "--kv-type"},
    {"RooflineRequest::ref_points", "--ref-point"},
    {"RooflineRequest::model", "--model"},
    {"RooflineRequest::hw", "--hw"},
    {"RooflineRequest::labels", "--labels"},
    {"RooflineRequest::tree_kv", "--tree-kv"},
    {"RooflineRequest::attention", "--attention"},
    {"RooflineRequest::accept", "--accept"},
    {"RooflineRequest::phases", "--phases"},
    {"RooflineRequest::seq", "--seq"},
    {"RooflineRequest::batch", "--batch"},
    {"RooflineRequest::ops", "--ops"},
    {"RooflineRequest::kv", "--kv"},
    {"RooflineRequest::act", "--act"},
    {"RooflineRequest::weights", "--weights"},
    {"RooflineRequest::profile", "--profile"},
    {"RooflineRequest::compute", "--compute"},
    {"BenchPlan::modes", "--modes"},
    {"VerifyCurveOptions::nodes", "--verify-curve"},
};
}  // namespace

std::string with_flag_names(std::string message) {
  for (const auto& [field, flag] : kFlags) {
    const std::string f = field;
    for (size_t at = message.find(f); at != std::string::npos; at = message.find(f, at + std::string(flag).size()))
      message.replace(at, f.size(), flag);
  }
  return message;
}

}  // namespace rooflm::cli
