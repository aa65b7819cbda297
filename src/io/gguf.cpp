#include "io/gguf.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace rooflm {

namespace {

constexpr uint64_t kMaxStringLen = 1ull << 30;   // 1 GiB: no metadata string is larger
constexpr uint64_t kMaxArrayLen = 1ull << 31;
// Each array element becomes a 48-byte GGUFValue, so a file of small elements (u8) would
// cost 48x its size in memory: all arrays together may hold at most 16 Mi elements (768 MiB).
// The largest real vocabularies (262,144 tokens, with scores and types) use under 1 Mi.
constexpr uint64_t kMaxArrayElementsTotal = 1ull << 24;
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;

// Cursor over the mapped bytes; every read checks the remaining length first.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size, const std::string& path) : d_(data), n_(size), path_(path) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return n_ - pos_; }

  void need(uint64_t bytes, const std::string& what) const {
    if (bytes > remaining())
      fail(path_, ": truncated file: ", what, " needs ", bytes, " bytes at offset ", pos_, " but only ",
           remaining(), " remain");
  }
  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, d_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(const std::string& what) {
    const uint64_t len = read<uint64_t>(what + " (string length)");
    if (len > kMaxStringLen) fail(path_, ": ", what, ": string length ", len, " is absurd");
    need(len, what);
    std::string s(reinterpret_cast<const char*>(d_ + pos_), (size_t)len);
    pos_ += (size_t)len;
    return s;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
  const std::string& path_;
};

size_t scalar_size(GGUFType t) {
  switch (t) {
    case GGUFType::UINT8: case GGUFType::INT8: case GGUFType::BOOL: return 1;
    case GGUFType::UINT16: case GGUFType::INT16: return 2;
    case GGUFType::UINT32: case GGUFType::INT32: case GGUFType::FLOAT32: return 4;
    case GGUFType::UINT64: case GGUFType::INT64: case GGUFType::FLOAT64: return 8;
    default: return 0;
  }
}

GGUFValue read_value(Reader& r, GGUFType type, const std::string& key, const std::string& path, int depth,
                     uint64_t& elements) {
  GGUFValue val;
  val.type = type;
  switch (type) {
    case GGUFType::UINT8: val.v = (uint64_t)r.read<uint8_t>(key); break;
    case GGUFType::UINT16: val.v = (uint64_t)r.read<uint16_t>(key); break;
    case GGUFType::UINT32: val.v = (uint64_t)r.read<uint32_t>(key); break;
    case GGUFType::UINT64: val.v = r.read<uint64_t>(key); break;
    case GGUFType::INT8: val.v = (int64_t)r.read<int8_t>(key); break;
    case GGUFType::INT16: val.v = (int64_t)r.read<int16_t>(key); break;
    case GGUFType::INT32: val.v = (int64_t)r.read<int32_t>(key); break;
    case GGUFType::INT64: val.v = r.read<int64_t>(key); break;
    case GGUFType::FLOAT32: val.v = (double)r.read<float>(key); break;
    case GGUFType::FLOAT64: val.v = r.read<double>(key); break;
    case GGUFType::BOOL: {
      const uint8_t b = r.read<uint8_t>(key);
      if (b > 1) fail(path, ": metadata '", key, "': bool value ", (int)b, " is not 0 or 1");
      val.v = (b != 0);
      break;
    }
    case GGUFType::STRING: val.v = r.read_string("metadata '" + key + "'"); break;
    case GGUFType::ARRAY: {
      if (depth >= kMaxArrayDepth) fail(path, ": metadata '", key, "': arrays nested deeper than ", kMaxArrayDepth);
      const uint32_t et = r.read<uint32_t>(key + " (array type)");
      if (et > (uint32_t)GGUFType::FLOAT64) fail(path, ": metadata '", key, "': unknown array element type ", et);
      const uint64_t n = r.read<uint64_t>(key + " (array length)");
      if (n > kMaxArrayLen) fail(path, ": metadata '", key, "': array length ", n, " is absurd");
      // Each element takes at least its scalar size (strings/arrays at least 8 bytes).
      const size_t min_elem = scalar_size((GGUFType)et) ? scalar_size((GGUFType)et) : 8;
      r.need(n * min_elem, "metadata '" + key + "' array of " + std::to_string(n) + " elements");
      elements += n;
      if (elements > kMaxArrayElementsTotal)
        fail(path, ": metadata '", key, "': arrays hold more than ", kMaxArrayElementsTotal, " elements in total");
      val.elem_type = (GGUFType)et;
      std::vector<GGUFValue> items;
      items.reserve((size_t)n);
      for (uint64_t i = 0; i < n; i++) items.push_back(read_value(r, (GGUFType)et, key, path, depth + 1, elements));
      val.v = std::move(items);
      break;
    }
    default: fail(path, ": metadata '", key, "': unknown value type ", (uint32_t)type);
  }
  return val;
}

}  // namespace

bool GGUFValue::is_integer() const {
  return std::holds_alternative<uint64_t>(v) || std::holds_alternative<int64_t>(v);
}
bool GGUFValue::is_number() const { return is_integer() || std::holds_alternative<double>(v); }

