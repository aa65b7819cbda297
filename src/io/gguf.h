// GGUF (versions 2 and 3) reader over mmap. Every count, length, offset and size read
// from the file is checked against the file's bounds before it is used; tensors are
// views into the map (no copies).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace rooflm {

enum class GGUFType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};

// One metadata value. Arrays hold their element type and values (arrays may nest).
struct GGUFValue {
  GGUFType type = GGUFType::UINT8;
  GGUFType elem_type = GGUFType::UINT8;  // for ARRAY
  std::variant<uint64_t, int64_t, double, bool, std::string, std::vector<GGUFValue>> v;

  bool is_array() const { return type == GGUFType::ARRAY; }
  bool is_string() const { return type == GGUFType::STRING; }
  bool is_integer() const;
  bool is_number() const;
};

struct GGUFTensor {
  std::string name;
  std::vector<int64_t> dims;  // ne[0] is the innermost (row length), as in ggml
  DType type = DType::F32;
  uint64_t offset = 0;        // relative to the data section
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t n_elements() const;
  int64_t rows() const { return n_elements() / (dims.empty() ? 1 : dims[0]); }
  int64_t cols() const { return dims.empty() ? 1 : dims[0]; }
};

class GGUFFile {
 public:
  explicit GGUFFile(const std::string& path);  // throws Error naming path and field

  const std::string& path() const { return file_->path(); }
  const MappedFile& mapped() const { return *file_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t file_size() const { return file_->size(); }
  size_t data_offset() const { return data_offset_; }  // start of the tensor data section

  const std::map<std::string, GGUFValue>& metadata() const { return kv_; }
  const std::vector<GGUFTensor>& tensors() const { return tensors_; }

  bool has(const std::string& key) const { return kv_.count(key) != 0; }
  const GGUFValue* find(const std::string& key) const;
  const GGUFTensor* find_tensor(const std::string& name) const;
  const GGUFTensor& tensor(const std::string& name) const;  // throws if missing

  // Typed accessors: throw Error naming the key when missing or of the wrong type.
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  int64_t get_int(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_float(const std::string& key) const;
  double get_float(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<double> get_float_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;

 private:
  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::map<std::string, GGUFValue> kv_;
  std::vector<GGUFTensor> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

const char* gguf_type_name(GGUFType t);

// A 64-bit fingerprint of the tensor data section (docs/DRAFT_HEADS.md defines it; the
// training script computes the same), as 16 hex digits: what a draft head was trained on.
// Reads the section once and drops its pages again, so a loaded model's RSS is unchanged.
std::string weights_hash(const GGUFFile& f);

}  // namespace rooflm
