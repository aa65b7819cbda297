#include "roofline/probe.h"

#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/threadpool.h"
#include "roofline/util.h"

namespace rooflm::roofline {

namespace {

// ---------------------------------------------------------------- CPU features

struct Features {
  bool avx2 = false, fma = false, avx512f = false, avx512vnni = false, avx512bf16 = false,
       avx512fp16 = false, amx_tile = false, amx_int8 = false, amx_bf16 = false;
  bool os_zmm = false;  // OS saves ZMM state (XCR0 bits 5-7)
  bool os_ymm = false;
};

uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}

Features detect() {
  Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  bool osxsave = c & (1u << 27);
  f.fma = c & (1u << 12);
  if (osxsave) {
    uint64_t xcr0 = xgetbv0();
    f.os_ymm = (xcr0 & 0x6) == 0x6;
    f.os_zmm = (xcr0 & 0xe6) == 0xe6;
  }
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = (b & (1u << 5)) && f.os_ymm;
  f.avx512f = (b & (1u << 16)) && f.os_zmm;
  f.avx512vnni = (c & (1u << 11)) && f.avx512f;
  f.avx512fp16 = (d & (1u << 23)) && f.avx512f;
  f.amx_bf16 = d & (1u << 22);
  f.amx_tile = d & (1u << 24);
  f.amx_int8 = d & (1u << 25);
  unsigned a1, b1, c1, d1;
  __cpuid_count(7, 1, a1, b1, c1, d1);
  f.avx512bf16 = (a1 & (1u << 5)) && f.avx512f;
  return f;
}

// Linux: AMX tile data must be requested once per process before first use.
bool request_amx_permission(std::string* why) {
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  long rc = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata);
  if (rc != 0) {
    *why = std::string("arch_prctl(ARCH_REQ_XCOMP_PERM) failed: ") + std::strerror(errno);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- kernels
// Each kernel is compiled for its own ISA with a target attribute, so the file builds for
// any x86-64 target and only runs a kernel after the CPUID check above.

__attribute__((target("avx512f"))) uint64_t read_avx512(const uint8_t* p, size_t bytes, int passes) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (int r = 0; r < passes; r++) {
    for (size_t i = 0; i + 256 <= bytes; i += 256) {
      a0 = _mm512_xor_si512(a0, _mm512_load_si512((const void*)(p + i)));
      a1 = _mm512_xor_si512(a1, _mm512_load_si512((const void*)(p + i + 64)));
      a2 = _mm512_xor_si512(a2, _mm512_load_si512((const void*)(p + i + 128)));
      a3 = _mm512_xor_si512(a3, _mm512_load_si512((const void*)(p + i + 192)));
    }
  }
  __m512i s = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
  alignas(64) uint64_t v[8];
  _mm512_store_si512((void*)v, s);
  return v[0] ^ v[7];
}

__attribute__((target("avx2"))) uint64_t read_avx2(const uint8_t* p, size_t bytes, int passes) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (int r = 0; r < passes; r++) {
    for (size_t i = 0; i + 128 <= bytes; i += 128) {
      a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i*)(p + i)));
      a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i*)(p + i + 32)));
      a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i*)(p + i + 64)));
      a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i*)(p + i + 96)));
    }
  }
  __m256i s = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  alignas(32) uint64_t v[4];
  _mm256_store_si256((__m256i*)v, s);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t read_scalar(const uint8_t* p, size_t bytes, int passes) {
  uint64_t a = 0;
  for (int r = 0; r < passes; r++)
    for (size_t i = 0; i + 8 <= bytes; i += 8) {
      uint64_t v;
      std::memcpy(&v, p + i, 8);
      a ^= v;
    }
  return a;
}

}  // namespace

uint64_t read_pass(const uint8_t* p, size_t bytes) {
  static const auto fn = [] {
    const Features f = detect();
    return f.avx512f ? read_avx512 : (f.avx2 ? read_avx2 : read_scalar);
  }();
  return fn(p, bytes, 1);
}

