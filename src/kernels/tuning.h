// Run-time kernel tunables: the thresholds and distances the kernels were tuned with (the
// measurements are beside the code that uses each one). They are plain globals read once per
// kernel call, so a harness can switch them between two decode steps in one process and
// compare the steps in pairs (bench/ab/ab_step.cpp): on a shared machine two separate runs
// differ by more than the effects being measured.
//
// Not thread-safe to change while a forward is running; change them between forwards.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rooflm {

struct KernelTuning {
  // AVX-512 quantized matmul: software prefetch distance in row groups (into L2); 0 turns
  // the software prefetch off. Zen 4: see src/kernels/matmul_avx512.cpp.
  int64_t pf_dist = 1;
  // ... for the first this many bytes of each thread's share of a matrix only: on AMD Zen 4
  // the hardware prefetcher then follows the stream, and further software prefetches only
  // compete with it for miss buffers. The default is 1 MiB on AMD CPUs and no limit on others
  // (kernel_tuning()). See src/kernels/matmul_avx512.cpp.
  int64_t pf_max_bytes = 1 << 20;
  // Quantized GEMVs reading fewer weight bytes than this run on the calling thread alone.
  int64_t matmul_min_parallel_bytes = 32 << 10;
  // Attention splits its work units (a node x query heads of one KV head) across threads
  // from this many multiply-adds on.
  int64_t attn_min_parallel_macs = 1 << 16;
  // 1: while the caller runs an attention alone, the other threads prefetch the weights of
  // the o projection and the feed-forward's first matmul; 0: they wait. See session.cpp.
  int64_t attn_overlap_prefetch = 1;
  // AMX: up to this many 16-token tiles, each block's B tile is unpacked just before its
  // product into a ring that stays in L1; with more tiles, a row group is unpacked once
  // ahead of them all. See src/kernels/amx_matmul.cpp.
  int64_t amx_jit_max_tiles = 2;
  // AMX tiles from this many tokens on, and for a last partial tile of at least this many
  // (fewer go to the AVX-512 VNNI kernels; same results). See amx_min_tokens().
  int64_t amx_min_tokens = 9;
  // The AMX kernel prefetches the row group this many groups ahead into L2 while it computes
  // one (0: no software prefetch).
  int64_t amx_prefetch = 1;
};

// The process-wide settings (defaults above).
KernelTuning& kernel_tuning();

// By name, for harnesses and command lines: the names are the field names above.
std::vector<std::string> kernel_tuning_names();
// Sets one field; throws Error naming `name` when it is unknown or `value` is negative.
void set_kernel_tuning(KernelTuning& t, const std::string& name, int64_t value);
int64_t get_kernel_tuning(const KernelTuning& t, const std::string& name);
// Applies "name=value,name=value" (an empty string changes nothing); Error on bad syntax.
void apply_kernel_tuning(KernelTuning& t, const std::string& assignments);

}  // namespace rooflm
