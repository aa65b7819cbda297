// Benchmark prompt files: JSON Lines, one prompt object per line, in any of these shapes:
//
//   MT-Bench   {"question_id": 81, "category": "writing", "turns": ["first turn", "second"]}
//              -> the first turn; id "mt_bench/81"
//   HumanEval  {"task_id": "HumanEval/0", "prompt": "def f(..."}  -> id "HumanEval/0"
//   plain      {"prompt": "text"} (optionally "id": string or integer) -> id "<file>:<line>"
//
// Blank lines (whitespace only) are skipped; other keys are ignored. Anything else is an
// error naming the file, the line and what was expected. The parser never crashes on
// arbitrary bytes (a fuzz target feeds it some): every failure is a rooflm::Error.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace rooflm {

struct BenchPrompt {
  std::string id;    // for tables and JSON
  std::string text;  // the prompt (before any chat template)
};

// `source_name` names the input in errors ("prompts.jsonl:3: ..."). Throws rooflm::Error,
// also when the text holds no prompt at all.
std::vector<BenchPrompt> parse_prompt_file(std::string_view text, const std::string& source_name);

// Reads and parses a file; errors name `what` (e.g. "prompt file") and the path.
std::vector<BenchPrompt> load_prompt_file(const std::string& path, const std::string& what = "prompt file");

}  // namespace rooflm
