// rooflm's one error type. Every failure the library reports (a bad file, an option out of
// range, a full context) is a rooflm::Error whose message names the file, key or option field
// (e.g. "SamplerOptions::top_p") and the value that was wrong.
#pragma once
#include <stdexcept>

namespace rooflm {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace rooflm