ReadBuffer::ReadBuffer(size_t bytes) : n(bytes) {
  const size_t align = bytes >= (4u << 20) ? (2u << 20) : 64;
  const size_t alloc = (bytes + align - 1) / align * align;
  p = static_cast<uint8_t*>(std::aligned_alloc(align, alloc));
  if (!p) fail("cannot allocate ", bytes, " bytes for a bandwidth test");
  if (bytes >= (4u << 20)) madvise(p, alloc, MADV_HUGEPAGE);
}

ReadBuffer::~ReadBuffer() { std::free(p); }

namespace {

// 12 independent FMA chains hide the 4-cycle latency on two FMA ports. a = a*b + c with
// b slightly below 1 stays bounded (no overflow, no denormals).
constexpr int kChains = 12;

__attribute__((target("avx512f"))) double fma_avx512(int64_t iters) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = _mm512_set1_ps(1.0f + 0.01f * i);
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(0.000001f);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; i++) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kChains; i++) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float v[16];
  _mm512_store_ps(v, s);
  return v[0] + v[15];
}
constexpr double kFmaAvx512Ops = kChains * 16 * 2;

__attribute__((target("avx2,fma"))) double fma_avx2(int64_t iters) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = _mm256_set1_ps(1.0f + 0.01f * i);
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(0.000001f);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; i++) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
  }
  alignas(32) float v[8];
  __m256 s = acc[0];
  for (int i = 1; i < kChains; i++) s = _mm256_add_ps(s, acc[i]);
  _mm256_store_ps(v, s);
  return v[0] + v[7];
}
constexpr double kFmaAvx2Ops = kChains * 8 * 2;

// vpdpbusd: 64 u8 x s8 products summed into 16 int32 lanes = 64 multiply-adds = 128 ops.
__attribute__((target("avx512f,avx512vnni"))) double vnni_avx512(int64_t iters) {
  __m512i acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  }
  __m512i s = acc[0];
  for (int i = 1; i < kChains; i++) s = _mm512_add_epi32(s, acc[i]);
  alignas(64) int32_t v[16];
  _mm512_store_si512((void*)v, s);
  return (double)v[0] + v[15];
}
constexpr double kVnniOps = kChains * 64 * 2;

// vdpbf16ps: 32 bf16 pairs into 16 fp32 lanes = 32 multiply-adds = 64 FLOPs.
__attribute__((target("avx512f,avx512bf16"))) double bf16_avx512(int64_t iters) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = _mm512_setzero_ps();
  // Zero inputs keep the accumulators at zero (timing does not depend on values).
  const __m512bh a = (__m512bh)_mm512_setzero_si512(), b = a;
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kChains; i++) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float v[16];
  _mm512_store_ps(v, s);
  return v[0] + v[15];
}
constexpr double kBf16Ops = kChains * 32 * 2;

// vfmadd231ph: 32 fp16 lanes = 32 multiply-adds = 64 FLOPs.
__attribute__((target("avx512f,avx512fp16"))) double fp16_avx512(int64_t iters) {
  __m512h acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = _mm512_set1_ph((_Float16)(1.0f + 0.01f * i));
  const __m512h b = _mm512_set1_ph((_Float16)0.999f), c = _mm512_set1_ph((_Float16)0.001f);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; i++) acc[i] = _mm512_fmadd_ph(acc[i], b, c);
  }
  __m512h s = acc[0];
  for (int i = 1; i < kChains; i++) s = _mm512_add_ph(s, acc[i]);
  alignas(64) _Float16 v[32];
  _mm512_store_ph(v, s);
  return (double)v[0] + (double)v[31];
}
constexpr double kFp16Ops = kChains * 32 * 2;

// AMX: 8 tiles of 16 rows x 64 bytes; C0..C3 (tmm0-3) += A0/A1 (tmm4-5) x B0/B1 (tmm6-7).
struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

__attribute__((target("amx-tile"))) void amx_configure() {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.palette_id = 1;
  for (int t = 0; t < 8; t++) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
}

