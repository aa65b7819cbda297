// Small helpers shared by the subcommands (file output lives in roofline/util.h:
// write_file_atomic, read_file).
#pragma once
#include <string>

namespace rooflm::cli {

double peak_rss_mb();
// JSON string literal of arbitrary bytes (invalid UTF-8 becomes U+FFFD).
std::string json_string(const std::string& s);

}  // namespace rooflm::cli
