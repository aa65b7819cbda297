#include "server/request.h"

#include <nlohmann/json.hpp>
#include <random>

namespace rooflm::server {

using json = nlohmann::json;

namespace {

ApiError bad(const std::string& param, const std::string& message, int status = 400) {
  ApiError e;
  e.status = status;
  e.param = param;
  e.message = message;
  return e;
}

// Fields a client may send that rooflm ignores harmlessly (metadata), or honours at their neutral value.
bool neutral(const std::string& key, const json& v) {
  if (key == "user" || key == "metadata" || key == "store" || key == "service_tier") return true;
  if (v.is_null()) return true;
  if (key == "n") return v.is_number_integer() && v.get<int64_t>() == 1;
  if (key == "logprobs") return v.is_boolean() && !v.get<bool>();
  if (key == "echo") return v.is_boolean() && !v.get<bool>();
  if (key == "presence_penalty" || key == "frequency_penalty") return v.is_number() && v.get<double>() == 0.0;
  if (key == "best_of") return v.is_number_integer() && v.get<int64_t>() == 1;
  if (key == "parallel_tool_calls") return true;
  if (key == "tools" || key == "functions") return v.is_array() && v.empty();
  if (key == "tool_choice" || key == "function_call") return v.is_string() && v.get<std::string>() == "none";
  if (key == "response_format") return v.is_object() && v.contains("type") && v["type"] == "text";
  return false;
}

std::optional<ApiError> number(const json& body, const char* key, double lo, double hi, bool lo_open, double* out) {
  if (!body.contains(key) || body[key].is_null()) return std::nullopt;
  const json& v = body[key];
  if (!v.is_number()) return bad(key, std::string("'") + key + "' must be a number");
  const double d = v.get<double>();
  if (!(d >= lo && d <= hi) || (lo_open && d == lo))
    return bad(key, std::string("'") + key + "' must be in " + (lo_open ? "(" : "[") + json(lo).dump() + ", " +
                        json(hi).dump() + "], got " + v.dump());
  *out = d;
  return std::nullopt;
}

std::optional<ApiError> integer(const json& body, const char* key, int64_t lo, int64_t hi, int64_t* out) {
  if (!body.contains(key) || body[key].is_null()) return std::nullopt;
  const json& v = body[key];
  if (!v.is_number_integer()) return bad(key, std::string("'") + key + "' must be an integer");
  // Unsigned values above INT64_MAX read as negative through get<int64_t>: compare as unsigned first.
  if (v.is_number_unsigned() && v.get<uint64_t>() > (uint64_t)hi)
    return bad(key, std::string("'") + key + "' must be at most " + std::to_string(hi) + ", got " + v.dump());
  const int64_t i = v.get<int64_t>();
  if (i < lo || i > hi)
    return bad(key, std::string("'") + key + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                        "], got " + v.dump());
  *out = i;
  return std::nullopt;
}

// An OpenAI message content: a string, or a list of {"type": "text", "text": ...} parts.
std::optional<ApiError> message_content(const json& c, const std::string& param, std::string* out) {
  if (c.is_string()) {
    *out = c.get<std::string>();
    return std::nullopt;
  }
  if (!c.is_array()) return bad(param, "'" + param + "' must be a string or a list of text parts");
  out->clear();
  for (size_t i = 0; i < c.size(); i++) {
    const std::string p = param + "[" + std::to_string(i) + "]";
    if (!c[i].is_object() || c[i].value("type", json()) != "text" || !c[i].contains("text") || !c[i]["text"].is_string())
      return bad(p, "'" + p + "': only {\"type\": \"text\", \"text\": ...} parts are supported");
    *out += c[i]["text"].get<std::string>();
  }
  return std::nullopt;
}

std::optional<json> parse_object(const std::string& body, ApiError* err) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    *err = bad("", "the request body is not valid JSON");
    return std::nullopt;
  }
  if (!j.is_object()) {
    *err = bad("", "the request body must be a JSON object");
    return std::nullopt;
  }
  return j;
}

}  // namespace

