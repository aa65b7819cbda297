// Small helpers shared by the subcommands (file output lives in roofline/util.h:
// write_file_atomic, read_file).
#pragma once
#include <string>

namespace rooflm {
class Model;
}

namespace rooflm::cli {

// One line on stderr for a model with random weights (GGUF general.synthetic, written by
// scripts/make_synthetic_model.py): its speed is real, its text is not.
void warn_if_synthetic(const Model& model);

double peak_rss_mb();
// JSON string literal of arbitrary bytes (invalid UTF-8 becomes U+FFFD).
std::string json_string(const std::string& s);
// Fails before any work when an output could not be written (missing directory, a directory
// given as the file), so a bad flag never leaves some outputs written and others not.
// Does nothing for an empty path (output not requested).
void check_output(const std::string& path, const char* what);
// -t/--threads: 1..ThreadPool::kMaxThreads (0 too when allow_zero: "all available"), checked
// before any model loads.
void check_threads(int threads, bool allow_zero = false);
// --tune NAME=V[,NAME=V]: applies kernel settings (src/kernels/tuning.h) for this run; errors
// name the flag.
void apply_tune_flag(const std::string& assignments);

}  // namespace rooflm::cli
