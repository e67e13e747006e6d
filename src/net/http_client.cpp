#include "net/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "net/event_loop.hpp"

namespace c1m::net {
namespace {

long ms_since(const timespec& start) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
}

// Waits for `events` on fd until the overall deadline; false on timeout.
bool wait_for(int fd, short events, const timespec& start, int timeout_ms) {
  while (true) {
    long left = timeout_ms - ms_since(start);
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

}  // namespace

namespace {
HttpResult request(const Endpoint& at, const std::string& req, int timeout_ms, size_t max_bytes);
}

HttpResult http_get(const Endpoint& at, const std::string& path, int timeout_ms, size_t max_bytes) {
  return request(at, "GET " + path + " HTTP/1.0\r\nHost: " + at.str() + "\r\n\r\n", timeout_ms, max_bytes);
}

HttpResult http_post(const Endpoint& at, const std::string& path, const std::string& body, int timeout_ms) {
  return request(at,
                 "POST " + path + " HTTP/1.0\r\nHost: " + at.str() + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body,
                 timeout_ms, 1 << 20);
}

namespace {
HttpResult request(const Endpoint& at, const std::string& req, int timeout_ms, size_t max_bytes) {
  HttpResult r;
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return {0, {}, std::string("socket: ") + std::strerror(errno)};
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(at.port);
  a.sin_addr.s_addr = htonl(at.ip.host_order);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
    return {0, {}, "connect to " + at.str() + ": " + std::strerror(errno)};
  if (!wait_for(fd.get(), POLLOUT, start, timeout_ms)) return {0, {}, "connect to " + at.str() + " timed out"};
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) return {0, {}, "connect to " + at.str() + ": " + std::strerror(err)};
  for (size_t sent = 0; sent < req.size();) {
    if (!wait_for(fd.get(), POLLOUT, start, timeout_ms)) return {0, {}, "send to " + at.str() + " timed out"};
    ssize_t n = send(fd.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return {0, {}, "send to " + at.str() + ": " + std::strerror(errno)};
    sent += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[16384];
  while (true) {
    if (!wait_for(fd.get(), POLLIN, start, timeout_ms)) return {0, {}, "no answer from " + at.str() + " in time"};
    ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return {0, {}, "read from " + at.str() + ": " + std::strerror(errno)};
    }
    resp.append(buf, static_cast<size_t>(n));
    if (resp.size() > max_bytes) return {0, {}, "answer from " + at.str() + " is larger than " + std::to_string(max_bytes) + " bytes"};
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (resp.compare(0, 5, "HTTP/") != 0 || resp.size() < 12) return {0, {}, "answer from " + at.str() + " is not HTTP"};
  r.status = std::atoi(resp.c_str() + resp.find(' ') + 1);
  size_t body = resp.find("\r\n\r\n");
  r.body = body == std::string::npos ? std::string() : resp.substr(body + 4);
  return r;
}
}  // namespace

}  // namespace c1m::net
