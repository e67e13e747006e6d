// Human units, parsed once at the edge: "50k" connections, "30s" durations, "10%" thresholds.
// Every parser returns an error message instead of throwing, so the CLI can print one line and exit 2.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace c1m {

// A value or the reason it is not one.
template <typename T>
struct Parsed {
  std::variant<T, std::string> v;
  bool ok() const { return v.index() == 0; }
  const T& value() const { return std::get<0>(v); }
  const std::string& error() const { return std::get<1>(v); }
};

// "1000000", "1m", "50k", "1.5m", "2g": a whole count. Suffixes are decimal (k=1e3, m=1e6, g=1e9).
Parsed<uint64_t> parse_count(std::string_view text);

// "30s", "500ms", "2m", "1h", "1.5s", "0": a duration in nanoseconds. A bare number is seconds.
Parsed<int64_t> parse_duration_ns(std::string_view text);

// "10%", "0.1": a fraction (10% -> 0.10). Must be >= 0.
Parsed<double> parse_fraction(std::string_view text);

// Formats for people: 1234567 -> "1.23M", 1.5e9 ns -> "1.50s".
std::string format_count(double n);
std::string format_duration_ns(int64_t ns);
// Exact, grouped by thousands, for figures a person compares with a limit: 262144 -> "262,144".
std::string format_thousands(uint64_t n);

// Adds a clause to a "; "-separated account (a record's reason, a note): "a" + "b" -> "a; b".
inline void append_clause(std::string& text, const std::string& clause) {
  if (clause.empty()) return;
  if (!text.empty()) text += "; ";
  text += clause;
}

}  // namespace c1m
