// The library's errors name option fields ("SamplerOptions::top_p"); the CLI's users know the
// flags. with_flag_names rewrites each field a flag sets into that flag ("--top-p").
#pragma once
#include <string>

namespace rooflm::cli {

std::string with_flag_names(std::string message);

}  // namespace rooflm::cli
