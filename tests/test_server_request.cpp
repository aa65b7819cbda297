// rooflm serve's request parser (src/server/request.h): pure functions, no server, no model.
#include <gtest/gtest.h>

#include "server/request.h"

using namespace rooflm::server;

namespace {

CompletionRequest ok(const std::string& body, bool chat = true) {
  auto r = parse_completion(body, chat);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << body << " -> " << e->message;
  return std::holds_alternative<CompletionRequest>(r) ? std::get<CompletionRequest>(r) : CompletionRequest{};
}

ApiError err(const std::string& body, bool chat = true) {
  auto r = parse_completion(body, chat);
  if (!std::holds_alternative<ApiError>(r)) {
    ADD_FAILURE() << body << " was accepted";
    return {};
  }
  return std::get<ApiError>(r);
}

const std::string kMsg = R"("messages": [{"role": "user", "content": "Hi"}])";

}  // namespace

TEST(ServerRequest, ChatFieldsAreRead) {
  const CompletionRequest r = ok(R"({"model": "m", )" + kMsg +
                                 R"(, "max_tokens": 7, "temperature": 0, "top_p": 0.5, "top_k": 3, "min_p": 0.1,
                                    "seed": 9, "stop": ["a", "bc"], "stream": true, "stream_options": {"include_usage": true}})");
  EXPECT_TRUE(r.chat);
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, "user");
  EXPECT_EQ(r.messages[0].content, "Hi");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_EQ(r.sampling.temperature, 0.0f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.5f);
  EXPECT_EQ(r.sampling.top_k, 3);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_EQ(r.sampling.seed, 9u);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "bc"}));
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
}

TEST(ServerRequest, CompletionsAndTextParts) {
  const CompletionRequest c = ok(R"({"prompt": "Once", "stop": "x", "n": 1, "logprobs": null})", false);
  EXPECT_EQ(c.prompt, "Once");
  EXPECT_EQ(c.stop, std::vector<std::string>{"x"});
  EXPECT_FALSE(c.max_tokens.has_value());
  const CompletionRequest p = ok(R"({"messages": [{"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]})");
  EXPECT_EQ(p.messages[0].content, "ab");
}

TEST(ServerRequest, BadBodiesNameTheField) {
  EXPECT_EQ(err("{not json").param, "");
  EXPECT_NE(err("{not json").message.find("JSON"), std::string::npos);
  EXPECT_EQ(err("[1]").status, 400);
  EXPECT_EQ(err("{}").param, "messages");
  EXPECT_EQ(err(R"({"messages": []})").param, "messages");
  EXPECT_EQ(err(R"({"messages": [{"role": "robot", "content": "x"}]})").param, "messages[0].role");
  EXPECT_EQ(err(R"({"messages": [{"role": "user"}]})").param, "messages[0].content");
  EXPECT_EQ(err(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})").param, "messages[0].content[0]");
  EXPECT_EQ(err("{" + kMsg + R"(, "max_tokens": "5"})").param, "max_tokens");
  EXPECT_EQ(err("{" + kMsg + R"(, "max_tokens": -1})").param, "max_tokens");
  EXPECT_EQ(err("{" + kMsg + R"(, "max_tokens": 18446744073709551615})").param, "max_tokens");
  EXPECT_EQ(err("{" + kMsg + R"(, "temperature": "hot"})").param, "temperature");
  EXPECT_EQ(err("{" + kMsg + R"(, "temperature": 3})").param, "temperature");
  EXPECT_EQ(err("{" + kMsg + R"(, "top_p": 0})").param, "top_p");
  EXPECT_EQ(err("{" + kMsg + R"(, "top_k": 1.5})").param, "top_k");
  EXPECT_EQ(err("{" + kMsg + R"(, "min_p": 1})").param, "min_p");
  EXPECT_EQ(err("{" + kMsg + R"(, "seed": "s"})").param, "seed");
  EXPECT_EQ(err("{" + kMsg + R"(, "stop": 3})").param, "stop");
  EXPECT_EQ(err("{" + kMsg + R"(, "stop": [""]})").param, "stop");
  EXPECT_EQ(err("{" + kMsg + R"(, "stop": ["a","b","c","d","e"]})").param, "stop");
  EXPECT_EQ(err("{" + kMsg + R"(, "stream": 1})").param, "stream");
  EXPECT_EQ(err("{" + kMsg + R"(, "model": 5})").param, "model");
  EXPECT_EQ(err(R"({"prompt": 5})", false).param, "prompt");
  EXPECT_EQ(err(R"({"prompt": ""})", false).param, "prompt");
  EXPECT_EQ(err(R"({"prompt": ["a", "b"]})", false).param, "prompt");
  EXPECT_EQ(err("{" + kMsg + "}", false).param, "messages");
}

