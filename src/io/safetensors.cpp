#include "io/safetensors.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rooflm {

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(std::make_unique<MappedFile>(path)) {
  const size_t size = file_->size();
  if (size < 8) fail(path, ": truncated safetensors file (", size, " bytes; expected an 8-byte header length)");
  uint64_t header_len;
  std::memcpy(&header_len, file_->data(), 8);
  if (header_len > size - 8 || header_len > (100u << 20))
    fail(path, ": header length ", header_len, " exceeds the file (", size, " bytes)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file_->data() + 8, file_->data() + 8 + header_len);
  } catch (const std::exception& e) {
    fail(path, ": header is not valid JSON (", e.what(), ")");
  }
  if (!header.is_object()) fail(path, ": header is not a JSON object");
  const size_t data_start = 8 + (size_t)header_len;
  const size_t data_size = size - data_start;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& t = it.value();
    const std::string what = path + ": tensor '" + it.key() + "'";
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets"))
      fail(what, ": expected an object with dtype, shape and data_offsets");
    SafeTensor st;
    st.name = it.key();
    const std::string dt = t["dtype"].is_string() ? t["dtype"].get<std::string>() : "";
    size_t elem;
    if (dt == "F32") { st.type = DType::F32; elem = 4; }
    else if (dt == "F16") { st.type = DType::F16; elem = 2; }
    else if (dt == "BF16") { st.type = DType::BF16; elem = 2; }
    else fail(what, ": dtype '", dt, "' is not supported (expected F32, F16 or BF16)");
    if (!t["shape"].is_array() || t["shape"].size() > 4) fail(what, ": shape must be an array of at most 4 dims");
    uint64_t n = 1;
    for (const auto& d : t["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() == 0 || d.get<uint64_t>() > (1ull << 32))
        fail(what, ": shape has an invalid dimension");
      // Checked before multiplying: [2^32, 2^32] would wrap to 0 elements and pass.
      if (d.get<uint64_t>() > (1ull << 40) / n) fail(what, ": element count is absurd (over 2^40)");
      n *= d.get<uint64_t>();
      st.shape.push_back((int64_t)d.get<uint64_t>());
    }
    const auto& off = t["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(what, ": data_offsets must be [begin, end]");
    const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > data_size) fail(what, ": data_offsets [", b, ", ", e, "] lie outside the data section (", data_size, " bytes)");
    if (e - b != n * elem) fail(what, ": data_offsets span ", e - b, " bytes but shape and dtype need ", n * elem);
    st.data = file_->data() + data_start + b;
    st.nbytes = (size_t)(e - b);
    tensors_.emplace(st.name, std::move(st));
  }
}

const SafeTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace rooflm
