#include "io/npy.h"

#include <cstring>

#include "core/error.h"

namespace rooflm {

namespace {
// Room for the header dict of any shape we write: the data starts at a fixed offset, so the
// header can be rewritten in place once the row count is known.
constexpr size_t kHeaderBytes = 128;

size_t descr_bytes(const std::string& d) {
  if (d.size() == 3 && (d[0] == '<' || d[0] == '|') && (d[2] == '1' || d[2] == '2' || d[2] == '4' || d[2] == '8'))
    return (size_t)(d[2] - '0');
  fail("npy: unsupported dtype '", d, "'");
}
}  // namespace

NpyWriter::NpyWriter(const std::string& path, const std::string& descr, std::vector<int64_t> row_shape)
    : path_(path), descr_(descr), row_shape_(std::move(row_shape)) {
  row_bytes_ = descr_bytes(descr_);
  for (int64_t d : row_shape_) row_bytes_ *= (size_t)d;
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) fail(path, ": cannot create (", std::strerror(errno), ")");
  const std::string h = header();
  if (std::fwrite(h.data(), 1, h.size(), f_) != h.size()) fail(path, ": write failed");
}

NpyWriter::~NpyWriter() {
  if (f_) std::fclose(f_);
}

std::string NpyWriter::header() const {
  std::string shape = "(" + std::to_string(rows_) + ",";
  for (size_t i = 0; i < row_shape_.size(); i++) shape += (i ? ", " : " ") + std::to_string(row_shape_[i]);
  shape += ")";
  std::string dict = "{'descr': '" + descr_ + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t prefix = 10;  // magic (6) + version (2) + header length (2)
  if (prefix + dict.size() + 1 > kHeaderBytes) fail(path_, ": npy header too long");
  dict.append(kHeaderBytes - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string h = "\x93NUMPY";
  h += '\x01';
  h += '\x00';
  const uint16_t len = (uint16_t)dict.size();
  h += (char)(len & 0xff);
  h += (char)(len >> 8);
  return h + dict;
}

void NpyWriter::append(const void* data, int64_t n_rows) {
  if (!f_) fail(path_, ": append after close");
  const size_t n = (size_t)n_rows * row_bytes_;
  if (n && std::fwrite(data, 1, n, f_) != n) fail(path_, ": write failed (", std::strerror(errno), ")");
  rows_ += n_rows;
}

void NpyWriter::close() {
  if (!f_) return;
  const std::string h = header();
  const bool ok = std::fseek(f_, 0, SEEK_SET) == 0 && std::fwrite(h.data(), 1, h.size(), f_) == h.size();
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!ok || !closed) fail(path_, ": write failed");
}

}  // namespace rooflm
