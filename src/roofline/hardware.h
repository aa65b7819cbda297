// Hardware descriptions for the roofline: bandwidth roofs (main memory first, then optional
// faster levels such as L2/L3) and compute roofs (peak operations per second per number
// format). Built-in GPU presets, the measured `host` preset (from `rooflm probe`), and
// user-defined hardware from a small JSON file.
//
// User hardware JSON (`--hw path.json`); unknown keys are rejected so typos do not pass:
//   {
//     "name": "my-gpu",                              required, non-empty string
//     "description": "free text",                    optional
//     "source": "where the numbers come from",       optional
//     "bandwidth": [                                 required, at least one; the FIRST entry is
//       {"name": "HBM", "gb_per_s": 1935},           main memory (used for predictions/ridge);
//       {"name": "L2", "bytes_per_s": 5.5e12}        each entry: "name" + exactly one of
//     ],                                             "gb_per_s" | "bytes_per_s" (> 0)
//     "compute": [                                   required, at least one; the FIRST entry is
//       {"name": "fp16 tensor", "format": "fp16",    the default compute roof; "format" is the
//        "tflop_per_s": 312},                        number format it applies to (fp32, fp16,
//       {"name": "int8 tensor", "format": "int8",    bf16, tf32, fp8, int8, ...); rate: exactly
//        "tflop_per_s": 624}                         one of "tflop_per_s" | "gflop_per_s" |
//     ],                                             "flop_per_s" (> 0; for int8 read OP/s)
//     "on_chip_mib": 40,                             optional, on-chip memory (L2/SRAM) in MiB
//     "memory_gib": 80                               optional, device memory in GiB
//   }
#pragma once
#include <string>
#include <vector>

namespace rooflm::roofline {

struct BandwidthRoof {
  std::string name;    // "HBM2e", "GDDR6X", "DRAM", "L3", "L2", "L1"
  double bytes_per_s;
};

struct ComputeRoof {
  std::string name;    // "fp16 tensor", "fp32 FMA (AVX-512)", "AMX int8", ...
  std::string format;  // "fp16", "bf16", "fp32", "tf32", "int8", "fp8"
  double ops_per_s;    // FLOP/s (or OP/s for integer formats); a multiply-add counts 2
};

struct HardwareSpec {
  std::string name, description, source;
  std::vector<BandwidthRoof> bandwidth;  // [0] = main memory
  std::vector<ComputeRoof> compute;      // [0] = default compute roof
  double on_chip_bytes = 0;              // L2 (GPU) or last-level cache (CPU); 0 = unknown
  double memory_bytes = 0;               // device/main memory capacity; 0 = unknown

  const BandwidthRoof& memory() const { return bandwidth.at(0); }
  const ComputeRoof& primary() const { return compute.at(0); }
  // Ridge point (FLOP/B) of a compute roof against main memory.
  double ridge(const ComputeRoof& c) const { return c.ops_per_s / memory().bytes_per_s; }
  double ridge() const { return ridge(primary()); }
  // Compute roof by exact name, else by format (first match); nullptr if none (case-insensitive).
  const ComputeRoof* find_compute(const std::string& name_or_format) const;
  // Throws rooflm::Error naming `origin` when a roof is missing, unnamed or not positive.
  void validate(const std::string& origin) const;
};

// Names of the built-in presets, "host" last.
std::vector<std::string> hardware_preset_names();
// A built-in preset by name (case-insensitive). "host" loads the probe cache for this CPU or
// runs the probe (~20 s) and caches it. Throws Error listing the valid names otherwise.
HardwareSpec hardware_preset(const std::string& name);
// Parses the JSON format above; `origin` names the file in errors.
HardwareSpec hardware_from_json(const std::string& json_text, const std::string& origin);
HardwareSpec hardware_from_json_file(const std::string& path);
// `--hw` argument: a preset name, or a path to a JSON file (anything ending in .json or
// containing '/'). Errors name `what` (e.g. "--hw").
HardwareSpec resolve_hardware(const std::string& arg, const std::string& what = "hardware");

// Picks the compute roof analytic predictions use: `override_name` if non-empty (by name or
// format; Error naming `what` if absent), else for fp32 weights a roof with format fp32 if
// the hardware has one, else primary().
const ComputeRoof& select_compute(const HardwareSpec& hw, const std::string& weight_format,
                                  const std::string& override_name, const std::string& what = "compute roof");

}  // namespace rooflm::roofline