// TDPBUSD: M=16, N=16, K=64 (u8 x s8 -> s32) = 16384 multiply-adds = 32768 ops.
__attribute__((target("amx-tile,amx-int8"))) double amx_int8(int64_t iters) {
  alignas(64) static thread_local uint8_t buf[2][16 * 64];
  for (int i = 0; i < 2 * 16 * 64; i++) (&buf[0][0])[i] = (uint8_t)(i * 7 + 1);
  alignas(64) int32_t out[16 * 16];
  amx_configure();
  _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
  _tile_loadd(4, buf[0], 64); _tile_loadd(5, buf[1], 64);
  _tile_loadd(6, buf[1], 64); _tile_loadd(7, buf[0], 64);
  for (int64_t it = 0; it < iters; it++) {
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    _tile_dpbusd(2, 5, 6);
    _tile_dpbusd(3, 5, 7);
  }
  _tile_stored(0, out, 64);
  _tile_release();
  return (double)out[5];
}
constexpr double kAmxInt8Ops = 4 * 16.0 * 16 * 64 * 2;

// TDPBF16PS: M=16, N=16, K=32 (bf16 -> fp32) = 8192 multiply-adds = 16384 FLOPs.
__attribute__((target("amx-tile,amx-bf16"))) double amx_bf16(int64_t iters) {
  alignas(64) static thread_local uint8_t zeros[16 * 64];
  std::memset(zeros, 0, sizeof zeros);
  alignas(64) float out[16 * 16];
  amx_configure();
  _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
  _tile_loadd(4, zeros, 64); _tile_loadd(5, zeros, 64);
  _tile_loadd(6, zeros, 64); _tile_loadd(7, zeros, 64);
  for (int64_t it = 0; it < iters; it++) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, 64);
  _tile_release();
  return (double)out[3];
}
constexpr double kAmxBf16Ops = 4 * 16.0 * 16 * 32 * 2;

// ---------------------------------------------------------------- timing helpers

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::atomic<uint64_t> g_sink{0};  // keeps kernel results alive

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int i = 0; i < CPU_SETSIZE; i++)
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// The probe pins its pool's threads, and thread 0 of a pool is the caller. Without restoring,
// the caller stays pinned to one CPU after the probe, and every thread it starts later inherits
// that: `rooflm bench` measuring the roofs on first use then decoded with all its threads on
// one CPU, 20x slower (15 instead of ~300 tok/s).
class CallerAffinity {
 public:
  CallerAffinity() { saved_ = pthread_getaffinity_np(pthread_self(), sizeof set_, &set_) == 0; }
  ~CallerAffinity() {
    if (saved_) pthread_setaffinity_np(pthread_self(), sizeof set_, &set_);
  }
  CallerAffinity(const CallerAffinity&) = delete;
  CallerAffinity& operator=(const CallerAffinity&) = delete;

 private:
  cpu_set_t set_;
  bool saved_ = false;
};

double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// One timed run on all threads. The machine may be shared (other processes compiling), so
// besides wall time each thread measures its own CPU time: the rate of a thread is its work
// divided by the CPU time it actually got, and the all-threads rate is the sum of those.
struct Run {
  double wall = 0;
  std::vector<double> rate;  // per thread: work units per CPU-second it ran
  double utilization = 0;    // CPU time received / (wall x threads)
};

Run timed_all(ThreadPool& pool, double work_per_thread, const std::function<void(int)>& fn) {
  std::vector<double> cpu(pool.size(), 0.0);
  double t0 = now_s();
  pool.run_on_all([&](int t) {
    double c0 = thread_cpu_s();
    fn(t);
    cpu[t] = thread_cpu_s() - c0;
  });
  Run r;
  r.wall = now_s() - t0;
  double sum = 0;
  for (double c : cpu) {
    sum += c;
    r.rate.push_back(work_per_thread / std::max(c, 1e-9));
  }
  r.utilization = sum / std::max(r.wall * pool.size(), 1e-9);
  return r;
}

struct Measured {
  double rate = 0;  // all threads together
  double median = 0;  // shared: the median run's total rate (what a long run sees), else 0
  double utilization = 1;
};

