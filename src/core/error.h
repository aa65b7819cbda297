// Errors: one exception type (rooflm::Error, public in rooflm/error.h) carrying a message that
// names the file/field/option and what was expected. The CLI catches it, prints it and exits non-zero.
#pragma once
#include <sstream>
#include <string>

#include "rooflm/error.h"

namespace rooflm {

// fail("tensor ", name, ": offset ", off, " past end of file") -> throws Error.
template <typename... Args>
[[noreturn]] void fail(const Args&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(os.str());
}

}  // namespace rooflm
