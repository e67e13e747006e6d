// Minimal blocking HTTP requests from a parent process (reading a server's stats, reporting to the
// collector), with a hard timeout and a response size cap. Numeric addresses only.
#pragma once
#include <string>

#include "core/plan/endpoints.hpp"
#include "net/event_loop.hpp"

namespace c1m::net {

struct HttpResult {
  int status = 0;  // 0: no HTTP answer at all
  std::string body;
  std::string error;  // why there is no answer, when status is 0
};

// One connection, kept open across requests (HTTP/1.1 keep-alive) and opened again after any
// failure. A stats poll once a second then costs one tracked connection for the whole run, not one a
// second: a new connection is exactly what a full conntrack table refuses, so a kept one still reads
// the server when its namespace is full.
class HttpConnection {
 public:
  explicit HttpConnection(Endpoint at) : at_(at) {}
  HttpResult get(const std::string& path, int timeout_ms, size_t max_bytes = 1 << 20);
  // Sends a whole request (its text as given) and reads one answer.
  HttpResult exchange(const std::string& request, int timeout_ms, size_t max_bytes);

 private:
  // Reads one answer to the end into answer_; "" when whole, else why not. A timeout keeps what
  // arrived and the connection (the answer is owed); any other failure closes it.
  std::string read_answer(int64_t start_ns, int timeout_ms, size_t max_bytes);  // start_ns: CLOCK_MONOTONIC

  Endpoint at_;
  UniqueFd fd_;
  // An answer that did not arrive in time is the next call's answer (a poll old), so a slow server
  // costs late readings, not the kept connection, and never no reading at all.
  bool answer_owed_ = false;
  std::string answer_;
  size_t head_end_ = 0, want_ = 0;  // where the header block ends; the whole answer's length (npos: unknown)
};

HttpResult http_get(const Endpoint& at, const std::string& path, int timeout_ms, size_t max_bytes = 1 << 20);
// POST with a JSON body (a participant reporting to the collector), with "Authorization: Bearer
// TOKEN" when a token is given (the collector checks it before it reads the body).
HttpResult http_post(const Endpoint& at, const std::string& path, const std::string& json_body, int timeout_ms,
                     const std::string& bearer_token = "");

}  // namespace c1m::net
