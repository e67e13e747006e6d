#include "net/http_client.hpp"

#include "core/host/clock.hpp"
#include "net/sockaddr.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
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

HttpResult HttpConnection::get(const std::string& path, int timeout_ms, size_t max_bytes) {
  return exchange("GET " + path + " HTTP/1.1\r\nHost: " + at_.str() + "\r\n\r\n", timeout_ms, max_bytes);
}

std::string HttpConnection::read_answer(int64_t start, int timeout_ms, size_t max_bytes) {
  const std::string from = at_.str();
  if (!answer_owed_) {
    answer_.clear();
    head_end_ = want_ = std::string::npos;
  }
  auto closed = [this](std::string why) {
    fd_.reset();
    answer_owed_ = false;
    return why;
  };
  char buf[16384];
  // The header block, then the body: Content-Length bytes, or (without one) to the end.
  while (want_ == std::string::npos || answer_.size() < want_) {
    if (!wait_for(fd_.get(), POLLIN, start, timeout_ms)) {
      answer_owed_ = true;
      return "no answer from " + from + " in time";
    }
    ssize_t n = recv(fd_.get(), buf, sizeof buf, 0);
    if (n == 0) {
      if (head_end_ != std::string::npos && want_ == std::string::npos) {  // the body ends with the connection
        fd_.reset();
        break;
      }
      return closed(answer_.empty() ? "connection to " + from + " closed without an answer"
                                    : "answer from " + from + " cut short");
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return closed("read from " + from + ": " + std::strerror(errno));
    }
    answer_.append(buf, static_cast<size_t>(n));
    if (answer_.size() > max_bytes)
      return closed("answer from " + from + " is larger than " + std::to_string(max_bytes) + " bytes");
    if (head_end_ == std::string::npos && (head_end_ = answer_.find("\r\n\r\n")) != std::string::npos) {
      std::string length = header_value(answer_.substr(0, head_end_ + 2), "content-length");
      if (!length.empty() && std::isdigit(static_cast<unsigned char>(length[0])))
        want_ = head_end_ + 4 + std::strtoull(length.c_str(), nullptr, 10);
    }
  }
  answer_owed_ = false;
  return {};
}

HttpResult HttpConnection::exchange(const std::string& req, int timeout_ms, size_t max_bytes) {
  const int64_t start = monotonic_ns();
  auto fail = [this](std::string why) {
    fd_.reset();
    answer_owed_ = false;
    return HttpResult{0, {}, std::move(why)};
  };
  const std::string to = at_.str();
  // The last request's answer came late: it is this call's answer, a poll old. (Dropping it and asking
  // again would, from a server that always takes longer than the timeout, never give an answer.)
  const bool late = fd_ && answer_owed_;
  if (late) {
    if (std::string why = read_answer(start, timeout_ms, max_bytes); !why.empty())
      return HttpResult{0, {}, "the last answer is still owed: " + why};
  }
  if (!fd_ && !late) {
    fd_.reset(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_) return fail(std::string("socket: ") + std::strerror(errno));
    sockaddr_in a = sockaddr_of(at_);
    if (connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
      return fail("connect to " + to + ": " + std::strerror(errno));
    if (!wait_for(fd_.get(), POLLOUT, start, timeout_ms)) return fail("connect to " + to + " timed out");
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return fail("connect to " + to + ": " + std::strerror(err));
  }
  for (size_t sent = 0; !late && sent < req.size();) {
    if (!wait_for(fd_.get(), POLLOUT, start, timeout_ms)) return fail("send to " + to + " timed out");
    ssize_t n = send(fd_.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return fail("send to " + to + ": " + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  if (!late)
    if (std::string why = read_answer(start, timeout_ms, max_bytes); !why.empty()) return HttpResult{0, {}, why};
  const std::string& resp = answer_;
  const size_t head_end = head_end_, want = want_;
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (resp.compare(0, 5, "HTTP/") != 0 || resp.size() < 12 || head_end == std::string::npos)
    return fail("answer from " + to + " is not HTTP");
  HttpResult r;
  r.status = std::atoi(resp.c_str() + resp.find(' ') + 1);
  r.body = resp.substr(head_end + 4, want == std::string::npos ? std::string::npos : want - head_end - 4);
  // Keep the connection only where the server keeps it: a length-delimited HTTP/1.1 answer.
  if (want == std::string::npos || resp.compare(0, 8, "HTTP/1.1") != 0 ||
      header_value(resp.substr(0, head_end + 2), "connection") == "close")
    fd_.reset();
  return r;
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
