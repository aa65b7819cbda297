#include <gtest/gtest.h>

#include "core/error.h"
#include "io/gguf.h"
#include "test_util.h"

using namespace rooflm;
using rooflm::test::GGUFBuilder;

namespace {

std::string write_temp(const GGUFBuilder& g, const std::string& name) {
  const std::string p = test::temp_path(name);
  test::write_bytes(p, g.b);
  return p;
}

// A small valid file: scalar, string, nested array metadata and two tensors.
GGUFBuilder good_file(uint32_t version = 3) {
  GGUFBuilder g;
  g.header(version, 2, 5);
  g.kv_str("general.architecture", "llama");
  g.kv_u32("llama.block_count", 7);
  g.kv_f32("llama.rope.freq_base", 10000.0f);
  // array of arrays of int32: [[1,2],[3]]
  g.str("test.nested");
  g.put<uint32_t>(9);
  g.put<uint32_t>(9);
  g.put<uint64_t>(2);
  g.put<uint32_t>(5); g.put<uint64_t>(2); g.put<int32_t>(1); g.put<int32_t>(2);
  g.put<uint32_t>(5); g.put<uint64_t>(1); g.put<int32_t>(3);
  g.str("tokenizer.ggml.tokens");
  g.put<uint32_t>(9);
  g.put<uint32_t>(8);
  g.put<uint64_t>(2);
  g.str("a");
  g.str("bc");
  g.tensor_info("w", {4, 2}, 0, 0);     // f32 4x2 = 32 bytes
  g.tensor_info("q", {32}, 8, 32);      // q8_0 one block = 34 bytes
  g.align(32);
  for (int i = 0; i < 8; i++) g.put<float>((float)i);
  for (int i = 0; i < 34; i++) g.b.push_back((uint8_t)i);
  return g;
}

}  // namespace

TEST(GGUF, ReadsMetadataArraysAndTensors) {
  for (uint32_t version : {2u, 3u}) {
    const std::string p = write_temp(good_file(version), "good.gguf");
    GGUFFile f(p);
    EXPECT_EQ(f.version(), version);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_int("llama.block_count"), 7);
    EXPECT_FLOAT_EQ((float)f.get_float("llama.rope.freq_base"), 10000.0f);
    const GGUFValue* nested = f.find("test.nested");
    ASSERT_NE(nested, nullptr);
    const auto& outer = std::get<std::vector<GGUFValue>>(nested->v);
    ASSERT_EQ(outer.size(), 2u);
    EXPECT_EQ(std::get<std::vector<GGUFValue>>(outer[0].v).size(), 2u);
    EXPECT_EQ(std::get<int64_t>(std::get<std::vector<GGUFValue>>(outer[1].v)[0].v), 3);
    EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "bc"}));
    const GGUFTensor& w = f.tensor("w");
    EXPECT_EQ(w.cols(), 4);
    EXPECT_EQ(w.rows(), 2);
    EXPECT_EQ(w.nbytes, 32u);
    EXPECT_EQ(reinterpret_cast<const float*>(w.data)[5], 5.0f);
    EXPECT_EQ(f.tensor("q").nbytes, 34u);
    EXPECT_EQ(f.tensor("q").data[33], 33);
    std::remove(p.c_str());
  }
}

TEST(GGUF, TypedAccessorsNameTheKey) {
  const std::string p = write_temp(good_file(), "acc.gguf");
  GGUFFile f(p);
  EXPECT_EQ(f.get_int("missing.key", 5), 5);
  try {
    f.get_int("general.architecture");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("general.architecture"), std::string::npos);
  }
  EXPECT_THROW(f.tensor("nope"), Error);
  std::remove(p.c_str());
}

// Every crafted bad file must give an Error (never a crash) whose message says what is wrong.
struct BadCase {
  const char* name;
  std::vector<uint8_t> bytes;
  const char* expect;
};

