#include "cli/util.h"

#include <sys/resource.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/tuning.h"
#include "model/model.h"

namespace rooflm::cli {

void warn_if_synthetic(const Model& model) {
  if (!model.config().synthetic) return;
  std::fprintf(stderr, "rooflm: warning: %s has random weights (synthetic, for speed measurements); its text is meaningless\n",
               model.path().c_str());
}

void apply_tune_flag(const std::string& assignments) {
  try {
    apply_kernel_tuning(kernel_tuning(), assignments);
  } catch (const Error& e) {
    fail("--tune: ", e.what());
  }
}

double peak_rss_mb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::string json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void check_threads(int threads, bool allow_zero) {
  if ((threads == 0 && allow_zero) || (threads >= 1 && threads <= ThreadPool::kMaxThreads)) return;
  fail("-t/--threads: expected ", allow_zero ? "0 (all available) or " : "", "1..", ThreadPool::kMaxThreads, ", got ",
       threads);
}

void check_output(const std::string& path, const char* what) {
  if (path.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  if (fs::is_directory(p, ec)) fail(what, " '", path, "': is a directory, expected an output file path");
  fs::path dir = p.parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec)) fail(what, " '", path, "': directory '", dir.string(), "' does not exist");
}

}  // namespace rooflm::cli
