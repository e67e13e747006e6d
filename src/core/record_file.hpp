// Reading a run record from disk, defensively: whatever is wrong with the file (missing, a
// directory, empty, far too large, not JSON, not an object, an unknown schema_version, a required
// field missing) comes back as one line naming the file and the JSON path.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace c1m {

inline constexpr size_t kMaxRecordBytes = 64 * 1024 * 1024;

// The record, or null with `error` set. Files over max_bytes are refused before they are parsed.
nlohmann::ordered_json read_record(const std::string& path, std::string& error, size_t max_bytes = kMaxRecordBytes);
// The same checks on a record that arrived as text (a client's report to the collector); `name`
// stands where a file name would in the error.
nlohmann::ordered_json parse_record(const std::string& text, const std::string& name, std::string& error);

}  // namespace c1m
