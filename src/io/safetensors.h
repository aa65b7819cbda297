// safetensors reader over mmap: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}}, then the raw data. Offsets and sizes are checked
// against the file before any tensor is handed out.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace rooflm {

struct SafeTensor {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> shape;  // as written (outermost first, like numpy)
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  const std::string& path() const { return file_->path(); }
  const MappedFile& mapped() const { return *file_; }
  const std::map<std::string, SafeTensor>& tensors() const { return tensors_; }
  const SafeTensor* find(const std::string& name) const;

 private:
  std::unique_ptr<MappedFile> file_;
  std::map<std::string, SafeTensor> tensors_;
};

}  // namespace rooflm
