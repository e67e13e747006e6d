// Reading a run record from disk, defensively: whatever is wrong with the file (missing, a
// directory, empty, far too large, nested too deep, not JSON, or a record RunRecord::from_json
// refuses: an unknown schema_version, a field missing, of the wrong type or out of range) comes back
// as one line naming the file and the JSON path.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace c1m {

inline constexpr size_t kMaxRecordBytes = 64 * 1024 * 1024;
// Deeper than any record (about 6 levels), far shallower than what overflows the parser's stack.
inline constexpr size_t kMaxJsonNesting = 64;

// Far more values than any record holds (a 1M run's: about 3,000; an hour of live hold, with a
// histogram each second: about 400,000). Parsed and checked, a record costs about 800 bytes a value:
// a 63 MB record of 1.5M series points (6M values) took compare 4.96 GB and 12.9 s, 1.6M values 1.25
// GB; so at most 2 million, about 1.6 GB.
inline constexpr size_t kMaxJsonValues = 2'000'000;

// Empty when the text's shape is one c1m parses, else why not: an array or object nested deeper than
// max_depth (nlohmann's parser recurses, and 100,000 '[' overflow the stack), or more than about
// max_values values (each a few dozen bytes parsed). Strings are skipped; checked before parsing.
std::string json_shape_problem(std::string_view text, size_t max_depth = kMaxJsonNesting,
                               size_t max_values = kMaxJsonValues);
inline bool json_nesting_within(std::string_view text, size_t max_depth = kMaxJsonNesting) {
  return json_shape_problem(text, max_depth, SIZE_MAX).empty();
}

// The record, or null with `error` set. Files over max_bytes are refused before they are parsed.
nlohmann::ordered_json read_record(const std::string& path, std::string& error, size_t max_bytes = kMaxRecordBytes);
// The same checks on a record that arrived as text (a client's report to the collector); `name`
// stands where a file name would in the error.
nlohmann::ordered_json parse_record(const std::string& text, const std::string& name, std::string& error);

}  // namespace c1m