const char* gguf_type_name(GGUFType t) {
  static const char* names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                "bool", "string", "array", "uint64", "int64", "float64"};
  const auto i = (uint32_t)t;
  return i < 13 ? names[i] : "unknown";
}

int64_t GGUFTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

GGUFFile::GGUFFile(const std::string& path) : file_(std::make_unique<MappedFile>(path)) {
  const std::string& p = file_->path();
  Reader r(file_->data(), file_->size(), p);
  if (file_->size() < 4 || std::memcmp(file_->data(), "GGUF", 4) != 0)
    fail(p, ": not a GGUF file (expected magic 'GGUF' in the first 4 bytes)");
  r.read<uint32_t>("magic");
  version_ = r.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3) fail(p, ": GGUF version ", version_, " is not supported (expected 2 or 3)");
  const uint64_t n_tensors = r.read<uint64_t>("tensor count");
  const uint64_t n_kv = r.read<uint64_t>("metadata count");
  // Each KV takes at least 8 (key len) + 4 (type) + 1 bytes; each tensor info at least 8+4+8+4+8.
  if (n_kv > r.remaining() / 13) fail(p, ": metadata count ", n_kv, " cannot fit in a file of ", file_->size(), " bytes");
  if (n_tensors > r.remaining() / 32) fail(p, ": tensor count ", n_tensors, " cannot fit in a file of ", file_->size(), " bytes");

  uint64_t array_elements = 0;
  for (uint64_t i = 0; i < n_kv; i++) {
    std::string key = r.read_string("metadata key #" + std::to_string(i));
    const uint32_t t = r.read<uint32_t>("type of metadata '" + key + "'");
    if (t > (uint32_t)GGUFType::FLOAT64) fail(p, ": metadata '", key, "': unknown value type ", t);
    GGUFValue v = read_value(r, (GGUFType)t, key, p, 0, array_elements);
    if (kv_.count(key)) fail(p, ": metadata key '", key, "' appears twice");
    kv_.emplace(std::move(key), std::move(v));
  }

  if (const GGUFValue* a = find("general.alignment")) {
    if (!a->is_integer()) fail(p, ": metadata 'general.alignment': expected an integer");
    const uint64_t al = std::holds_alternative<uint64_t>(a->v) ? std::get<uint64_t>(a->v) : (uint64_t)std::get<int64_t>(a->v);
    if (al == 0 || (al & (al - 1)) != 0 || al > (1u << 20))
      fail(p, ": metadata 'general.alignment' = ", al, ": expected a power of two up to 1 MiB");
    alignment_ = (size_t)al;
  }

  tensors_.reserve((size_t)n_tensors);
  for (uint64_t i = 0; i < n_tensors; i++) {
    GGUFTensor t;
    t.name = r.read_string("tensor name #" + std::to_string(i));
    const std::string what = "tensor '" + t.name + "'";
    const uint32_t n_dims = r.read<uint32_t>(what + " dimension count");
    if (n_dims == 0 || n_dims > kMaxDims) fail(p, ": ", what, ": ", n_dims, " dimensions (expected 1..", kMaxDims, ")");
    int64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
      const uint64_t ne = r.read<uint64_t>(what + " dimension");
      if (ne == 0 || ne > (1ull << 40)) fail(p, ": ", what, ": dimension ", d, " = ", ne, " is absurd");
      if ((uint64_t)n_el > (1ull << 42) / ne) fail(p, ": ", what, ": element count overflows");
      n_el *= (int64_t)ne;
      t.dims.push_back((int64_t)ne);
    }
    const uint32_t type_id = r.read<uint32_t>(what + " type");
    const DTypeInfo* info = dtype_info(type_id);
    if (!info) fail(p, ": ", what, ": unknown tensor type id ", type_id);
    t.type = info->type;
    if (t.dims[0] % info->block_size != 0)
      fail(p, ": ", what, ": row length ", t.dims[0], " is not a multiple of the ", info->name, " block size ", info->block_size);
    t.nbytes = (size_t)(n_el / info->block_size) * (size_t)info->type_size;
    t.offset = r.read<uint64_t>(what + " offset");
    if (t.offset % alignment_ != 0) fail(p, ": ", what, ": offset ", t.offset, " is not aligned to ", alignment_);
    if (tensor_index_.count(t.name)) fail(p, ": tensor '", t.name, "' appears twice");
    tensor_index_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  const size_t data_start = (r.pos() + alignment_ - 1) / alignment_ * alignment_;
  data_offset_ = std::min(data_start, file_->size());
  if (data_start > file_->size() && !tensors_.empty())
    fail(p, ": truncated file: tensor data section would start at ", data_start, " past end of file (", file_->size(), " bytes)");
  for (auto& t : tensors_) {
    const uint64_t avail = file_->size() > data_start ? file_->size() - data_start : 0;
    if (t.offset > avail || t.nbytes > avail - t.offset)
      fail(p, ": tensor '", t.name, "': data [", data_start + t.offset, ", ", data_start + t.offset + t.nbytes,
           ") lies past end of file (", file_->size(), " bytes)");
    t.data = file_->data() + data_start + t.offset;
  }
}

