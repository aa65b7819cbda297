// rooflm serve's request parser (src/server/request.h): arbitrary bytes as the body of each
// endpoint. The parser's contract is stricter than the readers': it never throws, every bad body
// is an ApiError whose JSON is valid.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "server/request.h"

using namespace rooflm;

namespace {
void check_error(const server::ApiError& e) {
  if (e.status < 400 || e.status > 599) fuzz::finding("an ApiError with status " + std::to_string(e.status));
  if (nlohmann::json::parse(server::error_json(e), nullptr, false).is_discarded()) fuzz::finding("error_json is not JSON");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    for (bool chat : {true, false}) {
      auto r = server::parse_completion(body, chat);
      if (auto* e = std::get_if<server::ApiError>(&r)) check_error(*e);
    }
    auto t = server::parse_tokenize(body);
    if (auto* e = std::get_if<server::ApiError>(&t)) check_error(*e);
    auto d = server::parse_detokenize(body, 49152);
    if (auto* e = std::get_if<server::ApiError>(&d)) check_error(*e);
    const std::vector<std::string> stops = {body.substr(0, 3).empty() ? "x" : body.substr(0, 3), "\n\n"};
    const size_t at = server::find_stop(body, stops);
    if (at != std::string::npos && at >= body.size()) fuzz::finding("find_stop past the end");
    if (server::stop_prefix_len(body, stops) > body.size()) fuzz::finding("stop_prefix_len past the end");
  } catch (const std::exception& e) {
    fuzz::finding(std::string("the request parser threw: ") + e.what());
  }
  return 0;
}
