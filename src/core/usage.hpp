// Bad input, said once: a flag's value that cannot be used becomes a UsageError naming the flag, the
// value and what was expected; main() prints it as one line and exits 2.
#pragma once
#include <stdexcept>
#include <string>

#include "core/host/host.hpp"  // resolve_host_name
#include "core/plan/endpoints.hpp"
#include "core/units.hpp"

namespace c1m {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The parsed value of a flag, or a UsageError naming the flag, the value and what was expected.
template <typename T>
T require(const Parsed<T>& parsed, const std::string& flag, const std::string& text) {
  if (!parsed.ok()) throw UsageError(flag + " '" + text + "': " + parsed.error());
  return parsed.value();
}

// The one endpoint of a flag that takes exactly one ADDRESS:PORT or NAME:PORT (an admin port, a
// collector).
inline Endpoint single_endpoint(const std::string& flag, const std::string& text,
                                const NameResolver& resolve = resolve_host_name) {
  auto list = require(parse_endpoint_list(text, resolve), flag, text);
  if (list.size() != 1)
    throw UsageError(flag + " '" + text + "': expected one ADDRESS:PORT, got " + std::to_string(list.size()));
  return list[0];
}

}  // namespace c1m