// Calibrates `param` (iterations or passes) so one run takes about `rep_s` of CPU time, then
// repeats runs until `budget_s` of wall time is spent (at least `min_reps`).
// Private resources (a core's FMA units, its L1/L2): each thread keeps its best rate per
// CPU-second and the result is their sum; on a shared machine a thread is sometimes slowed
// (preempted, or its core's sibling busy), and short repeated runs catch its undisturbed speed.
// Shared resources (L3, DRAM; `shared`): the result is the best run's total work over its wall
// time. Summing per-thread bests would add up runs in which each thread had the memory system
// to itself (the other one descheduled) and report about twice what both get together: that
// is how an earlier probe claimed 28 GB/s of DRAM where a STREAM-like run measured 12-13.
// with_median: report the median concurrent run even for a private set (--working-set asks
// for it at any size, and a set that fits the L2s of one machine misses them on another).
Measured measure(ThreadPool& pool, const std::function<void(int, int64_t)>& run, double work_per_param,
                 double rep_s, double budget_s, int min_reps, bool shared = false, bool with_median = false) {
  int64_t param = 1;
  for (;;) {
    Run r = timed_all(pool, work_per_param * (double)param, [&](int t) { run(t, param); });
    double slowest = *std::min_element(r.rate.begin(), r.rate.end());
    double per_param_s = work_per_param / std::max(slowest, 1e-30);  // CPU s per param
    if (per_param_s * (double)param > rep_s / 8 || param > ((int64_t)1 << 40)) {
      param = std::max<int64_t>(1, (int64_t)(rep_s / per_param_s));
      break;
    }
    param *= 4;
  }
  std::vector<double> best(pool.size(), 0.0);
  double best_concurrent = 0;
  std::vector<double> concurrent;
  double util_sum = 0;
  int reps = 0;
  double t0 = now_s();
  while (reps < min_reps || (now_s() - t0 < budget_s && reps < 1000)) {
    Run r = timed_all(pool, work_per_param * (double)param, [&](int t) { run(t, param); });
    for (size_t i = 0; i < best.size(); i++) best[i] = std::max(best[i], r.rate[i]);
    concurrent.push_back(work_per_param * (double)param * (double)pool.size() / r.wall);
    best_concurrent = std::max(best_concurrent, concurrent.back());
    util_sum += r.utilization;
    reps++;
  }
  Measured m;
  for (double b : best) m.rate += b;
  if (shared) m.rate = best_concurrent;
  if (shared || with_median) {
    std::sort(concurrent.begin(), concurrent.end());
    m.median = concurrent[concurrent.size() / 2];
  }
  m.utilization = util_sum / reps;
  return m;
}


uint64_t parse_size(std::string s) {
  while (!s.empty() && std::isspace((unsigned char)s.back())) s.pop_back();
  if (s.empty()) return 0;
  uint64_t mult = 1;
  char last = s.back();
  if (last == 'K') mult = 1024, s.pop_back();
  else if (last == 'M') mult = 1024 * 1024, s.pop_back();
  else if (last == 'G') mult = 1024ull * 1024 * 1024, s.pop_back();
  try {
    return std::stoull(s) * mult;
  } catch (...) {
    return 0;
  }
}

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

int count_cpu_list(const std::string& list) {
  // "0-1", "0,2,4-5"
  int n = 0;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) {
    size_t dash = part.find('-');
    try {
      if (dash == std::string::npos) n += part.empty() ? 0 : 1;
      else n += std::stoi(part.substr(dash + 1)) - std::stoi(part.substr(0, dash)) + 1;
    } catch (...) {
    }
  }
  return std::max(n, 1);
}

uint64_t mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kb;
  std::string unit;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kb * 1024;
  }
  return 0;
}

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum((unsigned char)c)) out += (char)std::tolower((unsigned char)c);
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "cpu" : out;
}

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string fmt_bytes(uint64_t b) {
  const double KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
  if (b >= GiB) return fmt_num(b / GiB) + " GiB";
  if (b >= MiB) return fmt_num(b / MiB) + " MiB";
  if (b >= KiB) return fmt_num(b / KiB) + " KiB";
  return std::to_string(b) + " B";
}

}  // namespace

// ---------------------------------------------------------------- public

