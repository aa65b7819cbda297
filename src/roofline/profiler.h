// Per-kernel profiler: the forward pass records, from the main thread and around each
// parallel kernel, the op class, FLOPs, compulsory bytes and elapsed nanoseconds. Records are
// summed per (phase, op class); `rooflm roofline --profile FILE.json` places the sums on the
// host roofline.
//
// Cost: off by default; when off, record() is one relaxed atomic load and a branch. When on,
// record() adds into a fixed table indexed by [phase id][op class] (no allocation, no lock).
// set_phase() looks the name up among at most kMaxPhases names (it allocates only the first
// time a phase name is seen); call it once per forward pass, not per kernel.
//
// Threading: single-threaded callers only (record/set_phase/reset/snapshot from one thread).
//
// Bytes to pass to record(): the compulsory bytes of the kernel call, i.e. weights as stored
// (including quantization scales/mins) + activations read + activations written + KV-cache
// entries read or written, each counted once. This matches the analytic model
// (roofline/model.h), so measured and analytic points are comparable.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rooflm::prof {

enum class OpClass { qkv, o, up_gate_down, qk_pv, lm_head, other };
constexpr int kNumOpClasses = 6;
constexpr int kMaxPhases = 64;  // distinct phase names; further names fold into "overflow"

// "qkv", "o", "up/gate/down", "qk/pv", "lm_head", "other".
const char* op_name(OpClass c);
// Inverse of op_name (also accepts "up_gate_down", "qk_pv"); throws rooflm::Error naming
// `what` and listing the valid names.
OpClass op_from_name(const std::string& name, const char* what = "op class");
const std::vector<OpClass>& all_op_classes();

void enable(bool on);
bool enabled();

// Current phase for subsequent records: "init", "ar", "tree:N", "draft" (any non-empty name
// is accepted; an empty one becomes "unknown"). The default phase is "unknown".
void set_phase(std::string phase);
const std::string& phase();

void record(OpClass c, double flops, double bytes, uint64_t ns);
uint64_t now_ns();  // monotonic clock (steady_clock), nanoseconds

struct Aggregate {
  std::string phase;
  OpClass op;
  double flops, bytes;
  uint64_t ns;
  uint64_t calls;
};
// Non-empty (calls > 0) sums, phases in first-seen order, op classes in enum order.
std::vector<Aggregate> snapshot();
// Clears all sums and phase names (the current phase name is kept).
void reset();

// Writes {"format": "rooflm-profile", "version": 1, "aggregates": [{phase, op, flops, bytes,
// ns, calls}, ...], <extra fields>} atomically (temp file + rename). `extra_json_fields` is
// inserted verbatim as further top-level members, e.g. "\"model\": \"gpt2\", \"threads\": 2";
// it must make the document valid JSON, else rooflm::Error is thrown and nothing is written.
void write_json(const std::string& path, const std::string& extra_json_fields = "");

// Parses what write_json wrote (used by the chart command and tests). Throws rooflm::Error
// naming `origin` and the offending field.
std::vector<Aggregate> parse_profile_json(const std::string& text, const std::string& origin);

// RAII helper: records the time between construction and destruction.
//   { prof::Scope s(prof::OpClass::qkv, flops, bytes); run_kernel(...); }
class Scope {
 public:
  Scope(OpClass c, double flops, double bytes)
      : c_(c), flops_(flops), bytes_(bytes), t0_(enabled() ? now_ns() : 0) {}
  ~Scope() {
    if (t0_) record(c_, flops_, bytes_, now_ns() - t0_);
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  OpClass c_;
  double flops_, bytes_;
  uint64_t t0_;
};

}  // namespace rooflm::prof