std::string error_json(const ApiError& e) {
  json err = {{"message", e.message}, {"type", e.type}, {"param", nullptr}, {"code", nullptr}};
  if (!e.param.empty()) err["param"] = e.param;
  if (!e.code.empty()) err["code"] = e.code;
  return json{{"error", err}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::variant<CompletionRequest, ApiError> parse_completion(const std::string& body, bool chat) {
  ApiError err;
  const std::optional<json> parsed = parse_object(body, &err);
  if (!parsed) return err;
  const json& j = *parsed;
  CompletionRequest r;
  r.chat = chat;

  static const char* const kKnown[] = {"model", "messages", "prompt", "max_tokens", "max_completion_tokens",
                                       "temperature", "top_p", "top_k", "min_p", "seed", "stop", "stream",
                                       "stream_options", "repeat_penalty"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* k : kKnown) known = known || it.key() == k;
    if (known) continue;
    if (!neutral(it.key(), it.value()))
      return bad(it.key(), "'" + it.key() + "' is not supported by rooflm" +
                               (it.key() == "n" ? " (only n = 1)" : "") + "; remove it from the request");
  }
  if (j.contains("model") && !j["model"].is_null()) {
    if (!j["model"].is_string()) return bad("model", "'model' must be a string");
    r.model = j["model"].get<std::string>();
  }
  if (chat) {
    if (j.contains("prompt")) return bad("prompt", "'prompt' belongs to /v1/completions; chat takes 'messages'");
    if (!j.contains("messages") || !j["messages"].is_array() || j["messages"].empty())
      return bad("messages", "'messages' must be a non-empty list of messages");
    const json& ms = j["messages"];
    for (size_t i = 0; i < ms.size(); i++) {
      const std::string p = "messages[" + std::to_string(i) + "]";
      if (!ms[i].is_object()) return bad(p, "'" + p + "' must be an object with 'role' and 'content'");
      if (!ms[i].contains("role") || !ms[i]["role"].is_string()) return bad(p + ".role", "'" + p + ".role' must be a string");
      const std::string role = ms[i]["role"].get<std::string>();
      if (role != "system" && role != "user" && role != "assistant" && role != "developer")
        return bad(p + ".role", "'" + p + ".role' must be system, user or assistant, got '" + role + "'");
      if (!ms[i].contains("content")) return bad(p + ".content", "'" + p + ".content' is missing");
      for (auto f = ms[i].begin(); f != ms[i].end(); ++f)
        if (f.key() != "role" && f.key() != "content" && f.key() != "name" && !f.value().is_null())
          return bad(p + "." + f.key(), "'" + p + "." + f.key() + "' is not supported by rooflm");
      api::ChatMessage m;
      m.role = role == "developer" ? "system" : role;
      if (auto e = message_content(ms[i]["content"], p + ".content", &m.content)) return *e;
      r.messages.push_back(std::move(m));
    }
  } else {
    if (j.contains("messages")) return bad("messages", "'messages' belongs to /v1/chat/completions; completions take 'prompt'");
    if (!j.contains("prompt")) return bad("prompt", "'prompt' is missing");
    const json& p = j["prompt"];
    if (p.is_string()) {
      r.prompt = p.get<std::string>();
    } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
      r.prompt = p[0].get<std::string>();
    } else {
      return bad("prompt", "'prompt' must be a string (one prompt per request)");
    }
    if (r.prompt.empty()) return bad("prompt", "'prompt' is empty");
  }

  const char* max_key = j.contains("max_completion_tokens") && !j["max_completion_tokens"].is_null()
                            ? "max_completion_tokens" : "max_tokens";
  int64_t max_tokens = -1;
  if (auto e = integer(j, max_key, 0, INT32_MAX, &max_tokens)) return *e;
  if (max_tokens >= 0) r.max_tokens = max_tokens;

  double d = 0;
  d = 1.0;  // OpenAI's default temperature
  if (auto e = number(j, "temperature", 0.0, 2.0, false, &d)) return *e;
  r.sampling.temperature = (float)d;
  d = 1.0;
  if (auto e = number(j, "top_p", 0.0, 1.0, true, &d)) return *e;
  r.sampling.top_p = (float)d;
  d = 0.0;
  if (auto e = number(j, "min_p", 0.0, 1.0, false, &d)) return *e;
  if (d >= 1.0) return bad("min_p", "'min_p' must be in [0, 1), got " + j["min_p"].dump());
  r.sampling.min_p = (float)d;
  d = 1.0;
  if (auto e = number(j, "repeat_penalty", 0.0, 10.0, true, &d)) return *e;
  r.sampling.repeat_penalty = (float)d;
  int64_t i = 0;
  if (auto e = integer(j, "top_k", 0, INT32_MAX, &i)) return *e;
  r.sampling.top_k = (int)i;
  i = -1;
  if (j.contains("seed") && !j["seed"].is_null() && j["seed"].is_number_unsigned()) {
    r.sampling.seed = j["seed"].get<uint64_t>();
  } else if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_integer()) return bad("seed", "'seed' must be an integer");
    r.sampling.seed = (uint64_t)j["seed"].get<int64_t>();
  } else {
    r.sampling.seed = std::random_device{}();  // no seed: a fresh draw per request, as OpenAI
  }

  if (j.contains("stop") && !j["stop"].is_null()) {
    const json& s = j["stop"];
    if (s.is_string()) {
      r.stop.push_back(s.get<std::string>());
    } else if (s.is_array()) {
      for (const json& x : s) {
        if (!x.is_string()) return bad("stop", "'stop' must be a string or a list of strings");
        r.stop.push_back(x.get<std::string>());
      }
    } else {
      return bad("stop", "'stop' must be a string or a list of strings");
    }
    if (r.stop.size() > 4) return bad("stop", "'stop' takes at most 4 strings");
    for (const std::string& x : r.stop)
      if (x.empty()) return bad("stop", "'stop' strings must not be empty");
  }
  if (j.contains("stream") && !j["stream"].is_null()) {
    if (!j["stream"].is_boolean()) return bad("stream", "'stream' must be a boolean");
    r.stream = j["stream"].get<bool>();
  }
  if (j.contains("stream_options") && !j["stream_options"].is_null()) {
    const json& so = j["stream_options"];
    if (!so.is_object()) return bad("stream_options", "'stream_options' must be an object");
    if (so.contains("include_usage")) {
      if (!so["include_usage"].is_boolean()) return bad("stream_options.include_usage", "'stream_options.include_usage' must be a boolean");
      r.include_usage = so["include_usage"].get<bool>();
    }
  }
  return r;
}

