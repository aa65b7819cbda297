// Weight number formats, numbered exactly as GGUF's ggml_type ids.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace rooflm {

enum class DType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15, I32 = 26, BF16 = 30,
};

struct DTypeInfo {
  DType type;
  const char* name;
  int block_size;   // values per block (1 for plain floats)
  int type_size;    // bytes per block
  bool supported;   // rooflm has kernels for it (others can be read but not computed with)
};

// nullptr if `id` is not a ggml type rooflm knows the layout of.
const DTypeInfo* dtype_info(uint32_t id);
const DTypeInfo& dtype_info(DType t);
const char* dtype_name(DType t);
// Parse "q4_1", "f16", ... (case-insensitive); throws Error naming `what` otherwise.
DType dtype_from_name(const std::string& name, const char* what = "type");

// Bytes of a row of n values; throws if n is not a multiple of the block size.
size_t row_bytes(DType t, int64_t n);

}  // namespace rooflm