TEST(ServerRequest, UnsupportedParametersAreRefusedNotIgnored) {
  for (const char* extra : {R"("n": 2)", R"("tools": [{"type": "function"}])", R"("logprobs": true)",
                            R"("presence_penalty": 0.5)", R"("frequency_penalty": 1)", R"("logit_bias": {"1": 2})",
                            R"("response_format": {"type": "json_object"})", R"("response_format": {"type": 5})",
                            R"("whatever": 1)"}) {
    const ApiError e = err("{" + kMsg + ", " + extra + "}");
    EXPECT_EQ(e.status, 400) << extra;
    EXPECT_EQ(e.type, "invalid_request_error") << extra;
    EXPECT_NE(std::string(extra).find(e.param), std::string::npos) << extra << " -> " << e.param;
  }
  ok("{" + kMsg + R"(, "n": 1, "presence_penalty": 0, "tools": [], "user": "u", "response_format": {"type": "text"}})");
}

TEST(ServerRequest, ErrorJsonIsOpenAIShaped) {
  ApiError e;
  e.message = "bad \"x\"";
  e.param = "x";
  EXPECT_EQ(error_json(e),
            R"({"error":{"code":null,"message":"bad \"x\"","param":"x","type":"invalid_request_error"}})");
}

TEST(ServerRequest, TokenizeAndDetokenizeBodies) {
  auto t = parse_tokenize(R"({"content": "hi", "add_special": true})");
  ASSERT_TRUE(std::holds_alternative<TokenizeRequest>(t));
  EXPECT_EQ(std::get<TokenizeRequest>(t).content, "hi");
  EXPECT_EQ(std::get<ApiError>(parse_tokenize(R"({"content": 1})")).param, "content");
  auto d = parse_detokenize(R"({"tokens": [1, 2, 3]})", 10);
  ASSERT_TRUE(std::holds_alternative<std::vector<int32_t>>(d));
  EXPECT_EQ(std::get<std::vector<int32_t>>(d), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(std::get<ApiError>(parse_detokenize(R"({"tokens": [10]})", 10)).param, "tokens");
  EXPECT_EQ(std::get<ApiError>(parse_detokenize(R"({"tokens": [-1]})", 10)).param, "tokens");
  EXPECT_EQ(std::get<ApiError>(parse_detokenize(R"({"tokens": ["a"]})", 10)).param, "tokens");
}

TEST(ServerRequest, StopStringsAcrossPieces) {
  const std::vector<std::string> stops = {"END", "\n\n"};
  EXPECT_EQ(find_stop("abcEN", stops), std::string::npos);
  EXPECT_EQ(stop_prefix_len("abcEN", stops), 2u);  // "EN" may become "END": held back
  EXPECT_EQ(find_stop("abcEND", stops), 3u);
  EXPECT_EQ(find_stop("a\n\nbEND", stops), 1u);     // the earliest stop wins
  EXPECT_EQ(stop_prefix_len("abc\n", stops), 1u);
  EXPECT_EQ(stop_prefix_len("abc", stops), 0u);
  EXPECT_EQ(stop_prefix_len("", stops), 0u);
}

TEST(ServerRequest, SecretComparison) {
  EXPECT_TRUE(secret_equals("key", "key"));
  EXPECT_FALSE(secret_equals("kez", "key"));
  EXPECT_FALSE(secret_equals("ke", "key"));
  EXPECT_FALSE(secret_equals("keyy", "key"));
  EXPECT_FALSE(secret_equals("", "key"));
}
