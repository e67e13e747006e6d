// Minimal blocking HTTP/1.0 requests from a parent process (reading a server's stats, reporting to
// the collector), with a hard timeout and a response size cap. Numeric addresses only.
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
// POST with a JSON body (a client reporting to the collector).
HttpResult http_post(const Endpoint& at, const std::string& path, const std::string& json_body, int timeout_ms);

}  // namespace c1m::net
