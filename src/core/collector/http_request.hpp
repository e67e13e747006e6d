// The head of an HTTP/1.x request, read by the lab's own HTTP services (the server's admin port, the
// collector). Pure and bounded: the service finds the head's end, this says what it asks for or which
// 4xx/5xx it gets. Only what the services need: GET and POST, a Content-Length body (no chunked
// uploads), keep-alive.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace c1m {

struct RequestHead {
  int status = 0;   // 0: a request to serve; else the status to refuse it with (400, 405, 411, 413, 505)
  std::string why;  // for a refusal, one line
  std::string method;
  std::string path;  // the target without its query
  size_t content_length = 0;
  bool keep_alive = true;  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive"
  std::string bearer;      // "Authorization: Bearer X": X, read with the head so a stranger's body is never read
};

// `head` is everything up to and including the blank line ("\r\n\r\n"). `max_body_bytes` 0: no body
// is taken (a GET-only service).
RequestHead parse_request_head(std::string_view head, size_t max_body_bytes);

}  // namespace c1m
