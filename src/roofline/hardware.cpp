#include "roofline/hardware.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "roofline/probe.h"
#include "roofline/util.h"

namespace rooflm::roofline {

namespace {

constexpr double GB = 1e9, TF = 1e12, MiB = 1024.0 * 1024.0, GiB = 1024.0 * MiB;

// Dense (no structured sparsity) peak rates. Tensor-core rates for fp16/bf16 assume fp32
// accumulation unless the roof's name says otherwise. on_chip_bytes is the L2 cache.
std::vector<HardwareSpec> make_presets() {
  std::vector<HardwareSpec> v;
  // NVIDIA Ada Lovelace GPU architecture whitepaper (v1.1), appendix table "GeForce RTX 4090":
  // 1008 GB/s GDDR6X; FP32 82.6 TFLOPS; FP16 tensor 165.2 (FP32 acc) / 330.3 (FP16 acc)
  // TFLOPS dense; INT8 tensor 660.6 TOPS dense; 72 MB L2; 24 GB.
  v.push_back({"rtx4090", "NVIDIA GeForce RTX 4090 (Ada, 24 GB GDDR6X)",
               "NVIDIA Ada Lovelace architecture whitepaper, appendix A (dense rates)",
               {{"GDDR6X", 1008 * GB}},
               {{"fp16 tensor (fp32 acc)", "fp16", 165.2 * TF},
                {"fp16 tensor (fp16 acc)", "fp16-acc16", 330.3 * TF},
                {"int8 tensor", "int8", 660.6 * TF},
                {"fp32", "fp32", 82.6 * TF}},
               72 * MiB, 24 * GiB});
  // NVIDIA A100 Tensor Core GPU datasheet: FP32 19.5 TFLOPS, TF32 156, FP16/BF16 tensor 312
  // TFLOPS, INT8 624 TOPS (dense); 40 MB L2. Bandwidth: 40GB (SXM/PCIe) 1,555 GB/s,
  // 80GB PCIe 1,935 GB/s, 80GB SXM 2,039 GB/s.
  auto a100 = [&](const char* name, const char* desc, double bw, double mem) {
    v.push_back({name, desc, "NVIDIA A100 Tensor Core GPU datasheet (dense rates)",
                 {{"HBM2e", bw}},
                 {{"fp16 tensor", "fp16", 312 * TF},
                  {"int8 tensor", "int8", 624 * TF},
                  {"tf32 tensor", "tf32", 156 * TF},
                  {"fp32", "fp32", 19.5 * TF}},
                 40 * MiB, mem});
  };
  a100("a100-40gb", "NVIDIA A100 40GB (HBM2, 1,555 GB/s)", 1555 * GB, 40 * GiB);
  a100("a100-80gb-pcie", "NVIDIA A100 80GB PCIe", 1935 * GB, 80 * GiB);
  a100("a100-80gb-sxm", "NVIDIA A100 80GB SXM", 2039 * GB, 80 * GiB);
  // NVIDIA A40 datasheet: 696 GB/s GDDR6; FP32 37.4 TFLOPS; TF32 74.8; BF16/FP16 tensor
  // 149.7 TFLOPS; INT8 299.3 TOPS (dense); 6 MB L2 (GA102); 48 GB.
  v.push_back({"a40", "NVIDIA A40 (48 GB GDDR6)", "NVIDIA A40 datasheet (dense rates)",
               {{"GDDR6", 696 * GB}},
               {{"fp16 tensor", "fp16", 149.7 * TF},
                {"int8 tensor", "int8", 299.3 * TF},
                {"tf32 tensor", "tf32", 74.8 * TF},
                {"fp32", "fp32", 37.4 * TF}},
               6 * MiB, 48 * GiB});
  // NVIDIA Ampere GA102 whitepaper, "RTX A6000": 768 GB/s GDDR6; FP32 38.7 TFLOPS; FP16 tensor
  // (FP32 acc) 154.8 TFLOPS; INT8 tensor 309.7 TOPS (dense); 6 MB L2; 48 GB.
  v.push_back({"a6000", "NVIDIA RTX A6000 (48 GB GDDR6)", "NVIDIA Ampere GA102 whitepaper (dense rates)",
               {{"GDDR6", 768 * GB}},
               {{"fp16 tensor", "fp16", 154.8 * TF},
                {"int8 tensor", "int8", 309.7 * TF},
                {"fp32", "fp32", 38.7 * TF}},
               6 * MiB, 48 * GiB});
  // NVIDIA L40S datasheet: 864 GB/s GDDR6; FP32 91.6 TFLOPS; TF32 183; BF16/FP16 tensor 362.05;
  // FP8 733; INT8 733 TOPS (dense, half the "with sparsity" figures); 96 MB L2; 48 GB.
  v.push_back({"l40s", "NVIDIA L40S (48 GB GDDR6)", "NVIDIA L40S datasheet (dense = sparse / 2)",
               {{"GDDR6", 864 * GB}},
               {{"fp16 tensor", "fp16", 362.05 * TF},
                {"fp8 tensor", "fp8", 733 * TF},
                {"int8 tensor", "int8", 733 * TF},
                {"fp32", "fp32", 91.6 * TF}},
               96 * MiB, 48 * GiB});
  // NVIDIA H100 Tensor Core GPU datasheet: PCIe: 2 TB/s HBM2e, FP32 51 TFLOPS, FP16/BF16
  // tensor 756, FP8 1,513, INT8 1,513 TOPS; SXM: 3.35 TB/s HBM3, FP32 67, FP16/BF16 989.5,
  // FP8/INT8 1,979 (dense = sparse / 2); 50 MB L2; 80 GB.
  v.push_back({"h100-pcie", "NVIDIA H100 PCIe 80GB", "NVIDIA H100 datasheet (dense = sparse / 2)",
               {{"HBM2e", 2000 * GB}},
               {{"fp16 tensor", "fp16", 756 * TF},
                {"fp8 tensor", "fp8", 1513 * TF},
                {"int8 tensor", "int8", 1513 * TF},
                {"fp32", "fp32", 51.2 * TF}},
               50 * MiB, 80 * GiB});
  v.push_back({"h100-sxm", "NVIDIA H100 SXM 80GB", "NVIDIA H100 datasheet (dense = sparse / 2)",
               {{"HBM3", 3350 * GB}},
               {{"fp16 tensor", "fp16", 989.5 * TF},
                {"fp8 tensor", "fp8", 1979 * TF},
                {"int8 tensor", "int8", 1979 * TF},
                {"fp32", "fp32", 66.9 * TF}},
               50 * MiB, 80 * GiB});
  // NVIDIA H200 datasheet (SXM): 4.8 TB/s HBM3e, 141 GB; compute as H100 SXM (FP16 989.5,
  // FP8/INT8 1,979 dense, FP32 67 TFLOPS); 50 MB L2.
  v.push_back({"h200", "NVIDIA H200 SXM 141GB", "NVIDIA H200 datasheet (dense = sparse / 2)",
               {{"HBM3e", 4800 * GB}},
               {{"fp16 tensor", "fp16", 989.5 * TF},
                {"fp8 tensor", "fp8", 1979 * TF},
                {"int8 tensor", "int8", 1979 * TF},
                {"fp32", "fp32", 66.9 * TF}},
               50 * MiB, 141e9});
  return v;
}

const std::vector<HardwareSpec>& presets() {
  static const std::vector<HardwareSpec> p = make_presets();
  return p;
}

std::string joined_names() {
  std::string s;
  for (const auto& n : hardware_preset_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

const ComputeRoof* HardwareSpec::find_compute(const std::string& key) const {
  std::string k = lower(key);
  for (const auto& c : compute)
    if (lower(c.name) == k) return &c;
  for (const auto& c : compute)
    if (lower(c.format) == k) return &c;
  return nullptr;
}

void HardwareSpec::validate(const std::string& origin) const {
  if (name.empty()) fail(origin, ": hardware name is empty");
  if (bandwidth.empty()) fail(origin, ": needs at least one bandwidth roof");
  if (compute.empty()) fail(origin, ": needs at least one compute roof");
  for (size_t i = 0; i < bandwidth.size(); i++) {
    if (bandwidth[i].name.empty()) fail(origin, ": bandwidth[", i, "] has no name");
    if (!(bandwidth[i].bytes_per_s > 0) || !std::isfinite(bandwidth[i].bytes_per_s))
      fail(origin, ": bandwidth[", i, "] (", bandwidth[i].name, ") must be a positive rate");
  }
  for (size_t i = 0; i < compute.size(); i++) {
    if (compute[i].name.empty()) fail(origin, ": compute[", i, "] has no name");
    if (!(compute[i].ops_per_s > 0) || !std::isfinite(compute[i].ops_per_s))
      fail(origin, ": compute[", i, "] (", compute[i].name, ") must be a positive rate");
  }
}

std::vector<std::string> hardware_preset_names() {
  std::vector<std::string> n;
  for (const auto& p : presets()) n.push_back(p.name);
  n.push_back("host");
  return n;
}

HardwareSpec hardware_preset(const std::string& name) {
  std::string k = lower(name);
  for (const auto& p : presets())
    if (p.name == k) return p;
  if (k == "host") return host_hardware();
  fail("unknown hardware preset '", name, "' (expected one of ", joined_names(),
       ", or a path to a hardware .json file)");
}

HardwareSpec hardware_from_json(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("hardware file '", origin, "': not valid JSON: ", e.what());
  }
  std::string where = "hardware file '" + origin + "'";
  if (!j.is_object()) fail(where, ": expected a JSON object");
  static const std::set<std::string> kTop = {"name", "description", "source", "bandwidth", "compute",
                                             "on_chip_mib", "memory_gib"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kTop.count(it.key()))
      fail(where, ": unknown key \"", it.key(),
           "\" (expected name, description, source, bandwidth, compute, on_chip_mib, memory_gib)");
  auto str = [&](const nlohmann::json& o, const char* key, bool required, const std::string& at) -> std::string {
    if (!o.contains(key)) {
      if (required) fail(where, ": ", at, "\"", key, "\" is required (a string)");
      return "";
    }
    if (!o[key].is_string()) fail(where, ": ", at, "\"", key, "\" must be a string");
    return o[key].get<std::string>();
  };
  auto positive = [&](const nlohmann::json& v, const std::string& at) -> double {
    if (!v.is_number()) fail(where, ": ", at, " must be a number");
    double x = v.get<double>();
    if (!(x > 0) || !std::isfinite(x)) fail(where, ": ", at, " must be positive, got ", v.dump());
    return x;
  };
  HardwareSpec hw;
  hw.name = str(j, "name", true, "");
  if (hw.name.empty()) fail(where, ": \"name\" must not be empty");
  hw.description = str(j, "description", false, "");
  hw.source = str(j, "source", false, "");
  if (hw.source.empty()) hw.source = origin;
  if (!j.contains("bandwidth") || !j["bandwidth"].is_array() || j["bandwidth"].empty())
    fail(where, ": \"bandwidth\" must be a non-empty array of {\"name\", \"gb_per_s\" | \"bytes_per_s\"}");
  if (!j.contains("compute") || !j["compute"].is_array() || j["compute"].empty())
    fail(where, ": \"compute\" must be a non-empty array of {\"name\", \"format\", \"tflop_per_s\" | \"gflop_per_s\" | \"flop_per_s\"}");
  size_t i = 0;
  for (const auto& b : j["bandwidth"]) {
    std::string at = "bandwidth[" + std::to_string(i++) + "]";
    if (!b.is_object()) fail(where, ": ", at, " must be an object");
    BandwidthRoof r;
    r.name = str(b, "name", true, at + ".");
    int rates = 0;
    for (auto it = b.begin(); it != b.end(); ++it) {
      if (it.key() == "name") continue;
      if (it.key() == "gb_per_s") r.bytes_per_s = positive(it.value(), at + ".gb_per_s") * 1e9, rates++;
      else if (it.key() == "bytes_per_s") r.bytes_per_s = positive(it.value(), at + ".bytes_per_s"), rates++;
      else fail(where, ": ", at, ": unknown key \"", it.key(), "\" (expected name, gb_per_s or bytes_per_s)");
    }
    if (rates != 1) fail(where, ": ", at, " needs exactly one of \"gb_per_s\" or \"bytes_per_s\"");
    hw.bandwidth.push_back(r);
  }
  i = 0;
  for (const auto& c : j["compute"]) {
    std::string at = "compute[" + std::to_string(i++) + "]";
    if (!c.is_object()) fail(where, ": ", at, " must be an object");
    ComputeRoof r;
    r.name = str(c, "name", true, at + ".");
    r.format = str(c, "format", true, at + ".");
    int rates = 0;
    for (auto it = c.begin(); it != c.end(); ++it) {
      const std::string& k = it.key();
      if (k == "name" || k == "format") continue;
      if (k == "tflop_per_s") r.ops_per_s = positive(it.value(), at + ".tflop_per_s") * 1e12, rates++;
      else if (k == "gflop_per_s") r.ops_per_s = positive(it.value(), at + ".gflop_per_s") * 1e9, rates++;
      else if (k == "flop_per_s") r.ops_per_s = positive(it.value(), at + ".flop_per_s"), rates++;
      else fail(where, ": ", at, ": unknown key \"", k, "\" (expected name, format, tflop_per_s, gflop_per_s or flop_per_s)");
    }
    if (rates != 1) fail(where, ": ", at, " needs exactly one of \"tflop_per_s\", \"gflop_per_s\" or \"flop_per_s\"");
    hw.compute.push_back(r);
  }
  if (j.contains("on_chip_mib")) hw.on_chip_bytes = positive(j["on_chip_mib"], "\"on_chip_mib\"") * MiB;
  if (j.contains("memory_gib")) hw.memory_bytes = positive(j["memory_gib"], "\"memory_gib\"") * GiB;
  hw.validate(where);
  return hw;
}

HardwareSpec hardware_from_json_file(const std::string& path) {
  return hardware_from_json(read_file(path, "hardware file"), path);
}

HardwareSpec resolve_hardware(const std::string& arg, const std::string& what) {
  if (arg.empty()) fail(what, ": empty (expected a preset name: ", joined_names(), "; or a .json file)");
  bool looks_like_path = arg.find('/') != std::string::npos ||
                         (arg.size() > 5 && lower(arg.substr(arg.size() - 5)) == ".json");
  if (looks_like_path) return hardware_from_json_file(arg);
  std::string k = lower(arg);
  for (const auto& n : hardware_preset_names())
    if (n == k) return hardware_preset(k);
  fail(what, ": unknown hardware '", arg, "' (expected one of ", joined_names(),
       ", or a path to a hardware .json file)");
}

const ComputeRoof& select_compute(const HardwareSpec& hw, const std::string& weight_format,
                                  const std::string& override_name, const std::string& what) {
  if (!override_name.empty()) {
    const ComputeRoof* c = hw.find_compute(override_name);
    if (!c) {
      std::string names;
      for (const auto& r : hw.compute) names += (names.empty() ? "" : ", ") + ("'" + r.name + "' (" + r.format + ")");
      fail(what, ": hardware '", hw.name, "' has no compute roof '", override_name, "' (expected one of ", names, ")");
    }
    return *c;
  }
  std::string wf = lower(weight_format);
  if (wf == "fp32" || wf == "f32") {
    if (const ComputeRoof* c = hw.find_compute("fp32")) return *c;
  }
  return hw.primary();
}

}  // namespace rooflm::roofline
