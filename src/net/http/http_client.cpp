#include "net/http/http_client.hpp"

#include "core/host/clock.hpp"
#include "net/base/sockaddr.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace c1m::net {
namespace {

long ms_since(int64_t start_ns) { return static_cast<long>((monotonic_ns() - start_ns) / 1'000'000); }

// Waits for `events` on fd until the overall deadline; false on timeout.
bool wait_for(int fd, short events, int64_t start, int timeout_ms) {
  while (true) {
    long left = timeout_ms - ms_since(start);
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

// The value of a header in a response's header block, lower-cased; empty when absent.
std::string header_value(const std::string& head, const std::string& lower_name) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  size_t at = lower.find("\r\n" + lower_name + ":");
  if (at == std::string::npos) return {};
  size_t from = at + 3 + lower_name.size(), to = lower.find("\r\n", from);
  std::string v = lower.substr(from, to - from);
  v.erase(0, v.find_first_not_of(" \t"));
  return v;
}

}  // namespace

void HttpConnection::begin(std::string request, size_t max_bytes) {
  request_ = std::move(request);
  sent_ = 0;
  max_bytes_ = max_bytes;
  answer_.clear();
  head_end_ = want_ = std::string::npos;
  result_ = {};
  stage_ = fd_ ? Stage::sending : Stage::connecting;
  if (!fd_) connect_now();
}

HttpConnection::Want HttpConnection::fail(std::string why) {
  fd_.reset();
  stage_ = Stage::done;
  result_ = {0, {}, std::move(why)};
  return Want::nothing;
}

void HttpConnection::abandon(const std::string& why) { fail(why); }

HttpConnection::Want HttpConnection::connect_now() {
  fd_.reset(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) return fail(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a = sockaddr_of(at_);
  if (connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
    return fail("connect to " + at_.str() + ": " + std::strerror(errno));
  return Want::write;
}

HttpConnection::Want HttpConnection::advance() {
  if (stage_ == Stage::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return fail("connect to " + at_.str() + ": " + std::strerror(err));
    pollfd p{fd_.get(), POLLOUT, 0};
    if (poll(&p, 1, 0) <= 0) return Want::write;  // still connecting
    stage_ = Stage::sending;
  }
  if (stage_ == Stage::sending) {
    while (sent_ < request_.size()) {
      ssize_t n = send(fd_.get(), request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return Want::write;
      if (n <= 0) return fail("send to " + at_.str() + ": " + std::strerror(errno));
      sent_ += static_cast<size_t>(n);
    }
    stage_ = Stage::reading;
  }
  if (stage_ == Stage::reading) return read_some();
  return Want::nothing;
}

// The header block, then the body: Content-Length bytes, or (without one) to the end.
HttpConnection::Want HttpConnection::read_some() {
  const std::string from = at_.str();
  char buf[16384];
  while (want_ == std::string::npos || answer_.size() < want_) {
    ssize_t n = recv(fd_.get(), buf, sizeof buf, 0);
    if (n == 0) {
      if (head_end_ != std::string::npos && want_ == std::string::npos) {  // the body ends with the connection
        fd_.reset();
        break;
      }
      return fail(answer_.empty() ? "connection to " + from + " closed without an answer"
                                  : "answer from " + from + " cut short");
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Want::read;
      return fail("read from " + from + ": " + std::strerror(errno));
    }
    answer_.append(buf, static_cast<size_t>(n));
    if (answer_.size() > max_bytes_)
      return fail("answer from " + from + " is larger than " + std::to_string(max_bytes_) + " bytes");
    if (head_end_ == std::string::npos && (head_end_ = answer_.find("\r\n\r\n")) != std::string::npos) {
      std::string length = header_value(answer_.substr(0, head_end_ + 2), "content-length");
      if (!length.empty() && std::isdigit(static_cast<unsigned char>(length[0])))
        want_ = head_end_ + 4 + std::strtoull(length.c_str(), nullptr, 10);
    }
  }
  finish_answer();
  return Want::nothing;
}

void HttpConnection::finish_answer() {
  stage_ = Stage::done;
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (answer_.compare(0, 5, "HTTP/") != 0 || answer_.size() < 12 || head_end_ == std::string::npos) {
    fail("answer from " + at_.str() + " is not HTTP");
    return;
  }
  result_.status = std::atoi(answer_.c_str() + answer_.find(' ') + 1);
  result_.body = answer_.substr(head_end_ + 4, want_ == std::string::npos ? std::string::npos : want_ - head_end_ - 4);
  // Keep the connection only where the server keeps it: a length-delimited HTTP/1.1 answer.
  if (want_ == std::string::npos || answer_.compare(0, 8, "HTTP/1.1") != 0 ||
      header_value(answer_.substr(0, head_end_ + 2), "connection") == "close")
    fd_.reset();
}

HttpResult HttpConnection::take() {
  stage_ = Stage::idle;
  return std::move(result_);
}

HttpResult HttpConnection::exchange(const std::string& req, int timeout_ms, size_t max_bytes) {
  const int64_t start = monotonic_ns();
  // The last request's answer came late: it is this call's answer, a poll old. (Dropping it and asking
  // again would, from a server that always takes longer than the timeout, never give an answer.)
  const bool late = answer_owed();
  if (!late) begin(req, max_bytes);
  for (Want want = advance(); want != Want::nothing; want = advance()) {
    if (wait_for(fd_.get(), want == Want::read ? POLLIN : POLLOUT, start, timeout_ms)) continue;
    if (stage_ == Stage::reading)  // the answer is owed: the connection stays for it
      return {0, {}, (late ? "the last answer is still owed: " : "") + ("no answer from " + at_.str() + " in time")};
    abandon((stage_ == Stage::connecting ? "connect to " : "send to ") + at_.str() + " timed out");
  }
  return take();
}

HttpResult HttpConnection::get(const std::string& path, int timeout_ms, size_t max_bytes) {
  return exchange("GET " + path + " HTTP/1.1\r\nHost: " + at_.str() + "\r\n\r\n", timeout_ms, max_bytes);
}

HttpResult http_get(const Endpoint& at, const std::string& path, int timeout_ms, size_t max_bytes) {
  return HttpConnection(at).exchange("GET " + path + " HTTP/1.0\r\nHost: " + at.str() + "\r\n\r\n", timeout_ms,
                                     max_bytes);
}

HttpResult http_post(const Endpoint& at, const std::string& path, const std::string& body, int timeout_ms,
                     const std::string& bearer_token) {
  std::string auth = bearer_token.empty() ? "" : "Authorization: Bearer " + bearer_token + "\r\n";
  return HttpConnection(at).exchange(
      "POST " + path + " HTTP/1.0\r\nHost: " + at.str() + "\r\n" + auth +
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
      timeout_ms, 1 << 20);
}

}  // namespace c1m::net