const GGUFValue* GGUFFile::find(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const GGUFTensor* GGUFFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GGUFTensor& GGUFFile::tensor(const std::string& name) const {
  const GGUFTensor* t = find_tensor(name);
  if (!t) fail(path(), ": required tensor '", name, "' is missing");
  return *t;
}

namespace {
int64_t as_int(const GGUFValue& v, const std::string& path, const std::string& key) {
  if (std::holds_alternative<uint64_t>(v.v)) {
    const uint64_t u = std::get<uint64_t>(v.v);
    if (u > (uint64_t)std::numeric_limits<int64_t>::max()) fail(path, ": metadata '", key, "': value too large");
    return (int64_t)u;
  }
  if (std::holds_alternative<int64_t>(v.v)) return std::get<int64_t>(v.v);
  fail(path, ": metadata '", key, "': expected an integer, found ", gguf_type_name(v.type));
}
double as_float(const GGUFValue& v, const std::string& path, const std::string& key) {
  if (std::holds_alternative<double>(v.v)) return std::get<double>(v.v);
  return (double)as_int(v, path, key);
}
const std::vector<GGUFValue>& as_array(const GGUFValue& v, const std::string& path, const std::string& key) {
  if (!v.is_array()) fail(path, ": metadata '", key, "': expected an array, found ", gguf_type_name(v.type));
  return std::get<std::vector<GGUFValue>>(v.v);
}
}  // namespace

std::string GGUFFile::get_string(const std::string& key) const {
  const GGUFValue* v = find(key);
  if (!v) fail(path(), ": required metadata '", key, "' is missing");
  if (!v->is_string()) fail(path(), ": metadata '", key, "': expected a string, found ", gguf_type_name(v->type));
  return std::get<std::string>(v->v);
}
std::string GGUFFile::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}
int64_t GGUFFile::get_int(const std::string& key) const {
  const GGUFValue* v = find(key);
  if (!v) fail(path(), ": required metadata '", key, "' is missing");
  return as_int(*v, path(), key);
}
int64_t GGUFFile::get_int(const std::string& key, int64_t fallback) const { return has(key) ? get_int(key) : fallback; }
double GGUFFile::get_float(const std::string& key) const {
  const GGUFValue* v = find(key);
  if (!v) fail(path(), ": required metadata '", key, "' is missing");
  return as_float(*v, path(), key);
}
double GGUFFile::get_float(const std::string& key, double fallback) const { return has(key) ? get_float(key) : fallback; }
bool GGUFFile::get_bool(const std::string& key, bool fallback) const {
  const GGUFValue* v = find(key);
  if (!v) return fallback;
  if (std::holds_alternative<bool>(v->v)) return std::get<bool>(v->v);
  return as_int(*v, path(), key) != 0;
}
std::vector<std::string> GGUFFile::get_string_array(const std::string& key) const {
  const GGUFValue* v = find(key);
  if (!v) fail(path(), ": required metadata '", key, "' is missing");
  std::vector<std::string> out;
  for (const auto& e : as_array(*v, path(), key)) {
    if (!e.is_string()) fail(path(), ": metadata '", key, "': expected an array of strings");
    out.push_back(std::get<std::string>(e.v));
  }
  return out;
}
std::vector<double> GGUFFile::get_float_array(const std::string& key) const {
  const GGUFValue* v = find(key);
  if (!v) fail(path(), ": required metadata '", key, "' is missing");
  std::vector<double> out;
  for (const auto& e : as_array(*v, path(), key)) out.push_back(as_float(e, path(), key));
  return out;
}
std::vector<int64_t> GGUFFile::get_int_array(const std::string& key) const {
  const GGUFValue* v = find(key);
  if (!v) fail(path(), ": required metadata '", key, "' is missing");
  std::vector<int64_t> out;
  for (const auto& e : as_array(*v, path(), key)) out.push_back(as_int(e, path(), key));
  return out;
}

std::string weights_hash(const GGUFFile& f) {
  const uint8_t* base = f.mapped().data() + f.data_offset();
  const size_t n = f.file_size() - f.data_offset();
  constexpr uint64_t kIndexMul = 0x9E3779B97F4A7C15ull, kWordMul = 0xBF58476D1CE4E5B9ull;
  constexpr size_t kChunk = (size_t)16 << 20;
  uint64_t h = 0;
  for (size_t at = 0; at < n; at += kChunk) {
    const size_t len = std::min(kChunk, n - at);
    for (size_t o = 0; o < len; o += 8) {
      uint64_t w = 0;  // the last word is zero-padded
      std::memcpy(&w, base + at + o, std::min<size_t>(8, len - o));
      const uint64_t i = (uint64_t)((at + o) / 8);
      h += (w ^ (i * kIndexMul)) * kWordMul;
    }
    f.mapped().release(base + at, len);
  }
  h ^= h >> 31;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
  return hex;
}

}  // namespace rooflm
