#include "roofline/profiler.h"

#include <array>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "roofline/util.h"

namespace rooflm::prof {

namespace {

struct Cell {
  double flops = 0, bytes = 0;
  uint64_t ns = 0, calls = 0;
};

struct State {
  std::atomic<bool> on{false};
  std::array<std::array<Cell, kNumOpClasses>, kMaxPhases> cells{};
  std::vector<std::string> names;  // phase id -> name (first-seen order)
  std::string current = "unknown";
  int current_id = -1;             // -1: not yet registered in `names`
};

State& state() {
  static State s;
  return s;
}

int phase_id(State& s) {
  if (s.current_id >= 0) return s.current_id;
  for (size_t i = 0; i < s.names.size(); i++)
    if (s.names[i] == s.current) return s.current_id = (int)i;
  if ((int)s.names.size() < kMaxPhases - 1) {
    s.names.push_back(s.current);
    return s.current_id = (int)s.names.size() - 1;
  }
  // Table full: everything else goes to one "overflow" slot.
  if ((int)s.names.size() == kMaxPhases - 1) s.names.push_back("overflow");
  return s.current_id = kMaxPhases - 1;
}

const char* const kOpNames[kNumOpClasses] = {"qkv", "o", "up/gate/down", "qk/pv", "lm_head", "other"};

}  // namespace

const char* op_name(OpClass c) {
  int i = (int)c;
  return (i >= 0 && i < kNumOpClasses) ? kOpNames[i] : "other";
}

OpClass op_from_name(const std::string& name, const char* what) {
  std::string n = roofline::lower(name);
  for (int i = 0; i < kNumOpClasses; i++)
    if (n == kOpNames[i]) return (OpClass)i;
  if (n == "up_gate_down") return OpClass::up_gate_down;
  if (n == "qk_pv") return OpClass::qk_pv;
  fail(what, ": unknown op class '", name, "' (expected one of qkv, o, up/gate/down, qk/pv, lm_head, other)");
}

const std::vector<OpClass>& all_op_classes() {
  static const std::vector<OpClass> all = {OpClass::qkv, OpClass::o, OpClass::up_gate_down,
                                           OpClass::qk_pv, OpClass::lm_head, OpClass::other};
  return all;
}

void enable(bool on) { state().on.store(on, std::memory_order_relaxed); }
bool enabled() { return state().on.load(std::memory_order_relaxed); }

void set_phase(std::string phase) {
  State& s = state();
  // Off, the phase is not needed: generations on several threads (rooflm serve --parallel)
  // then never write the shared state.
  if (!s.on.load(std::memory_order_relaxed)) return;
  if (phase.empty()) phase = "unknown";
  if (phase == s.current) return;
  s.current = std::move(phase);
  s.current_id = -1;  // resolved lazily by the next record()
}

const std::string& phase() { return state().current; }

void record(OpClass c, double flops, double bytes, uint64_t ns) {
  State& s = state();
  if (!s.on.load(std::memory_order_relaxed)) return;
  int op = (int)c;
  if (op < 0 || op >= kNumOpClasses) op = (int)OpClass::other;
  Cell& cell = s.cells[phase_id(s)][op];
  cell.flops += flops;
  cell.bytes += bytes;
  cell.ns += ns;
  cell.calls += 1;
}

uint64_t now_ns() {
  return (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<Aggregate> snapshot() {
  State& s = state();
  std::vector<Aggregate> out;
  for (size_t p = 0; p < s.names.size(); p++)
    for (int op = 0; op < kNumOpClasses; op++) {
      const Cell& c = s.cells[p][op];
      if (c.calls == 0) continue;
      out.push_back({s.names[p], (OpClass)op, c.flops, c.bytes, c.ns, c.calls});
    }
  return out;
}

void reset() {
  State& s = state();
  for (auto& row : s.cells) row.fill(Cell{});
  s.names.clear();
  s.current_id = -1;
}

void write_json(const std::string& path, const std::string& extra_json_fields) {
  nlohmann::ordered_json doc;
  doc["format"] = "rooflm-profile";
  doc["version"] = 1;
  doc["aggregates"] = nlohmann::ordered_json::array();
  for (const auto& a : snapshot()) {
    doc["aggregates"].push_back({{"phase", a.phase}, {"op", op_name(a.op)}, {"flops", a.flops},
                                 {"bytes", a.bytes}, {"ns", a.ns}, {"calls", a.calls}});
  }
  std::string text = doc.dump(2);
  if (!extra_json_fields.empty()) {
    // Splice the caller's members before the closing brace, then check the whole document.
    size_t close = text.rfind('}');
    text = text.substr(0, close) + ",\n  " + extra_json_fields + "\n}";
    nlohmann::json check;
    try {
      check = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      fail("profile '", path, "': extra_json_fields do not form valid JSON members: ", e.what());
    }
    if (!check.is_object() || !check.contains("aggregates") || !check["aggregates"].is_array())
      fail("profile '", path, "': extra_json_fields must not replace \"aggregates\"");
  }
  text += "\n";
  roofline::write_file_atomic(path, text, "profile");
}

std::vector<Aggregate> parse_profile_json(const std::string& text, const std::string& origin) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("profile '", origin, "': not valid JSON: ", e.what());
  }
  if (!doc.is_object() || !doc.contains("aggregates") || !doc["aggregates"].is_array())
    fail("profile '", origin, "': expected an object with an \"aggregates\" array (as written by prof::write_json)");
  std::vector<Aggregate> out;
  size_t i = 0;
  for (const auto& a : doc["aggregates"]) {
    std::string where = "profile '" + origin + "': aggregates[" + std::to_string(i++) + "]";
    if (!a.is_object()) fail(where, ": expected an object");
    auto num = [&](const char* key) -> double {
      if (!a.contains(key) || !a[key].is_number()) fail(where, ".", key, ": expected a number");
      double v = a[key].get<double>();
      if (!(v >= 0)) fail(where, ".", key, ": expected a non-negative number");
      return v;
    };
    if (!a.contains("phase") || !a["phase"].is_string()) fail(where, ".phase: expected a string");
    if (!a.contains("op") || !a["op"].is_string()) fail(where, ".op: expected a string");
    Aggregate g;
    g.phase = a["phase"].get<std::string>();
    g.op = op_from_name(a["op"].get<std::string>(), (where + ".op").c_str());
    g.flops = num("flops");
    g.bytes = num("bytes");
    g.ns = (uint64_t)num("ns");
    g.calls = (uint64_t)num("calls");
    out.push_back(g);
  }
  return out;
}

}  // namespace rooflm::prof
