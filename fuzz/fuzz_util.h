// Shared by the libFuzzer targets in fuzz/. The readers under test take file paths (they mmap
// or stream the file), so each input is written to an in-memory file first.
//
// The contract every target checks: bad input may only throw rooflm::Error (the CLI turns it
// into one clear line). Any other exception (std::bad_alloc from an unchecked size, a JSON
// library type error, std::out_of_range, ...) is a finding, reported by abort() so libFuzzer
// keeps the input. Memory errors and undefined behaviour are caught by ASan/UBSan.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace rooflm::fuzz {

// One memfd per process, rewritten for every input: /proc/self/fd/N is a regular file that
// open(), mmap() and std::ifstream accept, with no disk traffic.
inline std::string write_input(const uint8_t* data, size_t size) {
  static int fd = [] {
    int f = ::memfd_create("rooflm_fuzz_input", 0);
    if (f < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    return f;
  }();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != (ssize_t)size) {
    std::perror("writing the fuzz input");
    std::abort();
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

// Runs fn; rooflm::Error is the expected outcome of bad input, anything else aborts.
template <typename Fn>
void expect_only_errors(const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const rooflm::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: unexpected exception (not rooflm::Error): %s\n", what, e.what());
    std::abort();
  }
}

[[noreturn]] inline void finding(const std::string& msg) {
  std::fprintf(stderr, "finding: %s\n", msg.c_str());
  std::abort();
}

// The repository root: $ROOFLM_SOURCE_DIR, else the one the target was built from.
inline std::string source_dir() {
  if (const char* e = std::getenv("ROOFLM_SOURCE_DIR")) return e;
  return ROOFLM_SOURCE_DIR;
}

// Splits the input at NUL bytes: targets that need several strings (template + messages,
// tokenizer.json + tokenizer_config.json) take them from one input this way.
inline std::vector<std::string_view> split_nul(const uint8_t* data, size_t size, size_t max_parts) {
  std::vector<std::string_view> parts;
  std::string_view s(reinterpret_cast<const char*>(data), size);
  while (parts.size() + 1 < max_parts) {
    size_t z = s.find('\0');
    if (z == std::string_view::npos) break;
    parts.push_back(s.substr(0, z));
    s.remove_prefix(z + 1);
  }
  parts.push_back(s);
  return parts;
}

}  // namespace rooflm::fuzz
