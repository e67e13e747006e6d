// The one HTTP client of c1m's control plane (reading a server's stats, reporting to the collector,
// the lab's progress): HTTP/1.x over one kept connection, with a response size cap. Numeric
// addresses only. An exchange is a state machine (connect, send, read) that never blocks by itself:
// exchange() drives it with poll() and a deadline, for a parent process that may wait; StatsPoller
// (net/http/stats_poller) drives the same machine from an event loop that must never wait.
#pragma once
#include <string>

#include "core/plan/endpoints.hpp"
#include "net/base/event_loop.hpp"

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
  const Endpoint& at() const { return at_; }

  // Blocking: one request and its answer, within timeout_ms. An answer that did not arrive in time is
  // the next call's answer (a poll old): a slow server costs late readings, not the kept connection.
  HttpResult get(const std::string& path, int timeout_ms, size_t max_bytes = 1 << 20);
  HttpResult exchange(const std::string& request, int timeout_ms, size_t max_bytes);

  // Non-blocking, for an event loop: begin() a request (its whole text), then advance() each time the
  // socket is ready for what it wants, until it wants nothing; take() the result then.
  enum class Want { nothing, read, write };
  void begin(std::string request, size_t max_bytes);
  Want advance();
  int fd() const { return fd_.get(); }
  HttpResult take();
  // The exchange is given up (its deadline passed): the connection goes, take() says why.
  void abandon(const std::string& why);
  // An answer is still being read (a blocking exchange ran out of time): the next one is that answer.
  bool answer_owed() const { return stage_ == Stage::reading; }

 private:
  enum class Stage { idle, connecting, sending, reading, done };
  Want fail(std::string why);
  Want connect_now();
  Want read_some();
  void finish_answer();

  Endpoint at_;
  UniqueFd fd_;
  Stage stage_ = Stage::idle;
  std::string request_;
  size_t sent_ = 0, max_bytes_ = 0;
  std::string answer_;
  size_t head_end_ = 0, want_ = 0;  // where the header block ends; the whole answer's length (npos: unknown)
  HttpResult result_;
};

HttpResult http_get(const Endpoint& at, const std::string& path, int timeout_ms, size_t max_bytes = 1 << 20);
// POST with a JSON body (a participant reporting to the collector), with "Authorization: Bearer
// TOKEN" when a token is given (the collector checks it before it reads the body).
HttpResult http_post(const Endpoint& at, const std::string& path, const std::string& json_body, int timeout_ms,
                     const std::string& bearer_token = "");

}  // namespace c1m::net
