#include "bench/progress.h"

#include <string>

namespace rooflm::bench {

Progress::Progress(std::FILE* out, bool tty) : out_(out), tty_(tty), start_(std::chrono::steady_clock::now()) {}

void Progress::warmup(const RunRecord& r) {
  if (tty_) {
    std::fprintf(out_, "\r\033[Kwarm-up: %s %.1f tok/s", r.mode.c_str(), r.decode_tok_s());
    open_line_ = true;
  } else {
    std::fprintf(out_, "bench: warm-up %s: %.1f tok/s\n", r.mode.c_str(), r.decode_tok_s());
  }
  std::fflush(out_);
}

void Progress::update(size_t done, size_t total, const RunRecord& r) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = done ? elapsed * (double)(total - done) / (double)done : 0.0;
  if (tty_) {
    constexpr int kWidth = 24;
    const int filled = total ? (int)(kWidth * done / total) : kWidth;
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::fprintf(out_, "\r\033[K[%s] %zu/%zu  %s %s %.1f tok/s  (eta %.0f s)", bar.c_str(), done, total,
                 r.prompt_id.c_str(), r.mode.c_str(), r.decode_tok_s(), eta);
    open_line_ = true;
  } else {
    std::fprintf(out_, "bench: %zu/%zu %s %s: %zu tokens, %.1f tok/s\n", done, total, r.prompt_id.c_str(), r.mode.c_str(),
                 r.tokens.size(), r.decode_tok_s());
  }
  std::fflush(out_);
}

void Progress::finish() {
  if (open_line_) std::fputs("\n", out_);
  open_line_ = false;
  std::fflush(out_);
}

}  // namespace rooflm::bench
