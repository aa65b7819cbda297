#include "core/dtype.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace rooflm {

namespace {
// Block layouts as in GGUF: 32-value blocks with fp16 scale (+min) for the legacy quants,
// 256-value super-blocks for the K-quants.
constexpr DTypeInfo kTypes[] = {
    {DType::F32, "f32", 1, 4, true},
    {DType::F16, "f16", 1, 2, true},
    {DType::Q4_0, "q4_0", 32, 2 + 16, true},
    {DType::Q4_1, "q4_1", 32, 2 + 2 + 16, true},
    {DType::Q5_0, "q5_0", 32, 2 + 4 + 16, true},
    {DType::Q5_1, "q5_1", 32, 2 + 2 + 4 + 16, true},
    {DType::Q8_0, "q8_0", 32, 2 + 32, true},
    {DType::Q8_1, "q8_1", 32, 4 + 32, false},
    {DType::Q2_K, "q2_k", 256, 256 / 16 + 256 / 4 + 2 + 2, false},
    {DType::Q3_K, "q3_k", 256, 256 / 8 + 256 / 4 + 12 + 2, false},
    {DType::Q4_K, "q4_k", 256, 2 + 2 + 12 + 128, true},
    {DType::Q5_K, "q5_k", 256, 2 + 2 + 12 + 32 + 128, true},
    {DType::Q6_K, "q6_k", 256, 128 + 64 + 16 + 2, true},
    {DType::Q8_K, "q8_k", 256, 4 + 256 + 32, false},
    {DType::I32, "i32", 1, 4, false},  // integer tables (a draft head's vocabulary map)
    {DType::BF16, "bf16", 1, 2, true},
};
}  // namespace

const DTypeInfo* dtype_info(uint32_t id) {
  for (const auto& t : kTypes)
    if ((uint32_t)t.type == id) return &t;
  return nullptr;
}

const DTypeInfo& dtype_info(DType t) {
  const DTypeInfo* info = dtype_info((uint32_t)t);
  if (!info) fail("unknown dtype id ", (uint32_t)t);
  return *info;
}

const char* dtype_name(DType t) {
  const DTypeInfo* info = dtype_info((uint32_t)t);
  return info ? info->name : "unknown";
}

DType dtype_from_name(const std::string& name, const char* what) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& t : kTypes)
    if (lower == t.name) return t.type;
  std::string all;
  for (const auto& t : kTypes) all += std::string(all.empty() ? "" : ", ") + t.name;
  fail(what, ": unknown number format '", name, "' (expected one of ", all, ")");
}

size_t row_bytes(DType t, int64_t n) {
  const DTypeInfo& info = dtype_info(t);
  if (n < 0 || n % info.block_size != 0)
    fail("row of ", n, " values is not a multiple of the ", info.name, " block size ", info.block_size);
  return (size_t)(n / info.block_size) * (size_t)info.type_size;
}

}  // namespace rooflm
