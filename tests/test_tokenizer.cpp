// Tokenizer tests: ids equal to Hugging Face on the fixture corpus (tests/fixtures/tokenizer_*.json,
// made by scripts/make_tokenizer_fixture.py), decode round trips, chat templates, invalid UTF-8,
// bad metadata, speed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/pretokenize.h"  // internal: the pre-tokenizer regexes are tested directly
#include "tokenizer/tokenizer.h"

namespace {

using rooflm::ChatMessage;
using rooflm::Tokenizer;
using rooflm::TokenizerSpec;
using json = nlohmann::json;
namespace fs = std::filesystem;

std::string source_dir() {
  if (const char* e = std::getenv("ROOFLM_SOURCE_DIR"); e && *e) return e;
#ifdef ROOFLM_SOURCE_DIR
  return ROOFLM_SOURCE_DIR;
#else
  return ".";
#endif
}

json load_json(const std::string& rel) {
  std::ifstream in(source_dir() + "/" + rel);
  if (!in) throw std::runtime_error("cannot open " + rel);
  return json::parse(in);
}

std::string ids_str(const std::vector<int32_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

std::vector<ChatMessage> messages(const json& j) {
  std::vector<ChatMessage> m;
  for (const auto& e : j) m.push_back({e["role"].get<std::string>(), e["content"].get<std::string>()});
  return m;
}

// One tokenizer per fixture, built once (the Gemma vocabulary has 262k tokens).
struct Loaded {
  json fx;
  std::unique_ptr<Tokenizer> tok;
  std::string skip;  // why it could not be built
};

Loaded& fixture(const std::string& name) {
  static std::map<std::string, Loaded> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  Loaded& l = cache[name];
  l.fx = load_json("tests/fixtures/tokenizer_" + name + ".json");
  TokenizerSpec spec;
  if (l.fx.contains("model_file")) {
    std::string path = source_dir() + "/" + l.fx["model_file"].get<std::string>();
    if (!fs::exists(path)) {
      l.skip = path + " is not present (models/ is not in git; fetch it to run this test)";
      return l;
    }
    rooflm::GGUFFile f(path);
    spec = rooflm::tokenizer_spec_from_gguf(f);
  } else {
    spec = rooflm::tokenizer_spec_from_hf_dir(source_dir() + "/" + l.fx["hf_dir"].get<std::string>());
  }
  if (l.fx.contains("chat_template")) spec.chat_template = l.fx["chat_template"].get<std::string>();
  l.tok = std::make_unique<Tokenizer>(std::move(spec));
  return l;
}

class TokenizerCorpus : public ::testing::TestWithParam<std::string> {
 protected:
  Loaded* get() {
    Loaded& l = fixture(GetParam());
    if (!l.tok) {
      // SmolLM2 is the model CI must have; the others are optional.
      if (GetParam() == "smollm2") ADD_FAILURE() << l.skip;
      return nullptr;
    }
    return &l;
  }
};

TEST_P(TokenizerCorpus, VocabularyAndSpecialIds) {
  Loaded* l = get();
  if (!l) GTEST_SKIP() << fixture(GetParam()).skip;
  EXPECT_EQ(l->tok->n_vocab(), l->fx["n_vocab"].get<int>());
  EXPECT_EQ(l->tok->bos(), l->fx["bos_id"].get<int>());
  EXPECT_EQ(l->tok->eos(), l->fx["eos_id"].get<int>());
  EXPECT_EQ(l->tok->spec().add_bos, l->fx["add_bos"].get<bool>());
  EXPECT_TRUE(l->tok->is_eog(l->tok->eos()));
}

TEST_P(TokenizerCorpus, IdsEqualHuggingFace) {
  Loaded* l = get();
  if (!l) GTEST_SKIP() << fixture(GetParam()).skip;
  int n = 0;
  for (const auto& c : l->fx["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    auto got = l->tok->encode(text, false, true);
    EXPECT_EQ(got, want) << "text: " << json(text).dump() << "\n got  " << ids_str(got) << "\n want " << ids_str(want);
    const auto want_ns = c.contains("ids_no_special") ? c["ids_no_special"].get<std::vector<int32_t>>() : want;
    auto got_ns = l->tok->encode(text, false, false);
    EXPECT_EQ(got_ns, want_ns) << "parse_special=false, text: " << json(text).dump();
    ++n;
  }
  EXPECT_GT(n, 50);
  for (const auto& c : l->fx["with_bos"]) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(l->tok->encode(text, true, true), c["ids"].get<std::vector<int32_t>>()) << json(text).dump();
  }
}

TEST_P(TokenizerCorpus, DecodeRoundTrip) {
  Loaded* l = get();
  if (!l) GTEST_SKIP() << fixture(GetParam()).skip;
  int round_trips = 0;
  for (const auto& c : l->fx["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(l->tok->decode(ids), c["decoded"].get<std::string>()) << json(text).dump();
    if (c["decoded"].get<std::string>() != text) continue;  // HF loses it too (a byte with no token)
    ++round_trips;
    EXPECT_EQ(l->tok->decode(l->tok->encode(text, false, true)), text) << json(text).dump();
    EXPECT_EQ(l->tok->decode(l->tok->encode(text, false, false)), text) << json(text).dump();
    std::string pieces;
    for (int32_t id : ids) pieces += l->tok->token_piece(id);
    if (!l->tok->spec().add_space_prefix) {
      EXPECT_EQ(pieces, text);
    }
  }
  EXPECT_GT(round_trips, 150);
}

TEST_P(TokenizerCorpus, ChatTemplateEqualsTransformers) {
  Loaded* l = get();
  if (!l) GTEST_SKIP() << fixture(GetParam()).skip;
  if (l->fx["chat"].empty()) GTEST_SKIP() << "no chat template for " << GetParam();
  ASSERT_TRUE(l->tok->has_chat_template());
  for (const auto& c : l->fx["chat"]) {
    auto msgs = messages(c["messages"]);
    std::string text = l->tok->apply_chat_template(msgs, c["add_generation_prompt"].get<bool>());
    EXPECT_EQ(text, c["text"].get<std::string>());
    EXPECT_EQ(l->tok->encode(text, false, true), c["ids"].get<std::vector<int32_t>>()) << json(text).dump();
  }
}

TEST_P(TokenizerCorpus, TenKilobytePromptTakesMilliseconds) {
  Loaded* l = get();
  if (!l) GTEST_SKIP() << fixture(GetParam()).skip;
  // ~10 KB of varied text: fresh words so the piece cache helps little.
  std::string text;
  std::mt19937 rng(7);
  const char* words[] = {"the", "tokenizer", "roofline", "Über", "东京", "42", "  ", "\n", "it's", "emoji😀", "x=y+1;"};
  while (text.size() < 10240) {
    text += words[rng() % 11];
    text += std::to_string(rng() % 100000);
    text += rng() % 3 ? " " : ", ";
  }
  Tokenizer fresh(l->tok->spec());  // empty cache
  auto t0 = std::chrono::steady_clock::now();
  auto ids = fresh.encode(text, true, true);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ perf ] %s: encoded %zu bytes into %zu tokens in %.2f ms\n", GetParam().c_str(), text.size(), ids.size(), ms);
  EXPECT_EQ(fresh.decode(ids).size() >= text.size(), true);
  EXPECT_LT(ms, 1000.0) << "10 KB prompt should take milliseconds (generous bound for debug/sanitizer builds)";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TokenizerCorpus, ::testing::Values("smollm2", "gemma3", "tiny_gpt2"),
                         [](const auto& info) { return info.param; });

// ---------------------------------------------------------------------------------------------
// Hugging Face directories

TEST(TokenizerHFDir, VocabJsonAndMergesTxtGiveTheSameIds) {
  fs::path src = fs::path(source_dir()) / "tests/fixtures/tiny_gpt2_tokenizer";
  fs::path tmp = fs::temp_directory_path() / ("rooflm_tok_pair_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  fs::copy_file(src / "vocab.json", tmp / "vocab.json", fs::copy_options::overwrite_existing);
  fs::copy_file(src / "merges.txt", tmp / "merges.txt", fs::copy_options::overwrite_existing);
  Tokenizer pair(rooflm::tokenizer_spec_from_hf_dir(tmp.string()));
  fs::remove_all(tmp);
  json fx = load_json("tests/fixtures/tokenizer_tiny_gpt2.json");
  EXPECT_EQ(pair.n_vocab(), fx["n_vocab"].get<int>());
  EXPECT_EQ(pair.eos(), fx["eos_id"].get<int>());
  for (const auto& c : fx["cases"])
    EXPECT_EQ(pair.encode(c["text"].get<std::string>(), false, true), c["ids"].get<std::vector<int32_t>>())
        << json(c["text"]).dump();
}

TEST(TokenizerHFDir, MissingDirectoryOrFilesIsAnError) {
  EXPECT_THROW(rooflm::tokenizer_spec_from_hf_dir("/nonexistent/rooflm"), rooflm::Error);
  fs::path tmp = fs::temp_directory_path() / ("rooflm_tok_empty_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  try {
    rooflm::tokenizer_spec_from_hf_dir(tmp.string());
    ADD_FAILURE() << "expected an Error";
  } catch (const rooflm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << e.what();
  }
  std::ofstream(tmp / "tokenizer.json") << "{ not json";
  EXPECT_THROW(rooflm::tokenizer_spec_from_hf_dir(tmp.string()), rooflm::Error);
  fs::remove_all(tmp);
}

// ---------------------------------------------------------------------------------------------
// Chat templates: published templates rendered by transformers' apply_chat_template.

TokenizerSpec byte_spec(std::vector<std::string> extra_special) {
  // 256 byte tokens (GPT-2 alphabet) + special tokens, no merges.
  TokenizerSpec s;
  s.model = "gpt2";
  s.pre = "gpt2";
  int extra = 256;
  for (int b = 0; b < 256; ++b) {
    int cp = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174) ? b : extra++;
    std::string t;
    if (cp < 0x80) t += (char)cp;
    else t += (char)(0xC0 | (cp >> 6)), t += (char)(0x80 | (cp & 0x3F));
    s.tokens.push_back(t);
    s.token_types.push_back(rooflm::kTokenNormal);
  }
  for (auto& t : extra_special) {
    s.tokens.push_back(t);
    s.token_types.push_back(rooflm::kTokenControl);
  }
  return s;
}

TEST(TokenizerChat, PublishedTemplatesRenderLikeTransformers) {
  json fx = load_json("tests/fixtures/tokenizer_chat_templates.json");
  int checked = 0;
  for (const auto& t : fx["templates"]) {
    auto spec = byte_spec({t["bos_token"].get<std::string>(), t["eos_token"].get<std::string>()});
    spec.bos_id = 256;
    spec.eos_id = 257;
    spec.chat_template = t["template"].get<std::string>();
    Tokenizer tok(spec);
    EXPECT_EQ(tok.chat_format(), t["format"].get<std::string>()) << t["name"];
    for (const auto& r : t["renders"]) {
      auto msgs = messages(r["messages"]);
      bool gen = r["add_generation_prompt"].get<bool>();
      if (r["text"].is_null()) {
        EXPECT_THROW(tok.apply_chat_template(msgs, gen), rooflm::Error) << t["name"];
      } else {
        EXPECT_EQ(tok.apply_chat_template(msgs, gen), r["text"].get<std::string>()) << t["name"] << " " << r["messages"].dump();
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 25);
}

TEST(TokenizerChat, UnknownOrMissingTemplateIsAClearError) {
  auto spec = byte_spec({"<s>", "</s>"});
  spec.chat_template = "{% for m in messages %}### {{ m.role }}: {{ m.content }}\n{% endfor %}";
  Tokenizer tok(spec);
  EXPECT_TRUE(tok.has_chat_template());
  EXPECT_EQ(tok.chat_format(), "");
  try {
    tok.apply_chat_template({{"user", "hi"}}, true);
    ADD_FAILURE() << "expected an Error";
  } catch (const rooflm::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("chatml"), std::string::npos) << msg;
    EXPECT_NE(msg.find("gemma"), std::string::npos) << msg;
    EXPECT_NE(msg.find("llama3"), std::string::npos) << msg;
  }
  spec.chat_template.clear();
  Tokenizer none(spec);
  EXPECT_FALSE(none.has_chat_template());
  EXPECT_THROW(none.apply_chat_template({{"user", "hi"}}, true), rooflm::Error);
  spec.chat_template = "gemma";  // a format name picks the format
  spec.bos_id = 256;
  Tokenizer named(spec);
  EXPECT_EQ(named.apply_chat_template({{"user", " hi "}}, true), "<s><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n");
}

TEST(TokenizerChat, SmolLM2DefaultSystemPromptComesFromTheTemplate) {
  Loaded& l = fixture("smollm2");
  if (!l.tok) FAIL() << l.skip;
  EXPECT_EQ(l.tok->chat_format(), "chatml");
  std::string out = l.tok->apply_chat_template({{"user", "Hi"}}, true);
  EXPECT_EQ(out,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_TRUE(l.tok->is_eog(l.tok->token_id("<|im_end|>")));
  EXPECT_TRUE(l.tok->is_eog(l.tok->token_id("<|endoftext|>")));
  EXPECT_FALSE(l.tok->is_eog(l.tok->token_id("<|im_start|>")));
}

TEST(TokenizerChat, GemmaEndOfTurnAndBos) {
  Loaded& l = fixture("gemma3");
  if (!l.tok) GTEST_SKIP() << l.skip;
  EXPECT_TRUE(l.tok->is_eog(l.tok->token_id("<end_of_turn>")));
  EXPECT_TRUE(l.tok->is_eog(l.tok->token_id("<eos>")));
  EXPECT_FALSE(l.tok->is_eog(l.tok->token_id("<start_of_turn>")));
  EXPECT_TRUE(l.tok->is_special(l.tok->token_id("<start_of_turn>")));
  EXPECT_EQ(l.tok->chat_format(), "gemma");  // the fixture supplies Gemma 3's template (the GGUF has none)
  auto ids = l.tok->encode(l.tok->apply_chat_template({{"user", "Hi"}}, true), false, true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], l.tok->bos());  // the template writes <bos>; encode must not add another
}

// ---------------------------------------------------------------------------------------------
// Invalid UTF-8 (rule in tokenizer.h)

TEST(TokenizerInvalidUtf8, ByteLevelKeepsTheRawBytes) {
  Loaded& l = fixture("tiny_gpt2");
  ASSERT_TRUE(l.tok);
  const Tokenizer& tok = *l.tok;
  // Lone continuation byte, truncated sequence, overlong, surrogate, above U+10FFFF, 0xFF.
  const std::string bad[] = {"abc\x80xyz", "caf\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF\xFE hello"};
  for (const auto& s : bad) {
    auto ids = tok.encode(s, false, true);
    EXPECT_EQ(tok.decode(ids), s);
  }
  // The invalid byte is a piece of its own: the text around it tokenizes as if split there.
  auto ids = tok.encode("hello\xFFworld", false, true);
  auto a = tok.encode("hello", false, true), b = tok.encode("world", false, true);
  std::vector<int32_t> want = a;
  want.push_back(tok.token_id("\xC3\xBF"));  // byte 0xFF spelled U+00FF in the GPT-2 alphabet
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(ids, want);
  // Random bytes always round-trip.
  std::mt19937 rng(1);
  for (int it = 0; it < 200; ++it) {
    std::string s;
    for (int k = rng() % 40; k > 0; --k) s += (char)(rng() % 256);
    EXPECT_EQ(tok.decode(tok.encode(s, false, true)), s);
  }
}

TokenizerSpec tiny_spm_spec() {
  // <unk> <s> </s> <0x00>..<0xFF> then pieces; scores: longer pieces higher.
  TokenizerSpec s;
  s.model = "llama";
  s.pre = "default";
  s.tokens = {"<unk>", "<s>", "</s>"};
  s.token_types = {rooflm::kTokenUnknown, rooflm::kTokenControl, rooflm::kTokenControl};
  s.scores = {0, 0, 0};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    s.tokens.push_back(name);
    s.token_types.push_back(rooflm::kTokenByte);
    s.scores.push_back(0);
  }
  // Highest score first; a merge's priority is the score of the token it makes.
  const char* pieces[] = {"ll", "he", "llo", "hello", "\xE2\x96\x81hello", "or", "ld", "wor", "world",
                          "\xE2\x96\x81world", "\xE2\x96\x81", "h", "e", "l", "o", "w", "r", "d"};
  float score = -1;
  for (const char* p : pieces) {
    s.tokens.push_back(p);
    s.token_types.push_back(rooflm::kTokenNormal);
    s.scores.push_back(score);
    score -= 1;
  }
  s.bos_id = 1;
  s.eos_id = 2;
  s.unk_id = 0;
  s.add_bos = true;
  s.add_space_prefix = true;
  return s;
}

TEST(TokenizerSpm, SpacePrefixByteFallbackAndInvalidBytes) {
  Tokenizer tok(tiny_spm_spec());
  auto id = [&](const char* t) { return tok.token_id(t); };
  EXPECT_EQ(tok.encode("hello world", true, true), (std::vector<int32_t>{1, id("\xE2\x96\x81hello"), id("\xE2\x96\x81world")}));
  EXPECT_EQ(tok.decode(tok.encode("hello world", false, true)), "hello world");
  // 'z' is not a token: byte fallback.
  EXPECT_EQ(tok.encode("z", false, true), (std::vector<int32_t>{id("\xE2\x96\x81"), id("<0x7A>")}));
  // Invalid UTF-8 -> its byte token, never merged.
  auto ids = tok.encode("he\xFFllo", false, true);
  EXPECT_EQ(ids, (std::vector<int32_t>{id("\xE2\x96\x81"), id("he"), id("<0xFF>"), id("llo")}));
  EXPECT_EQ(tok.decode(ids), "he\xFFllo");
  // Special tokens: only with parse_special; the prefix goes to the text at offset 0 only.
  EXPECT_EQ(tok.encode("<s>hello", false, true), (std::vector<int32_t>{1, id("hello")}));
  EXPECT_NE(tok.encode("<s>hello", false, false)[0], 1);
  EXPECT_EQ(tok.token_piece(id("\xE2\x96\x81world")), " world");
  EXPECT_EQ(tok.token_piece(id("<0x41>")), "A");
  // Random bytes: never throws, every id valid, and the bytes come back (the prefix space is dropped by decode).
  std::mt19937 rng(3);
  for (int it = 0; it < 300; ++it) {
    std::string s = "x";
    for (int k = rng() % 30; k > 0; --k) s += (char)(rng() % 256);
    auto v = tok.encode(s, true, true);
    for (int32_t t : v) ASSERT_TRUE(t >= 0 && t < tok.n_vocab());
    std::string d = tok.decode(std::vector<int32_t>(v.begin() + 1, v.end()));
    EXPECT_EQ(d, s);
  }
}

// ---------------------------------------------------------------------------------------------
// Bad specs and bad GGUF metadata -> rooflm::Error naming the field/key.

void expect_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected an Error mentioning '" << needle << "'";
  } catch (const rooflm::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

TEST(TokenizerErrors, BadSpecsNameTheField) {
  auto good = byte_spec({"<|endoftext|>", "he"});
  good.merges = {"h e"};
  EXPECT_NO_THROW(Tokenizer{good});
  {
    auto s = good;
    s.tokens.clear();
    s.token_types.clear();
    expect_error([&] { Tokenizer t(s); }, "tokenizer.ggml.tokens");
  }
  {
    auto s = good;
    s.model = "bert";
    expect_error([&] { Tokenizer t(s); }, "tokenizer.ggml.model");
  }
  {
    auto s = good;
    s.pre = "no-such-pre";
    expect_error([&] { Tokenizer t(s); }, "tokenizer.ggml.pre");
  }
  {
    auto s = good;
    s.merges = {"h e", "q\xC4\xA0zz x"};
    expect_error([&] { Tokenizer t(s); }, "tokenizer.ggml.merges[1]");
  }
  {
    auto s = good;
    s.merges = {"he"};
    expect_error([&] { Tokenizer t(s); }, "separated by a space");
  }
  {
    auto s = good;
    s.merges = {"h l"};  // "hl" is not a token
    expect_error([&] { Tokenizer t(s); }, "merged token 'hl'");
  }
  {
    auto s = good;
    s.bos_id = 100000;
    expect_error([&] { Tokenizer t(s); }, "tokenizer.ggml.bos_token_id");
  }
  {
    auto s = good;
    s.scores = {1.0f};
    expect_error([&] { Tokenizer t(s); }, "tokenizer.ggml.scores");
  }
  {
    auto s = good;
    s.token_types[3] = 9;
    expect_error([&] { Tokenizer t(s); }, "tokenizer.ggml.token_type[3]");
  }
}

// Minimal GGUF writer (metadata only, no tensors) for bad-metadata tests.
struct GGUFWriter {
  std::string kv;
  uint64_t n = 0;
  template <typename T>
  void raw(T v) { kv.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(const std::string& s) { raw<uint64_t>(s.size()), kv += s; }
  void key(const std::string& k, uint32_t type) { str(k), raw<uint32_t>(type), ++n; }
  void add_string(const std::string& k, const std::string& v) { key(k, 8), str(v); }
  void add_u32(const std::string& k, uint32_t v) { key(k, 4), raw(v); }
  void add_strings(const std::string& k, const std::vector<std::string>& v) {
    key(k, 9), raw<uint32_t>(8), raw<uint64_t>(v.size());
    for (auto& s : v) str(s);
  }
  void add_i32s(const std::string& k, const std::vector<int32_t>& v) {
    key(k, 9), raw<uint32_t>(5), raw<uint64_t>(v.size());
    for (auto x : v) raw(x);
  }
  std::string write(const std::string& name) {
    std::string f = "GGUF";
    uint32_t version = 3;
    uint64_t n_tensors = 0;
    f.append(reinterpret_cast<const char*>(&version), 4);
    f.append(reinterpret_cast<const char*>(&n_tensors), 8);
    f.append(reinterpret_cast<const char*>(&n), 8);
    f += kv;
    while (f.size() % 32) f += '\0';
    std::string path = (fs::temp_directory_path() / ("rooflm_tok_" + name + "_" + std::to_string(::getpid()) + ".gguf")).string();
    std::ofstream(path, std::ios::binary) << f;
    return path;
  }
};

std::vector<std::string> byte_tokens() { return byte_spec({}).tokens; }

void expect_gguf_error(GGUFWriter& w, const std::string& name, const std::string& needle) {
  std::string path = w.write(name);
  expect_error(
      [&] {
        rooflm::GGUFFile f(path);
        Tokenizer t(rooflm::tokenizer_spec_from_gguf(f));
      },
      needle);
  fs::remove(path);
}

TEST(TokenizerErrors, BadGGUFMetadataNamesTheKey) {
  {
    GGUFWriter w;
    w.add_string("general.architecture", "llama");
    w.add_string("tokenizer.ggml.model", "gpt2");
    expect_gguf_error(w, "notokens", "tokenizer.ggml.tokens");
  }
  {
    GGUFWriter w;
    w.add_string("tokenizer.ggml.model", "wordpiece");
    w.add_strings("tokenizer.ggml.tokens", byte_tokens());
    expect_gguf_error(w, "badmodel", "tokenizer.ggml.model");
  }
  {
    GGUFWriter w;
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_string("tokenizer.ggml.pre", "klingon");
    w.add_strings("tokenizer.ggml.tokens", byte_tokens());
    w.add_strings("tokenizer.ggml.merges", {});
    expect_gguf_error(w, "badpre", "tokenizer.ggml.pre");
  }
  {
    GGUFWriter w;
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_strings("tokenizer.ggml.tokens", byte_tokens());
    w.add_strings("tokenizer.ggml.merges", {"a b", "nope x"});
    expect_gguf_error(w, "badmerge", "tokenizer.ggml.merges");
  }
  {
    GGUFWriter w;
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_strings("tokenizer.ggml.tokens", byte_tokens());
    w.add_strings("tokenizer.ggml.merges", {});
    w.add_u32("tokenizer.ggml.eos_token_id", 5000);
    expect_gguf_error(w, "badeos", "tokenizer.ggml.eos_token_id");
  }
  {
    GGUFWriter w;
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_strings("tokenizer.ggml.tokens", byte_tokens());
    w.add_strings("tokenizer.ggml.merges", {});
    w.add_i32s("tokenizer.ggml.token_type", {1, 1, 1});
    expect_gguf_error(w, "badtypes", "tokenizer.ggml.token_type");
  }
  {
    GGUFWriter w;
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_strings("tokenizer.ggml.tokens", byte_tokens());
    expect_gguf_error(w, "nomerges", "tokenizer.ggml.merges");
  }
  {
    GGUFWriter w;  // a good one, to show the writer works
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_strings("tokenizer.ggml.tokens", byte_tokens());
    w.add_strings("tokenizer.ggml.merges", {});
    std::string path = w.write("good");
    rooflm::GGUFFile f(path);
    Tokenizer t(rooflm::tokenizer_spec_from_gguf(f));
    EXPECT_EQ(t.decode(t.encode("hi there", false, true)), "hi there");
    fs::remove(path);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Variants of the tiny vocabulary: every supported pre-tokenizer, and SentencePiece-style.

namespace {

TEST(TokenizerVariants, PreTokenizerPiecesEqualHuggingFace) {
  json fx = load_json("tests/fixtures/tokenizer_variants.json");
  const auto& texts = fx["texts"];
  for (auto it = fx["byte_level"].begin(); it != fx["byte_level"].end(); ++it) {
    rooflm::tok::PreTokenizer pre(it.key());
    const auto& want = it.value()["piece_bytes"];
    for (size_t i = 0; i < texts.size(); ++i) {
      std::string text = texts[i].get<std::string>();
      std::vector<std::string_view> pieces;
      pre.split(text, pieces);
      std::vector<int> lens;
      for (auto p : pieces) lens.push_back((int)p.size());
      EXPECT_EQ(lens, want[i].get<std::vector<int>>()) << it.key() << " " << json(text).dump();
    }
  }
}

TEST(TokenizerVariants, ByteLevelIdsForEveryPreTokenizer) {
  json fx = load_json("tests/fixtures/tokenizer_variants.json");
  const auto& texts = fx["texts"];
  for (auto it = fx["byte_level"].begin(); it != fx["byte_level"].end(); ++it) {
    auto spec = rooflm::tokenizer_spec_from_hf_dir(source_dir() + "/tests/fixtures/tiny_gpt2_tokenizer");
    spec.pre = it.key();
    spec.ignore_merges = it.value()["ignore_merges"].get<bool>();
    Tokenizer direct(spec);
    // The same tokenizer read from its tokenizer.json (Split regex / Digits detection, ignore_merges).
    auto from_dir = rooflm::tokenizer_spec_from_hf_dir(source_dir() + "/tests/fixtures/tokenizer_variants/" + it.key());
    EXPECT_EQ(from_dir.pre == "llama-bpe" ? "llama-bpe" : from_dir.pre, it.key());
    EXPECT_EQ(from_dir.ignore_merges, spec.ignore_merges) << it.key();
    Tokenizer dir_tok(from_dir);
    const auto& want = it.value()["ids"];
    for (size_t i = 0; i < texts.size(); ++i) {
      std::string text = texts[i].get<std::string>();
      auto w = want[i].get<std::vector<int32_t>>();
      EXPECT_EQ(direct.encode(text, false, true), w) << it.key() << " " << json(text).dump();
      EXPECT_EQ(dir_tok.encode(text, false, true), w) << it.key() << " (tokenizer.json) " << json(text).dump();
    }
  }
}

TokenizerSpec synthetic_spm(const json& s) {
  TokenizerSpec spec;
  spec.model = "llama";
  spec.pre = "default";
  spec.tokens = s["tokens"].get<std::vector<std::string>>();
  spec.scores = s["scores"].get<std::vector<float>>();
  spec.token_types = s["token_types"].get<std::vector<int32_t>>();
  spec.bos_id = s["bos_id"].get<int32_t>();
  spec.eos_id = s["eos_id"].get<int32_t>();
  spec.unk_id = s["unk_id"].get<int32_t>();
  spec.add_bos = true;
  spec.add_space_prefix = true;
  return spec;
}

TEST(TokenizerVariants, SentencePieceStyleEqualsHuggingFace) {
  json fx = load_json("tests/fixtures/tokenizer_variants.json");
  const auto& texts = fx["texts"];
  const json& s = fx["spm"];
  struct Variant {
    const char* name;
    rooflm::SpacePrefix prefix;
  };
  for (Variant v : {Variant{"first", rooflm::SpacePrefix::First}, Variant{"legacy", rooflm::SpacePrefix::Normalizer}}) {
    auto spec = synthetic_spm(s);
    spec.space_prefix = v.prefix;
    Tokenizer by_score(spec);  // merges derived from scores, as for a GGUF
    auto dir_spec = rooflm::tokenizer_spec_from_hf_dir(source_dir() + "/tests/fixtures/tokenizer_variants/spm-" + v.name);
    EXPECT_EQ(dir_spec.model, "llama");
    EXPECT_TRUE(dir_spec.add_space_prefix);
    EXPECT_EQ((int)dir_spec.space_prefix, (int)v.prefix) << v.name;
    EXPECT_FALSE(dir_spec.merges.empty());
    Tokenizer by_rank(dir_spec);  // explicit merges from tokenizer.json
    const auto& ids = s[v.name]["ids"];
    const auto& decoded = s[v.name]["decoded"];
    for (size_t i = 0; i < texts.size(); ++i) {
      std::string text = texts[i].get<std::string>();
      auto w = ids[i].get<std::vector<int32_t>>();
      EXPECT_EQ(by_score.encode(text, false, true), w) << v.name << " " << json(text).dump();
      EXPECT_EQ(by_rank.encode(text, false, true), w) << v.name << " (tokenizer.json) " << json(text).dump();
      EXPECT_EQ(by_score.decode(w), decoded[i].get<std::string>()) << v.name << " " << json(text).dump();
    }
  }
}

}  // namespace
