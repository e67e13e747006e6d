#include "core/units.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace c1m {
namespace {

// Splits "1.5m" into 1.5 and "m"; fails on empty, signs, or junk before the suffix.
bool split_number(std::string_view text, double& number, std::string_view& suffix) {
  if (text.empty()) return false;
  size_t i = 0;
  bool digits = false, dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) return false;
  std::string num(text.substr(0, i));
  char* end = nullptr;
  number = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(number)) return false;
  suffix = text.substr(i);
  return true;
}

}  // namespace

Parsed<uint64_t> parse_count(std::string_view text) {
  double n = 0;
  std::string_view suffix;
  if (!split_number(text, n, suffix)) return {std::string("expected a count like 1000, 50k or 1m")};
  double scale = 1;
  if (suffix == "k" || suffix == "K")
    scale = 1e3;
  else if (suffix == "m" || suffix == "M")
    scale = 1e6;
  else if (suffix == "g" || suffix == "G")
    scale = 1e9;
  else if (!suffix.empty())
    return {"unknown suffix '" + std::string(suffix) + "' (use k, m or g)"};
  double v = n * scale;
  if (v > 1e15) return {std::string("too large")};
  if (v != std::floor(v)) return {std::string("not a whole number")};
  return {static_cast<uint64_t>(v)};
}

Parsed<int64_t> parse_duration_ns(std::string_view text) {
  double n = 0;
  std::string_view suffix;
  if (!split_number(text, n, suffix)) return {std::string("expected a duration like 30s, 500ms, 2m or 1h")};
  double scale = 1e9;  // bare number: seconds
  if (suffix == "ns")
    scale = 1;
  else if (suffix == "us")
    scale = 1e3;
  else if (suffix == "ms")
    scale = 1e6;
  else if (suffix == "s" || suffix.empty())
    scale = 1e9;
  else if (suffix == "m" || suffix == "min")
    scale = 60e9;
  else if (suffix == "h")
    scale = 3600e9;
  else
    return {"unknown unit '" + std::string(suffix) + "' (use ms, s, m or h)"};
  double v = n * scale;
  if (v > 365.0 * 24 * 3600e9) return {std::string("longer than a year")};
  return {static_cast<int64_t>(std::llround(v))};
}

Parsed<double> parse_fraction(std::string_view text) {
  double n = 0;
  std::string_view suffix;
  if (!split_number(text, n, suffix)) return {std::string("expected a fraction like 10% or 0.1")};
  if (suffix == "%") return {n / 100.0};
  if (!suffix.empty()) return {"unknown suffix '" + std::string(suffix) + "' (use %)"};
  return {n};
}

std::string format_count(double n) {
  char buf[32];
  if (n >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (n >= 1e4)
    std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

std::string format_thousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_duration_ns(int64_t ns) {
  char buf[32];
  double s = ns / 1e9;
  if (s >= 100)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s >= 1)
    std::snprintf(buf, sizeof buf, "%.2fs", s);
  else
    std::snprintf(buf, sizeof buf, "%.1fms", ns / 1e6);
  return buf;
}

}  // namespace c1m
