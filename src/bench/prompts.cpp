#include "bench/prompts.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "roofline/util.h"

namespace rooflm {

namespace {

using nlohmann::json;

// Nesting limit checked before parsing, so no input can make any JSON code recurse deeply
// (prompt objects need depth 2: an object holding the "turns" array).
constexpr int kMaxDepth = 16;

bool blank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') return false;
  return true;
}

// Deepest [ / { nesting outside strings.
int nesting_depth(std::string_view line) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return deepest;
}

// Parser messages quote the input; keep error lines printable whatever the bytes were.
std::string printable(std::string s) {
  for (char& c : s)
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) c = '?';
  return s;
}

const char* type_name(const json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  return "a number";
}

// "81" for integers, the text for strings; Error (via `where`) for anything else.
std::string id_value(const json& v, const std::string& where, const char* key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  fail(where, ": \"", key, "\" is ", type_name(v), ", expected a string or an integer");
}

BenchPrompt parse_line(std::string_view line, const std::string& where, const std::string& fallback_id) {
  constexpr const char* kExpected = "expected a JSON object with \"prompt\" (a string) or \"turns\" (an array of strings)";
  if (nesting_depth(line) > kMaxDepth) fail(where, ": JSON nested deeper than ", kMaxDepth, " levels; ", kExpected);
  json v;
  try {
    v = json::parse(line.begin(), line.end());
  } catch (const json::exception& e) {
    std::string msg = e.what();
    if (size_t p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);  // drop "[json.exception...]"
    fail(where, ": not valid JSON (", printable(msg), "); ", kExpected);
  }
  if (!v.is_object()) fail(where, ": got ", type_name(v), "; ", kExpected);
  const bool has_prompt = v.contains("prompt"), has_turns = v.contains("turns");
  if (has_prompt && has_turns) fail(where, ": has both \"prompt\" and \"turns\"; expected one of them");
  BenchPrompt p;
  if (has_turns) {
    const json& turns = v["turns"];
    if (!turns.is_array() || turns.empty() || !turns[0].is_string())
      fail(where, ": \"turns\" is ", turns.is_array() ? (turns.empty() ? "an empty array" : "an array not starting with a string")
                                                      : type_name(turns),
           ", expected an array of strings (the first turn is the prompt)");
    p.text = turns[0].get<std::string>();
  } else if (has_prompt) {
    const json& prompt = v["prompt"];
    if (!prompt.is_string()) fail(where, ": \"prompt\" is ", type_name(prompt), ", expected a string");
    p.text = prompt.get<std::string>();
  } else {
    fail(where, ": no \"prompt\" or \"turns\" key; ", kExpected);
  }
  if (p.text.empty()) fail(where, ": the prompt is an empty string");

  if (v.contains("task_id")) p.id = id_value(v["task_id"], where, "task_id");
  else if (v.contains("question_id")) p.id = "mt_bench/" + id_value(v["question_id"], where, "question_id");
  else if (v.contains("id")) p.id = id_value(v["id"], where, "id");
  if (p.id.empty()) p.id = fallback_id;
  return p;
}

}  // namespace

std::vector<BenchPrompt> parse_prompt_file(std::string_view text, const std::string& source_name) {
  const std::string base = std::filesystem::path(source_name).filename().string();
  std::vector<BenchPrompt> out;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    line_no++;
    if (blank(line)) continue;
    if (line.back() == '\r') line.remove_suffix(1);  // CRLF files
    const std::string n = std::to_string(line_no);
    out.push_back(parse_line(line, source_name + ":" + n, base + ":" + n));
  }
  if (out.empty()) fail(source_name, ": no prompts (expected one JSON object per line)");
  return out;
}

std::vector<BenchPrompt> load_prompt_file(const std::string& path, const std::string& what) {
  const std::string text = roofline::read_file(path, what);
  try {
    return parse_prompt_file(text, path);
  } catch (const Error& e) {
    fail(what, ": ", e.what());  // "prompt file: file.jsonl:3: ..."
  }
}

}  // namespace rooflm
