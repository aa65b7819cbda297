// rooflm serve: the OpenAI-style request bodies, parsed and validated by pure functions (no
// server, no model): a JSON body becomes a request, or an OpenAI-style error that names the
// field. The server (server.cpp) and the tests (tests/test_server_request.cpp) share them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "rooflm/rooflm.h"

namespace rooflm::server {

// An OpenAI error: {"error": {"message", "type", "param", "code"}} with an HTTP status.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the field at fault; "" = null
  std::string code;   // "" = null
};
std::string error_json(const ApiError& e);

struct CompletionRequest {
  bool chat = false;                       // /v1/chat/completions (messages) or /v1/completions (prompt)
  std::string model;                       // "" = not given
  std::vector<api::ChatMessage> messages;  // chat
  std::string prompt;                      // completions
  std::optional<int64_t> max_tokens;       // none = until the context is full or end of turn
  api::SamplerOptions sampling;            // OpenAI's defaults: temperature 1, top_p 1; top_k, min_p off
  std::vector<std::string> stop;           // up to 4, none empty
  bool stream = false;
  bool include_usage = false;              // stream_options.include_usage
};

// Parses the body of POST /v1/chat/completions (chat) or /v1/completions. Parameters rooflm
// cannot honour (n > 1, tools, logprobs, ...) are errors, never silently ignored.
std::variant<CompletionRequest, ApiError> parse_completion(const std::string& body, bool chat);

// POST /tokenize {"content": TEXT, "add_special": bool} and /detokenize {"tokens": [ids]}.
struct TokenizeRequest {
  std::string content;
  bool add_special = false;
};
std::variant<TokenizeRequest, ApiError> parse_tokenize(const std::string& body);
std::variant<std::vector<int32_t>, ApiError> parse_detokenize(const std::string& body, int64_t n_vocab);

// The earliest position in `text` where one of `stops` begins, or npos; and how many bytes at the
// end of `text` could still grow into a stop (held back while streaming).
size_t find_stop(const std::string& text, const std::vector<std::string>& stops);
size_t stop_prefix_len(const std::string& text, const std::vector<std::string>& stops);

// Constant-time comparison of a presented secret with the expected one.
bool secret_equals(const std::string& presented, const std::string& expected);

}  // namespace rooflm::server
