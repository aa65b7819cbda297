// Peak resident memory of this process, per benchmark run: Linux keeps a high-water mark
// (VmHWM) that writing "5" to /proc/self/clear_refs resets, so each run's peak is its own
// rather than the largest of everything before it.
#pragma once

namespace rooflm::bench {

// Starts a new measurement; false when the kernel does not allow the reset (then
// peak_rss_mb() keeps reporting the process-lifetime peak).
bool reset_peak_rss();
// Peak resident set in MB (MiB) since the last reset (or process start).
double peak_rss_mb();

}  // namespace rooflm::bench
