// UTF-8 helpers and the GPT-2 byte <-> unicode alphabet (internal to the tokenizer).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rooflm::tok {

// Length (1..4) of the valid UTF-8 character starting at s[0] (RFC 3629: no overlong forms, no
// surrogates, max U+10FFFF), or 0 if the bytes there are not a valid character.
int utf8_char_len(const unsigned char* s, size_t n);
// Decodes the valid character of length len at s.
uint32_t utf8_decode(const unsigned char* s, int len);
void utf8_append(std::string& out, uint32_t cp);
// Number of code points in valid UTF-8 text.
size_t utf8_count(std::string_view s);
bool utf8_valid(std::string_view s);

// GPT-2 byte-level alphabet: byte -> code point, and code point -> byte (-1 outside the alphabet).
const std::array<uint32_t, 256>& byte_to_unicode();
int unicode_to_byte(uint32_t cp);
// The byte-level spelling of raw bytes, and back (nullopt-like: returns false if a character of
// `s` is outside the alphabet; `out` then holds nothing useful).
std::string bytes_to_byte_level(std::string_view bytes);
bool byte_level_to_bytes(std::string_view s, std::string& out);

// Python's str.isspace() (what Jinja's trim filter and str.strip() remove).
bool is_py_space(uint32_t cp);
std::string py_strip(std::string_view s);

}  // namespace rooflm::tok
