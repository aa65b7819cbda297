// Errors: one exception type carrying a message that names the file/field/argument
// and what was expected. The CLI catches it, prints it and exits non-zero.
#pragma once
#include <stdexcept>
#include <string>
#include <sstream>

namespace rooflm {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// fail("tensor ", name, ": offset ", off, " past end of file") -> throws Error.
template <typename... Args>
[[noreturn]] void fail(const Args&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(os.str());
}

}  // namespace rooflm
