// The HTTP service's turns: a peer that pipelines many requests is served one of them a turn of the
// event loop, so another peer's request waits for one of its answers, not for all of them. (Before:
// every whole request in a peer's input was served in one callback; the collector soak's pipelining
// peer, asking for GET /runs, kept the participants waiting past their 10 s under AddressSanitizer.)
#include "net/http/http_service.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "net/base/event_loop.hpp"

namespace c1m::net {
namespace {

int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t port_of(int listen_fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

void send_all(int fd, const std::string& text) {
  for (size_t sent = 0; sent < text.size();) {
    ssize_t n = send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    sent += static_cast<size_t>(n);
  }
}

std::string times(const std::string& request, int n) {
  std::string all;
  for (int i = 0; i < n; ++i) all += request;
  return all;
}

TEST(HttpService, APipeliningPeerIsServedOneRequestATurn) {
  EventBasePtr base = make_event_base();
  HttpService service(base.get(), HttpLimits{});
  int greedy_served = 0, greedy_served_when_other_came = -1;
  service.route("GET", "/greedy", [&](const HttpRequest&) {
    ++greedy_served;
    return HttpReply{200, "text/plain", "g"};
  });
  service.route("GET", "/other", [&](const HttpRequest&) {
    greedy_served_when_other_came = greedy_served;
    return HttpReply{200, "text/plain", "o"};
  });
  int listen_fd = HttpService::open_socket(Endpoint{Ipv4{0x7f000001}, 0});
  ASSERT_GE(listen_fd, 0);
  const uint16_t port = port_of(listen_fd);
  ASSERT_TRUE(service.serve(listen_fd));

  // 400 requests (8 kB), all in the socket before the service reads any: more than one turn's worth.
  constexpr int kPipelined = 400;
  int greedy = connect_to(port);
  ASSERT_GE(greedy, 0);
  send_all(greedy, times("GET /greedy HTTP/1.1\r\n\r\n", kPipelined));
  int turns = 0;
  while (greedy_served == 0 && turns < 50) {
    event_base_loop(base.get(), EVLOOP_ONCE);
    ++turns;
  }
  ASSERT_GT(greedy_served, 0) << "the pipelined requests were never served";
  EXPECT_EQ(greedy_served, 1) << "the turn that served the first of them served " << greedy_served;

  // Another peer asks now: it is answered before the greedy peer's turns run out.
  int other = connect_to(port);
  ASSERT_GE(other, 0);
  send_all(other, "GET /other HTTP/1.1\r\n\r\n");
  while ((greedy_served_when_other_came < 0 || greedy_served < kPipelined) && turns < 10 * kPipelined) {
    event_base_loop(base.get(), EVLOOP_ONCE);
    ++turns;
  }
  EXPECT_EQ(greedy_served, kPipelined) << "every pipelined request is served in the end";
  EXPECT_GE(greedy_served_when_other_came, 0) << "the other peer was never answered";
  EXPECT_LE(greedy_served_when_other_came, 10)
      << "the other peer waited for " << greedy_served_when_other_came << " of the greedy peer's answers";
  close(greedy);
  close(other);
}

}  // namespace
}  // namespace c1m::net
