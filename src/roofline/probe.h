// `rooflm probe`: measures this machine's roofs with all threads in well under 30 s:
//  - read bandwidth at working sets sized from the cache hierarchy in
//    /sys/devices/system/cpu/cpu0/cache (L1, L2, L3, and DRAM with >= 1 GiB, well past L3);
//  - peak compute: fp32 FMA (AVX-512, else AVX2), int8 dot (AVX-512 VNNI vpdpbusd),
//    bf16 dot (AVX512_BF16 vdpbf16ps), fp16 FMA (AVX512_FP16), AMX int8 (TDPBUSD) and
//    AMX bf16 (TDPBF16PS) where the CPU and kernel allow them.
// Results are cached per CPU model and thread count under $ROOFLM_CACHE_DIR, else
// $XDG_CACHE_HOME/rooflm, else ~/.cache/rooflm (atomic write). The `host` hardware preset is
// built from that cache (or runs the probe once when there is none).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "roofline/hardware.h"

namespace rooflm::roofline {

struct CacheLevel {
  int level = 0;          // 1, 2, 3
  std::string type;       // "Data", "Unified"
  uint64_t size_bytes = 0;
  int shared_by = 1;      // number of CPUs sharing one instance
};

struct BandwidthMeasurement {
  std::string level;            // "L1", "L2", "L3", "DRAM"
  uint64_t working_set = 0;     // bytes, all threads together
  double bytes_per_s = 0;       // read bandwidth, all threads together (best repetition)
  // L3/DRAM and any --working-set: the median repetition (0 when not measured). On a shared host the best 40 ms
  // catches a quiet moment of the memory system; the median is what a sustained run sees.
  double median_bytes_per_s = 0;
};

struct ComputeMeasurement {
  std::string name;    // "fp32 FMA (AVX-512)", "AMX int8", ...
  std::string format;  // "fp32", "int8", "bf16", "fp16"
  double ops_per_s = 0;  // multiply-add = 2 ops; all threads together
};

struct ProbeResult {
  int version = 1;
  std::string cpu_model;  // /proc/cpuinfo "model name"
  std::string cpu_key;    // cache key: model + family/model/stepping + threads
  int threads = 0;
  std::vector<CacheLevel> caches;
  std::vector<BandwidthMeasurement> bandwidth;  // fastest level first as measured
  std::vector<ComputeMeasurement> compute;      // fp32 first
  std::vector<std::string> notes;               // units skipped and why
  double seconds = 0;                           // probe wall time
  std::string created;                          // UTC ISO-8601
};

struct ProbeOptions {
  int threads = 0;       // 0 = all CPUs this process may run on
  bool quick = false;    // shorter timings (tests / CI): less accurate, ~3 s
  uint64_t max_working_set = 0;  // cap on any level's working set in bytes (0 = none; tests)
  // > 0: measure only the read bandwidth at this working set (all threads together), as one
  // level named "set", and no compute: the roof for data of a known size, such as a model's
  // weights, measured next to the run it is compared with.
  uint64_t only_working_set = 0;
  std::function<void(const std::string&)> progress;  // optional progress lines
};

ProbeResult run_probe(const ProbeOptions& opt = {});

// One pass of the probe's read-bandwidth kernel (the widest this CPU runs) over
// [p, p + bytes); bytes a multiple of 256, p 64-byte aligned. Returns a value derived from the
// data so the reads cannot be elided. For harnesses that time a read of a known size next to
// the work it is compared with (bench/ab/ab_step.cpp --b-read).
uint64_t read_pass(const uint8_t* p, size_t bytes);

// A buffer for read_pass: 64-byte aligned, and from 4 MiB on 2 MiB-aligned and advised for
// transparent huge pages (as the weights are). Not initialized: the thread that will read it
// should write it first, so its pages come from that thread's memory node.
struct ReadBuffer {
  uint8_t* p = nullptr;
  size_t n = 0;
  explicit ReadBuffer(size_t bytes);  // Error when the memory is not available
  ~ReadBuffer();
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;
};

std::string cpu_model_name();
std::string cpu_cache_key(int threads);
int available_threads();
// Cache hierarchy of cpu0 from sysfs (empty if unavailable).
std::vector<CacheLevel> read_cache_levels();

std::string probe_to_json(const ProbeResult& r);
ProbeResult probe_from_json(const std::string& text, const std::string& origin);

std::string probe_cache_dir();
std::string probe_cache_path(int threads = 0);  // 0 = available_threads()
// nullopt when there is no cache file; a corrupt cache file is reported as Error.
std::optional<ProbeResult> load_probe_cache(int threads = 0);
// Writes the cache atomically; returns the path written.
std::string save_probe_cache(const ProbeResult& r);

HardwareSpec hardware_from_probe(const ProbeResult& r);
// This CPU's probe result with `threads` threads (0 = all available): the cached one, or run
// the probe (and cache it).
ProbeResult host_probe(int threads = 0);
// The `host` preset: hardware_from_probe(host_probe()).
HardwareSpec host_hardware();

std::string format_probe_table(const ProbeResult& r);

}  // namespace rooflm::roofline