std::vector<CacheLevel> read_cache_levels() {
  std::vector<CacheLevel> out;
  const std::string base = "/sys/devices/system/cpu/cpu0/cache/";
  for (int i = 0; i < 16; i++) {
    std::string dir = base + "index" + std::to_string(i) + "/";
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) break;
    CacheLevel c;
    try {
      c.level = std::stoi(read_line(dir + "level"));
    } catch (...) {
      continue;
    }
    c.type = read_line(dir + "type");
    if (c.type == "Instruction") continue;
    c.size_bytes = parse_size(read_line(dir + "size"));
    c.shared_by = count_cpu_list(read_line(dir + "shared_cpu_list"));
    if (c.size_bytes > 0) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const CacheLevel& a, const CacheLevel& b) { return a.level < b.level; });
  return out;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string v = line.substr(colon + 1);
        size_t b = v.find_first_not_of(" \t");
        return b == std::string::npos ? "unknown CPU" : v.substr(b);
      }
    }
  }
  return "unknown CPU";
}

int available_threads() { return (int)allowed_cpus().size(); }

std::string cpu_cache_key(int threads) {
  unsigned a = 0, b, c, d;
  __get_cpuid(1, &a, &b, &c, &d);
  unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf, stepping = a & 0xf;
  if (family == 0xf) family += (a >> 20) & 0xff;
  if (family == 6 || family >= 0xf) model |= ((a >> 16) & 0xf) << 4;
  std::ostringstream os;
  os << slug(cpu_model_name()) << "-f" << family << "m" << model << "s" << stepping << "-" << threads << "t";
  return os.str();
}

