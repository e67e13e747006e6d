#include "core/record/record_file.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/record/run_record.hpp"

namespace c1m {

ojson read_record(const std::string& path, std::string& error, size_t max_bytes) {
  auto fail = [&](const std::string& why) {
    error = path + ": " + why;
    return ojson(nullptr);
  };
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return fail("cannot read it (no such file, or not allowed)");
  if (S_ISDIR(st.st_mode)) return fail("is a directory, not a record");
  if (st.st_size == 0) return fail("empty file");
  if (static_cast<size_t>(st.st_size) > max_bytes)
    return fail(std::to_string(st.st_size) + " bytes, larger than any record (" + std::to_string(max_bytes) +
                "); not parsed");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_record(ss.str(), path, error);
}

std::string json_shape_problem(std::string_view text, size_t max_depth, size_t max_values) {
  size_t depth = 0, values = 1;  // a comma or a bracket starts one more value
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return "nested deeper than " + std::to_string(max_depth) + " levels: not a record";
      ++values;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',') {
      ++values;
    }
    if (values > max_values)
      return "holds more than " + std::to_string(max_values) +
             " values, more than any record c1m writes (a series of over a million points?): not parsed";
  }
  return {};
}

ojson parse_record(const std::string& text, const std::string& path, std::string& error) {
  auto fail = [&](const std::string& why) {
    error = path + ": " + why;
    return ojson(nullptr);
  };
  if (text.empty()) return fail("empty");
  if (std::string why = json_shape_problem(text); !why.empty()) return fail(why);
  ojson j = ojson::parse(text, nullptr, false);
  if (j.is_discarded()) return fail("not valid JSON");
  // The one check every reader shares: types and ranges of every figure (core/run_record).
  std::string why;
  if (!RunRecord::from_json(j, why)) return fail(why);
  return j;
}

}  // namespace c1m
