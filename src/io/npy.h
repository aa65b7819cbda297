// NumPy .npy writer (format 1.0) for arrays whose row count is known only at the end:
// rows are appended as they come and the header is rewritten with the final shape on close.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace rooflm {

class NpyWriter {
 public:
  // descr: a NumPy dtype string ("<i4", "<i8", "<f2", "<f4"); row_shape: the shape after the
  // first axis (empty for a 1-D array). Throws Error naming the path when it cannot write.
  NpyWriter(const std::string& path, const std::string& descr, std::vector<int64_t> row_shape);
  ~NpyWriter();
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;

  // Appends n rows of row_bytes() each.
  void append(const void* data, int64_t n_rows);
  // Writes the final header and closes the file.
  void close();
  int64_t rows() const { return rows_; }
  size_t row_bytes() const { return row_bytes_; }

 private:
  std::string header() const;
  std::string path_, descr_;
  std::vector<int64_t> row_shape_;
  size_t row_bytes_ = 0;
  int64_t rows_ = 0;
  std::FILE* f_ = nullptr;
};

}  // namespace rooflm