ProbeResult run_probe(const ProbeOptions& opt) {
  const double t_start = now_s();
  auto say = [&](const std::string& s) {
    if (opt.progress) opt.progress(s);
  };
  std::vector<int> cpus = allowed_cpus();
  int threads = opt.threads > 0 ? opt.threads : (int)cpus.size();
  if (threads > 1024) fail("probe threads: ", threads, " is too many");

  ProbeResult r;
  r.cpu_model = cpu_model_name();
  r.threads = threads;
  r.cpu_key = cpu_cache_key(threads);
  r.caches = read_cache_levels();
  r.created = iso_now();
  Features f = detect();

  // AMX permission must be requested before any thread touches tile state.
  std::string amx_why;
  bool amx_ok = f.amx_tile && (f.amx_int8 || f.amx_bf16) && request_amx_permission(&amx_why);

  const CallerAffinity restore_on_return;  // declared before the pool: outlives its pinning
  ThreadPool pool(threads);
  pool.run_on_all([&](int t) { pin_to(cpus[(size_t)t % cpus.size()]); });

  // ---- bandwidth
  auto read_fn = f.avx512f ? read_avx512 : (f.avx2 ? read_avx2 : read_scalar);
  uint64_t l1 = 32 << 10, l2 = 1 << 20, l3 = 0;
  int l2_shared = 1;
  for (const auto& c : r.caches) {
    if (c.level == 1) l1 = c.size_bytes;
    if (c.level == 2) l2 = c.size_bytes, l2_shared = c.shared_by;
    if (c.level == 3) l3 = c.size_bytes;
  }
  struct Level { std::string name; uint64_t total; };
  std::vector<Level> levels;
  // Per-thread working sets: half of a private L1/L2 (room for the stack and code); for L3 a
  // quarter of it in total but at least 4x all L2s; DRAM >= 1 GiB and 4x L3, capped at 2 GiB
  // and a quarter of available memory.
  levels.push_back({"L1", (uint64_t)threads * (l1 / 2)});
  uint64_t l2_per_thread = l2 / std::max(1, std::min(l2_shared, threads)) / 2;
  levels.push_back({"L2", (uint64_t)threads * l2_per_thread});
  uint64_t l2_total = (uint64_t)threads * l2;
  if (l3 > 0) levels.push_back({"L3", std::max<uint64_t>(l3 / 4, 4 * l2_total)});
  uint64_t dram = std::max<uint64_t>(1ull << 30, 4 * std::max<uint64_t>(l3, l2_total));
  dram = std::min<uint64_t>(dram, 2ull << 30);
  uint64_t avail = mem_available();
  if (avail > 0) dram = std::min<uint64_t>(dram, avail / 4);
  if (opt.quick) dram = std::min<uint64_t>(dram, std::max<uint64_t>(256ull << 20, 2 * l3));
  levels.push_back({"DRAM", dram});
  if (opt.max_working_set > 0)
    for (auto& lv : levels) lv.total = std::min<uint64_t>(lv.total, opt.max_working_set);
  if (opt.only_working_set > 0) levels = {{"set", opt.only_working_set}};
  // A set larger than the private caches is shared: timed as all threads together.
  auto shared_level = [&](const Level& lv) { return lv.name == "L3" || lv.name == "DRAM" || (lv.name == "set" && lv.total > l2_total); };
  auto dram_like = [&](const Level& lv) { return lv.name == "DRAM" || (lv.name == "set" && lv.total > l3); };

  // Timing budget: each unit runs repeated short runs for `budget` seconds of wall time.
  const double rep_s = opt.quick ? 0.02 : 0.04;
  const double budget = opt.quick ? 0.15 : 0.9;
  double util_sum = 0;
  int util_n = 0;
  for (const auto& lv : levels) {
    uint64_t per = lv.total / threads / 256 * 256;
    if (per < 4096) continue;
    say("bandwidth " + lv.name + ": " + fmt_bytes(per * threads) + " working set");
    std::vector<std::unique_ptr<ReadBuffer>> bufs(threads);
    pool.run_on_all([&](int t) {
      bufs[t] = std::make_unique<ReadBuffer>(per);
      for (size_t i = 0; i < per; i += 8) {
        uint64_t v = i * 0x9E3779B97F4A7C15ull;
        std::memcpy(bufs[t]->p + i, &v, 8);
      }
    });
    Measured m = measure(
        pool, [&](int t, int64_t passes) { g_sink += read_fn(bufs[t]->p, per, (int)std::min<int64_t>(passes, 1 << 30)); },
        (double)per, rep_s, dram_like(lv) ? budget * 1.5 : budget, dram_like(lv) ? 4 : 5, shared_level(lv),
        lv.name == "set");
    util_sum += m.utilization, util_n++;
    r.bandwidth.push_back({lv.name, per * threads, m.rate, m.median});
  }

  // ---- compute
  auto add = [&](const std::string& name, const std::string& format, double (*k)(int64_t), double ops) {
    say("compute " + name);
    // The result's bits, not its value: a negative or huge double cast to an integer is undefined.
    Measured m = measure(pool, [&](int, int64_t iters) { g_sink += std::bit_cast<uint64_t>(k(iters)); }, ops, rep_s, budget, 5);
    util_sum += m.utilization, util_n++;
    r.compute.push_back({name, format, m.rate});
  };
  if (opt.only_working_set == 0) {  // else bandwidth only
    if (f.avx512f) add("fp32 FMA (AVX-512)", "fp32", fma_avx512, kFmaAvx512Ops);
    else if (f.avx2 && f.fma) add("fp32 FMA (AVX2)", "fp32", fma_avx2, kFmaAvx2Ops);
    else r.notes.push_back("fp32 FMA: no AVX2/FMA or AVX-512 on this CPU");
    if (amx_ok && f.amx_int8) add("AMX int8", "int8", amx_int8, kAmxInt8Ops);
    if (amx_ok && f.amx_bf16) add("AMX bf16", "bf16", amx_bf16, kAmxBf16Ops);
    if (!amx_ok) r.notes.push_back(f.amx_tile ? "AMX: " + amx_why : "AMX: not supported by this CPU");
    if (f.avx512vnni) add("int8 dot (AVX-512 VNNI)", "int8", vnni_avx512, kVnniOps);
    else r.notes.push_back("int8 dot: no AVX-512 VNNI");
    if (f.avx512bf16) add("bf16 dot (AVX512_BF16)", "bf16", bf16_avx512, kBf16Ops);
    else r.notes.push_back("bf16 dot: no AVX512_BF16");
    if (f.avx512fp16) add("fp16 FMA (AVX512_FP16)", "fp16", fp16_avx512, kFp16Ops);
    else r.notes.push_back("fp16 FMA: no AVX512_FP16");
  }

  double util = util_n ? util_sum / util_n : 1;
  if (util < 0.9)
    r.notes.push_back("machine busy: probe threads got " + fmt_num(100 * util, 2) +
                      "% of their CPUs' time; compute, L1 and L2 rates are per CPU-second each thread actually ran, L3 and DRAM are wall-clock rates of all threads together (likely low)");
  r.seconds = now_s() - t_start;
  return r;
}

