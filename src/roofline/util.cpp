#include "roofline/util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace rooflm::roofline {

void write_file_atomic(const std::string& path, const std::string& content, const std::string& what) {
  if (path.empty()) fail(what, ": empty output path");
  static std::atomic<uint64_t> counter{0};
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) fail(what, " '", path, "': directory '", dir.string(), "' does not exist");
  }
  if (fs::is_directory(target)) fail(what, " '", path, "': is a directory, expected a file path");
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(what, " '", path, "': cannot create temporary file: ", std::strerror(errno));
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(what, " '", path, "': write failed: ", std::strerror(e));
    }
    p += n;
    left -= (size_t)n;
  }
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(what, " '", path, "': fsync failed: ", std::strerror(e));
  }
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    fail(what, " '", path, "': close failed: ", std::strerror(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    fail(what, " '", path, "': rename failed: ", std::strerror(e));
  }
}

std::string read_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(what, " '", path, "': no such file");
  if (std::filesystem::is_directory(path, ec)) fail(what, " '", path, "': is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(what, " '", path, "': cannot open: ", std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(what, " '", path, "': read error");
  return ss.str();
}

static std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_list(const std::string& s, const std::string& what) {
  std::vector<std::string> out;
  if (trim(s).empty()) fail(what, ": empty list (expected comma-separated values)");
  size_t start = 0;
  for (;;) {
    size_t comma = s.find(',', start);
    std::string item = trim(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) fail(what, ": empty item in list '", s, "'");
    out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

double parse_si(const std::string& s0, const std::string& what) {
  std::string s = trim(s0);
  if (s.empty()) fail(what, ": expected a number, got an empty string");
  double mult = 1;
  char last = s.back();
  switch (last) {
    case 'k': case 'K': mult = 1e3; break;
    case 'M': mult = 1e6; break;
    case 'G': mult = 1e9; break;
    case 'T': mult = 1e12; break;
    case 'P': mult = 1e15; break;
    default: break;
  }
  if (mult != 1) s.pop_back();
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    fail(what, ": expected a number (optionally with k/M/G/T/P suffix), got '", s0, "'");
  }
  if (used != s.size()) fail(what, ": expected a number (optionally with k/M/G/T/P suffix), got '", s0, "'");
  v *= mult;
  if (!std::isfinite(v) || v <= 0) fail(what, ": expected a positive number, got '", s0, "'");
  return v;
}

int64_t parse_positive_int(const std::string& s0, const std::string& what) {
  std::string s = trim(s0);
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
    fail(what, ": expected a positive integer, got '", s0, "'");
  if (s.size() > 12) fail(what, ": value '", s0, "' is too large");
  int64_t v = std::stoll(s);
  if (v <= 0) fail(what, ": expected a positive integer, got '", s0, "'");
  return v;
}

static std::string strip_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string si_label(double v) {
  static const struct { double scale; const char* suffix; } kPrefixes[] = {
      {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}};
  if (v == 0) return "0";
  double a = std::fabs(v);
  for (const auto& p : kPrefixes) {
    if (a >= p.scale * 0.9999) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.3g", v / p.scale);
      return strip_zeros(buf) + p.suffix;
    }
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return strip_zeros(buf);
}

std::string fmt_num(double v, int sig) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : (v < 0 ? "-inf" : "nan");
  if (v == 0) return "0";
  double a = std::fabs(v);
  int digits_before = (int)std::floor(std::log10(a)) + 1;
  int decimals = std::max(0, sig - digits_before);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, a);
  std::string s = strip_zeros(buf);
  // Thousands separators on the integer part.
  size_t dot = s.find('.');
  std::string ip = s.substr(0, dot), fp = dot == std::string::npos ? "" : s.substr(dot);
  std::string grouped;
  for (size_t i = 0; i < ip.size(); i++) {
    if (i > 0 && (ip.size() - i) % 3 == 0) grouped += ',';
    grouped += ip[i];
  }
  return (v < 0 ? "-" : "") + grouped + fp;
}

std::string fmt_bandwidth(double bps) {
  return fmt_num(bps / 1e9, bps >= 1e12 ? 4 : 3) + " GB/s";
}

std::string fmt_flops(double f, const std::string& unit) {
  if (f >= 1e15) return fmt_num(f / 1e15) + " P" + unit + "/s";
  if (f >= 1e12) return fmt_num(f / 1e12) + " T" + unit + "/s";
  if (f >= 1e9) return fmt_num(f / 1e9) + " G" + unit + "/s";
  return fmt_num(f / 1e6) + " M" + unit + "/s";
}

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters are not allowed in XML 1.0 documents: drop them.
        if ((unsigned char)c < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += c;
    }
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}

}  // namespace rooflm::roofline