std::variant<TokenizeRequest, ApiError> parse_tokenize(const std::string& body) {
  ApiError err;
  const std::optional<json> j = parse_object(body, &err);
  if (!j) return err;
  TokenizeRequest r;
  if (!j->contains("content") || !(*j)["content"].is_string()) return bad("content", "'content' must be a string");
  r.content = (*j)["content"].get<std::string>();
  if (j->contains("add_special")) {
    if (!(*j)["add_special"].is_boolean()) return bad("add_special", "'add_special' must be a boolean");
    r.add_special = (*j)["add_special"].get<bool>();
  }
  return r;
}

std::variant<std::vector<int32_t>, ApiError> parse_detokenize(const std::string& body, int64_t n_vocab) {
  ApiError err;
  const std::optional<json> j = parse_object(body, &err);
  if (!j) return err;
  if (!j->contains("tokens") || !(*j)["tokens"].is_array()) return bad("tokens", "'tokens' must be a list of token ids");
  std::vector<int32_t> ids;
  for (const json& t : (*j)["tokens"]) {
    if (!t.is_number_integer() || (t.is_number_unsigned() && t.get<uint64_t>() >= (uint64_t)n_vocab) ||
        t.get<int64_t>() < 0 || t.get<int64_t>() >= n_vocab)
      return bad("tokens", "'tokens' must hold ids in [0, " + std::to_string(n_vocab) + "), got " + t.dump());
    ids.push_back((int32_t)t.get<int64_t>());
  }
  return ids;
}

size_t find_stop(const std::string& text, const std::vector<std::string>& stops) {
  size_t best = std::string::npos;
  for (const std::string& s : stops) best = std::min(best, text.find(s));
  return best;
}

size_t stop_prefix_len(const std::string& text, const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const std::string& s : stops)
    for (size_t n = std::min(s.size() - 1, text.size()); n > keep; n--)
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
  return keep;
}

bool secret_equals(const std::string& presented, const std::string& expected) {
  // Time depends on the lengths only, never on where the bytes differ.
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  const size_t n = expected.size();
  for (size_t i = 0; i < n; i++) diff |= (unsigned char)(expected[i] ^ (i < presented.size() ? presented[i] : 0));
  return diff == 0;
}

}  // namespace rooflm::server