std::string probe_to_json(const ProbeResult& r) {
  nlohmann::ordered_json j;
  j["format"] = "rooflm-probe";
  j["version"] = r.version;
  j["cpu_model"] = r.cpu_model;
  j["cpu_key"] = r.cpu_key;
  j["threads"] = r.threads;
  j["created"] = r.created;
  j["seconds"] = r.seconds;
  j["caches"] = nlohmann::ordered_json::array();
  for (const auto& c : r.caches)
    j["caches"].push_back({{"level", c.level}, {"type", c.type}, {"size_bytes", c.size_bytes}, {"shared_by", c.shared_by}});
  j["bandwidth"] = nlohmann::ordered_json::array();
  for (const auto& b : r.bandwidth) {
    nlohmann::ordered_json e = {{"level", b.level}, {"working_set_bytes", b.working_set}, {"bytes_per_s", b.bytes_per_s}};
    if (b.median_bytes_per_s > 0) e["median_bytes_per_s"] = b.median_bytes_per_s;
    j["bandwidth"].push_back(e);
  }
  j["compute"] = nlohmann::ordered_json::array();
  for (const auto& c : r.compute)
    j["compute"].push_back({{"name", c.name}, {"format", c.format}, {"ops_per_s", c.ops_per_s}});
  j["notes"] = r.notes;
  return j.dump(2) + "\n";
}

ProbeResult probe_from_json(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("probe result '", origin, "': not valid JSON: ", e.what());
  }
  std::string where = "probe result '" + origin + "'";
  try {
    if (!j.is_object() || j.value("format", "") != "rooflm-probe") fail(where, ": not a rooflm probe result (\"format\" != \"rooflm-probe\")");
    ProbeResult r;
    r.version = j.at("version").get<int>();
    if (r.version != 1) fail(where, ": unsupported version ", r.version, " (expected 1)");
    r.cpu_model = j.at("cpu_model").get<std::string>();
    r.cpu_key = j.at("cpu_key").get<std::string>();
    r.threads = j.at("threads").get<int>();
    r.created = j.value("created", "");
    r.seconds = j.value("seconds", 0.0);
    for (const auto& c : j.at("caches"))
      r.caches.push_back({c.at("level").get<int>(), c.at("type").get<std::string>(), c.at("size_bytes").get<uint64_t>(),
                          c.at("shared_by").get<int>()});
    for (const auto& b : j.at("bandwidth"))
      r.bandwidth.push_back({b.at("level").get<std::string>(), b.at("working_set_bytes").get<uint64_t>(),
                             b.at("bytes_per_s").get<double>(), b.value("median_bytes_per_s", 0.0)});
    for (const auto& c : j.at("compute"))
      r.compute.push_back({c.at("name").get<std::string>(), c.at("format").get<std::string>(), c.at("ops_per_s").get<double>()});
    if (j.contains("notes")) r.notes = j["notes"].get<std::vector<std::string>>();
    if (r.bandwidth.empty() || r.compute.empty()) fail(where, ": has no bandwidth or no compute measurements");
    for (const auto& b : r.bandwidth)
      if (!(b.bytes_per_s > 0)) fail(where, ": bandwidth ", b.level, " is not positive");
    for (const auto& c : r.compute)
      if (!(c.ops_per_s > 0)) fail(where, ": compute ", c.name, " is not positive");
    return r;
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": missing or mistyped field: ", e.what());
  }
}

