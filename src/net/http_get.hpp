// A minimal blocking HTTP/1.0 GET for reading a peer's stats endpoint from a parent process, with a
// hard timeout and a response size cap. Numeric addresses only.
#pragma once
#include <string>

#include "core/endpoints.hpp"

namespace c1m::net {

struct HttpResult {
  int status = 0;      // 0: no HTTP answer at all
  std::string body;
  std::string error;   // why there is no answer, when status is 0
};

HttpResult http_get(const Endpoint& at, const std::string& path, int timeout_ms, size_t max_bytes = 1 << 20);

}  // namespace c1m::net
