#include "kernels/tuning.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "core/error.h"

namespace rooflm {

namespace {
struct Field {
  const char* name;
  int64_t KernelTuning::*member;
};
constexpr Field kFields[] = {
    {"pf_dist", &KernelTuning::pf_dist},
    {"pf_max_bytes", &KernelTuning::pf_max_bytes},
    {"matmul_min_parallel_bytes", &KernelTuning::matmul_min_parallel_bytes},
    {"attn_min_parallel_macs", &KernelTuning::attn_min_parallel_macs},
    {"attn_overlap_prefetch", &KernelTuning::attn_overlap_prefetch},
    {"amx_jit_max_tiles", &KernelTuning::amx_jit_max_tiles},
    {"amx_min_tokens", &KernelTuning::amx_min_tokens},
    {"amx_prefetch", &KernelTuning::amx_prefetch},
};

int64_t KernelTuning::*member_of(const std::string& name) {
  for (const Field& f : kFields)
    if (name == f.name) return f.member;
  std::string known;
  for (const Field& f : kFields) known += std::string(known.empty() ? "" : ", ") + f.name;
  fail("kernel tuning: unknown setting '", name, "' (expected one of: ", known, ")");
}
}  // namespace

KernelTuning& kernel_tuning() {
  static KernelTuning t = [] {
    KernelTuning d;
    // Intel's hardware prefetchers do not keep a long share streaming from DRAM; AMD's do,
    // and there the software prefetches only compete with them (BENCHMARKS.md).
    __builtin_cpu_init();
    if (!__builtin_cpu_is("amd")) d.pf_max_bytes = INT64_MAX;
    return d;
  }();
  return t;
}

std::vector<std::string> kernel_tuning_names() {
  std::vector<std::string> v;
  for (const Field& f : kFields) v.emplace_back(f.name);
  return v;
}

void set_kernel_tuning(KernelTuning& t, const std::string& name, int64_t value) {
  int64_t KernelTuning::*m = member_of(name);
  if (value < 0) fail("kernel tuning: ", name, " must be >= 0, got ", value);
  t.*m = value;
}

int64_t get_kernel_tuning(const KernelTuning& t, const std::string& name) { return t.*member_of(name); }

void apply_kernel_tuning(KernelTuning& t, const std::string& assignments) {
  size_t pos = 0;
  while (pos < assignments.size()) {
    size_t end = assignments.find(',', pos);
    if (end == std::string::npos) end = assignments.size();
    const std::string item = assignments.substr(pos, end - pos);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      fail("kernel tuning: expected name=value, got '", item, "'");
    const std::string name = item.substr(0, eq), num = item.substr(eq + 1);
    char* stop = nullptr;
    errno = 0;
    const long long v = std::strtoll(num.c_str(), &stop, 10);
    if (!stop || *stop != '\0' || errno == ERANGE) fail("kernel tuning: ", name, ": expected an integer, got '", num, "'");
    set_kernel_tuning(t, name, v);
    pos = end + 1;
  }
}

}  // namespace rooflm