std::string probe_cache_dir() {
  if (const char* d = std::getenv("ROOFLM_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/rooflm";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/rooflm";
  return "/tmp/rooflm-cache";
}

// "probe2": L3/DRAM are wall-clock rates of all threads together since this version;
// caches written by the earlier method (summed per-thread bests) are not reused.
static std::string cache_file(const std::string& cpu_key) { return probe_cache_dir() + "/probe2-" + cpu_key + ".json"; }

std::string probe_cache_path(int threads) {
  if (threads <= 0) threads = available_threads();
  return cache_file(cpu_cache_key(threads));
}

std::optional<ProbeResult> load_probe_cache(int threads) {
  std::string path = probe_cache_path(threads);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  return probe_from_json(read_file(path, "probe cache"), path);
}

std::string save_probe_cache(const ProbeResult& r) {
  std::string dir = probe_cache_dir();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("probe cache directory '", dir, "': cannot create: ", ec.message());
  std::string path = cache_file(r.cpu_key);
  write_file_atomic(path, probe_to_json(r), "probe cache");
  return path;
}

HardwareSpec hardware_from_probe(const ProbeResult& r) {
  HardwareSpec hw;
  hw.name = "host";
  hw.description = r.cpu_model + ", " + std::to_string(r.threads) + " threads (measured)";
  hw.source = "rooflm probe, " + r.created;
  // Main memory first (the prediction roof), then the caches, slowest to fastest.
  for (auto it = r.bandwidth.rbegin(); it != r.bandwidth.rend(); ++it) hw.bandwidth.push_back({it->level, it->bytes_per_s});
  for (const auto& c : r.compute) hw.compute.push_back({c.name, c.format, c.ops_per_s});
  for (const auto& c : r.caches)
    if (c.level == 3 || (hw.on_chip_bytes == 0 && c.level == 2)) hw.on_chip_bytes = (double)c.size_bytes;
  hw.validate("probe result for " + r.cpu_key);
  return hw;
}

ProbeResult host_probe(int threads) {
  if (auto cached = load_probe_cache(threads)) return *cached;
  std::cerr << "rooflm: no probe result cached for this CPU; measuring it now (rooflm probe)...\n";
  ProbeOptions opt;
  opt.threads = threads;
  ProbeResult r = run_probe(opt);
  std::string path = save_probe_cache(r);
  std::cerr << "rooflm: probe cached in " << path << "\n";
  return r;
}

HardwareSpec host_hardware() { return hardware_from_probe(host_probe()); }

std::string format_probe_table(const ProbeResult& r) {
  std::ostringstream os;
  os << "rooflm probe: " << r.cpu_model << ", " << r.threads << " thread" << (r.threads == 1 ? "" : "s");
  if (r.seconds > 0) os << " (" << fmt_num(r.seconds, 3) << " s)";
  os << "\n";
  if (!r.caches.empty()) {
    os << "caches:";
    for (const auto& c : r.caches)
      os << "  L" << c.level << (c.type == "Data" ? "d" : "") << " " << fmt_bytes(c.size_bytes)
         << (c.shared_by > 1 ? " (shared by " + std::to_string(c.shared_by) + " CPUs)" : "/CPU");
    os << "\n";
  }
  char line[256];
  os << "\n";
  std::snprintf(line, sizeof line, "%-8s %14s %16s %16s\n", "level", "working set", "read bandwidth", "median run");
  os << line;
  for (const auto& b : r.bandwidth) {
    std::snprintf(line, sizeof line, "%-8s %14s %16s %16s\n", b.level.c_str(), fmt_bytes(b.working_set).c_str(),
                  fmt_bandwidth(b.bytes_per_s).c_str(), b.median_bytes_per_s > 0 ? fmt_bandwidth(b.median_bytes_per_s).c_str() : "");
    os << line;
  }
  double dram = r.bandwidth.empty() ? 0 : r.bandwidth.back().bytes_per_s;
  if (!r.compute.empty()) {
    os << "\n";
    std::snprintf(line, sizeof line, "%-26s %-6s %16s %18s\n", "compute unit", "format", "peak", "ridge vs DRAM");
    os << line;
  }
  for (const auto& c : r.compute) {
    std::string unit = c.format == "int8" ? "OP" : "FLOP";
    std::string ridge = dram > 0 ? fmt_num(c.ops_per_s / dram) + " " + unit + "/B" : "-";
    std::snprintf(line, sizeof line, "%-26s %-6s %16s %18s\n", c.name.c_str(), c.format.c_str(),
                  fmt_flops(c.ops_per_s, unit).c_str(), ridge.c_str());
    os << line;
  }
  for (const auto& n : r.notes) os << "note: " << n << "\n";
  return os.str();
}

}  // namespace rooflm::roofline
