// Helpers shared by the test files: locating the repository and its models, temp files,
// and a tiny GGUF writer for crafting good and hostile files.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace rooflm::test {

// A fresh temporary directory per test, removed at the end.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("rooflm-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::string source_dir() {
  if (const char* e = std::getenv("ROOFLM_SOURCE_DIR")) return e;
#ifdef ROOFLM_SOURCE_DIR
  return ROOFLM_SOURCE_DIR;
#else
  return ".";
#endif
}

// The rooflm CLI: $ROOFLM_BIN if set, else the one built next to the running test binary.
inline std::string rooflm_binary() {
  if (const char* e = std::getenv("ROOFLM_BIN")) return e;
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "rooflm").string();
}

struct CmdResult {
  int status;       // exit status, or 128 + signal
  std::string out;  // stdout and stderr together
};

// Runs a shell command line, capturing stdout and stderr.
inline CmdResult run_shell(const std::string& command) {
  const std::string cmd = command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  CmdResult r{-1, ""};
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// Runs the rooflm CLI with `args` (a shell word list), capturing stdout and stderr. `shell_prefix`
// runs first in the same shell (e.g. "ulimit -f 4;").
inline CmdResult run_rooflm(const std::string& args, const std::string& shell_prefix = "") {
  return run_shell(shell_prefix + " " + rooflm_binary() + " " + args);
}

inline std::string default_model_path() { return source_dir() + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"; }
inline bool have_default_model() { return std::filesystem::exists(default_model_path()); }

// The default model is fetched by the test command's setup; tests that need it fail (not
// skip) when it is missing, unless ROOFLM_ALLOW_MISSING_MODELS=1.
#define ROOFLM_REQUIRE_DEFAULT_MODEL()                                                          \
  do {                                                                                          \
    if (!rooflm::test::have_default_model()) {                                                  \
      if (std::getenv("ROOFLM_ALLOW_MISSING_MODELS")) GTEST_SKIP() << "default model missing"; \
      FAIL() << "default model missing: run scripts/fetch_models.py";                           \
    }                                                                                           \
  } while (0)

inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("rooflm_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), (std::streamsize)bytes.size());
}

// Builds GGUF bytes field by field; tests corrupt them on purpose.
struct GGUFBuilder {
  std::vector<uint8_t> b;
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
  void header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    put<uint32_t>(version);
    put<uint64_t>(n_tensors);
    put<uint64_t>(n_kv);
  }
  void kv_u32(const std::string& k, uint32_t v) { str(k); put<uint32_t>(4); put<uint32_t>(v); }
  void kv_f32(const std::string& k, float v) { str(k); put<uint32_t>(6); put<float>(v); }
  void kv_str(const std::string& k, const std::string& v) { str(k); put<uint32_t>(8); str(v); }
  void tensor_info(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name);
    put<uint32_t>((uint32_t)dims.size());
    for (auto d : dims) put<uint64_t>(d);
    put<uint32_t>(type);
    put<uint64_t>(offset);
  }
  void align(size_t a) {
    while (b.size() % a) b.push_back(0);
  }
};

}  // namespace rooflm::test
