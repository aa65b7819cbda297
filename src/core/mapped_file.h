// A read-only memory map of a whole file. Weights are used in place from the map.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace rooflm {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws Error naming the path
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Drops the resident pages wholly inside [p, p + n) (they fault back in from the page cache
  // if touched again). Used after weights were repacked into a copy, so RSS counts them once.
  void release(const void* p, size_t n) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace rooflm
