// Reading a run record from disk, defensively: whatever is wrong with the file (missing, a
// directory, empty, far too large, nested too deep, not JSON, or a record RunRecord::from_json
// refuses: an unknown schema_version, a field missing, of the wrong type or out of range) comes back
// as one line naming the file and the JSON path.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace c1m {

inline constexpr size_t kMaxRecordBytes = 64 * 1024 * 1024;
// Deeper than any record (about 6 levels), far shallower than what overflows the parser's stack.
inline constexpr size_t kMaxJsonNesting = 64;

// True when no array or object in the text nests deeper than max_depth (strings are skipped). Checked
// before parsing: nlohmann's parser recurses, and 100,000 '[' overflow the stack.
bool json_nesting_within(std::string_view text, size_t max_depth = kMaxJsonNesting);

// The record, or null with `error` set. Files over max_bytes are refused before they are parsed.
nlohmann::ordered_json read_record(const std::string& path, std::string& error, size_t max_bytes = kMaxRecordBytes);
// The same checks on a record that arrived as text (a client's report to the collector); `name`
// stands where a file name would in the error.
nlohmann::ordered_json parse_record(const std::string& text, const std::string& name, std::string& error);

}  // namespace c1m