TEST(GGUF, RejectsBadFilesWithClearErrors) {
  std::vector<BadCase> cases;
  cases.push_back({"empty", {}, "not a GGUF file"});
  cases.push_back({"wrong magic", {'G', 'G', 'M', 'L', 3, 0, 0, 0}, "not a GGUF file"});
  {
    GGUFBuilder g;
    g.header(4, 0, 0);
    cases.push_back({"version 4", g.b, "version 4"});
  }
  {
    auto g = good_file();
    g.b.resize(g.b.size() - 10);
    cases.push_back({"tensor data truncated", g.b, "past end of file"});
  }
  {
    auto g = good_file();
    g.b.resize(120);  // cuts the nested array
    cases.push_back({"truncated metadata", g.b, "truncated"});
  }
  {
    GGUFBuilder g;
    g.header(3, 0, 1ull << 60);
    cases.push_back({"absurd kv count", g.b, "metadata count"});
  }
  {
    GGUFBuilder g;
    g.header(3, 1ull << 62, 0);
    cases.push_back({"absurd tensor count", g.b, "tensor count"});
  }
  {
    GGUFBuilder g;
    g.header(3, 0, 1);
    g.put<uint64_t>(1ull << 50);  // key length
    g.b.resize(g.b.size() + 64);
    cases.push_back({"absurd string length", g.b, "string length"});
  }
  {
    GGUFBuilder g;
    g.header(3, 0, 1);
    g.str("k");
    g.put<uint32_t>(99);
    cases.push_back({"unknown value type", g.b, "unknown value type"});
  }
  {
    GGUFBuilder g;
    g.header(3, 0, 1);
    g.str("arr");
    g.put<uint32_t>(9);
    g.put<uint32_t>(4);
    g.put<uint64_t>(1ull << 30);  // a billion u32 in a tiny file
    cases.push_back({"array longer than file", g.b, "truncated"});
  }
  {
    GGUFBuilder g;
    g.header(3, 1, 0);
    g.tensor_info("t", {32}, 77, 0);
    cases.push_back({"unknown tensor type", g.b, "unknown tensor type"});
  }
  {
    GGUFBuilder g;
    g.header(3, 1, 0);
    g.tensor_info("t", {1ull << 41, 1ull << 41}, 0, 0);
    cases.push_back({"absurd dimensions", g.b, "absurd"});
  }
  {
    GGUFBuilder g;
    g.header(3, 1, 0);
    g.tensor_info("t", {30}, 8, 0);  // q8_0 needs multiples of 32
    cases.push_back({"row not a block multiple", g.b, "block size"});
  }
  {
    GGUFBuilder g;
    g.header(3, 1, 0);
    g.tensor_info("t", {4}, 0, 1ull << 40);
    g.align(32);
    g.b.resize(g.b.size() + 16);
    cases.push_back({"tensor offset past end", g.b, "past end of file"});
  }
  {
    GGUFBuilder g;
    g.header(3, 0, 1);
    g.kv_u32("general.alignment", 3);
    cases.push_back({"bad alignment", g.b, "power of two"});
  }
  {
    GGUFBuilder g;
    g.header(3, 0, 1);
    g.str("deep");
    g.put<uint32_t>(9);  // the value is an array ...
    for (int i = 0; i < 20; i++) {  // ... of arrays of arrays ...
      g.put<uint32_t>(9);
      g.put<uint64_t>(1);
    }
    cases.push_back({"arrays nested too deep", g.b, "nested deeper"});
  }
  {
    GGUFBuilder g;
    g.header(3, 1, 0);
    g.tensor_info("t", {1ull << 21, 1ull << 21, 1ull << 21}, 0, 0);  // each dimension plausible, product 2^63
    cases.push_back({"dimension product overflows", g.b, "element count overflows"});
  }
  {
    GGUFBuilder g;
    g.header(3, 1, 0);
    g.tensor_info("t", {2, 2, 2, 2, 2}, 0, 0);
    cases.push_back({"five dimensions", g.b, "5 dimensions (expected 1..4)"});
  }
  {
    GGUFBuilder g;
    g.header(3, 0, 1);
    g.str("arr");
    g.put<uint32_t>(9);
    g.put<uint32_t>(0);
    g.put<uint64_t>(1ull << 40);
    cases.push_back({"absurd array length", g.b, "array length 1099511627776 is absurd"});
  }
  {
    // 17 Mi one-byte elements are really in the file, but would take 48 bytes each in memory.
    GGUFBuilder g;
    g.header(3, 0, 1);
    g.str("arr");
    g.put<uint32_t>(9);
    g.put<uint32_t>(0);
    g.put<uint64_t>(17ull << 20);
    g.b.resize(g.b.size() + (17 << 20));
    cases.push_back({"too many array elements in total", g.b, "arrays hold more than 16777216 elements in total"});
  }
  {
    GGUFBuilder g;
    g.header(3, 0, 2);
    g.kv_u32("k", 1);
    g.kv_u32("k", 2);
    cases.push_back({"duplicate key", g.b, "metadata key 'k' appears twice"});
  }
  {
    GGUFBuilder g;
    g.header(3, 2, 0);
    g.tensor_info("t", {8}, 0, 0);
    g.tensor_info("t", {8}, 0, 32);
    g.align(32);
    g.b.resize(g.b.size() + 64);
    cases.push_back({"duplicate tensor", g.b, "tensor 't' appears twice"});
  }
  {
    GGUFBuilder g;
    g.header(3, 1, 0);
    g.tensor_info("t", {8}, 0, 4);
    g.align(32);
    g.b.resize(g.b.size() + 64);
    cases.push_back({"misaligned tensor offset", g.b, "offset 4 is not aligned to 32"});
  }
  for (const auto& c : cases) {
    const std::string p = test::temp_path("bad.gguf");
    test::write_bytes(p, c.bytes);
    try {
      GGUFFile f(p);
      ADD_FAILURE() << c.name << ": expected an error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(p), std::string::npos) << c.name << ": message should name the file: " << msg;
      EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
    }
    std::remove(p.c_str());
  }
}

TEST(GGUF, MissingFileNamesThePath) {
  try {
    GGUFFile f("/nonexistent/dir/model.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos);
  }
}

TEST(GGUF, ReadsTheDefaultModel) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  GGUFFile f(test::default_model_path());
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.tensors().size(), 272u);
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), 49152u);
  EXPECT_EQ(f.tensor("token_embd.weight").type, DType::Q8_0);
  EXPECT_EQ(f.tensor("blk.0.ffn_up.weight").type, DType::Q4_1);
}
