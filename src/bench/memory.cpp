#include "bench/memory.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace rooflm::bench {

bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return (bool)f;
}

double peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmHWM:") {
      double kib = 0;
      if (f >> kib) return kib / 1024.0;
      break;
    }
    f.ignore(1 << 16, '\n');
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);  // no /proc: the lifetime peak, in KiB on Linux
  return (double)ru.ru_maxrss / 1024.0;
}

}  // namespace rooflm::bench
