#include "tokenizer/unicode.h"

namespace rooflm::tok {

int utf8_char_len(const unsigned char* s, size_t n) {
  if (n == 0) return 0;
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  auto cont = [&](size_t i) { return i < n && (s[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && s[1] >= 0xA0) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && s[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && s[1] >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
}

uint32_t utf8_decode(const unsigned char* s, int len) {
  switch (len) {
    case 1: return s[0];
    case 2: return ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
    case 3: return ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
    default: return ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
  }
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += (char)cp;
  } else if (cp < 0x800) {
    out += (char)(0xC0 | (cp >> 6));
    out += (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += (char)(0xE0 | (cp >> 12));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  } else {
    out += (char)(0xF0 | (cp >> 18));
    out += (char)(0x80 | ((cp >> 12) & 0x3F));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  }
}

size_t utf8_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool utf8_valid(std::string_view s) {
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    int len = utf8_char_len(p + i, s.size() - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

namespace {
struct ByteTables {
  std::array<uint32_t, 256> b2u{};
  std::array<int16_t, 512> u2b{};  // every alphabet code point is < 512
  ByteTables() {
    u2b.fill(-1);
    uint32_t extra = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      b2u[b] = printable ? (uint32_t)b : extra++;
      u2b[b2u[b]] = (int16_t)b;
    }
  }
};
const ByteTables& tables() {
  static const ByteTables t;
  return t;
}
}  // namespace

const std::array<uint32_t, 256>& byte_to_unicode() { return tables().b2u; }

int unicode_to_byte(uint32_t cp) { return cp < 512 ? tables().u2b[cp] : -1; }

std::string bytes_to_byte_level(std::string_view bytes) {
  const auto& b2u = tables().b2u;
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) utf8_append(out, b2u[c]);
  return out;
}

bool byte_level_to_bytes(std::string_view s, std::string& out) {
  out.clear();
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    int len = utf8_char_len(p + i, s.size() - i);
    if (len == 0) return false;
    int b = unicode_to_byte(utf8_decode(p + i, len));
    if (b < 0) return false;
    out += (char)b;
    i += len;
  }
  return true;
}

bool is_py_space(uint32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
    case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::string py_strip(std::string_view s) {
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), begin = 0, end = 0, i = 0;
  bool seen = false;
  while (i < n) {
    int len = utf8_char_len(p + i, n - i);
    if (len == 0) len = 1;  // an invalid byte is not whitespace
    bool space = len > 0 && is_py_space(utf8_decode(p + i, len)) && utf8_char_len(p + i, n - i) != 0;
    if (!space) {
      if (!seen) begin = i, seen = true;
      end = i + len;
    }
    i += len;
  }
  return seen ? std::string(s.substr(begin, end - begin)) : std::string();
}

}  // namespace rooflm::tok
