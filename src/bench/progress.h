// Benchmark progress on stderr: a bar redrawn in place when stderr is a terminal, plain
// lines otherwise (logs and CI keep one readable line per run instead of carriage returns).
#pragma once
#include <chrono>
#include <cstdio>

#include "bench/record.h"

namespace rooflm::bench {

class Progress {
 public:
  Progress(std::FILE* out, bool tty);
  void warmup(const RunRecord& r);
  void update(size_t done, size_t total, const RunRecord& r);
  void finish();  // ends the bar's line

 private:
  std::FILE* out_;
  bool tty_;
  bool open_line_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace rooflm::bench
