// A small JSON Schema checker for the tests: the keywords results/run-record.schema.json uses
// (type, enum, required, properties, items, additionalProperties, minimum, $ref to #/$defs/...).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace c1m::test {

using ojson = nlohmann::ordered_json;

inline bool type_matches(const ojson& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  return false;
}

// Appends "path: what is wrong" for every violation.
inline void check_schema(const ojson& v, const ojson& schema, const ojson& root, const std::string& path,
                         std::vector<std::string>& errors) {
  if (schema.contains("$ref")) {
    std::string ref = schema["$ref"];  // "#/$defs/name"
    return check_schema(v, root.at(ojson::json_pointer(ref.substr(1))), root, path, errors);
  }
  if (schema.contains("type")) {
    bool ok = false;
    if (schema["type"].is_string())
      ok = type_matches(v, schema["type"]);
    else
      for (const auto& t : schema["type"]) ok = ok || type_matches(v, t);
    if (!ok) return errors.push_back(path + ": expected " + schema["type"].dump() + ", got " + v.type_name());
  }
  if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end())
    errors.push_back(path + ": " + v.dump() + " not in " + schema["enum"].dump());
  if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>())
    errors.push_back(path + ": below minimum " + schema["minimum"].dump());
  if (v.is_object()) {
    for (const auto& r : schema.value("required", ojson::array()))
      if (!v.contains(r.get<std::string>()))
        errors.push_back(path + "/" + r.get<std::string>() + ": required, missing");
    for (auto& [k, sub] : v.items()) {
      if (schema.contains("properties") && schema["properties"].contains(k))
        check_schema(sub, schema["properties"][k], root, path + "/" + k, errors);
      else if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object())
        check_schema(sub, schema["additionalProperties"], root, path + "/" + k, errors);
    }
  }
  if (v.is_array() && schema.contains("items"))
    for (size_t i = 0; i < v.size(); ++i)
      check_schema(v[i], schema["items"], root, path + "/" + std::to_string(i), errors);
}

inline std::vector<std::string> validate(const ojson& record, const ojson& schema) {
  std::vector<std::string> errors;
  check_schema(record, schema, schema, "", errors);
  return errors;
}

}  // namespace c1m::test
