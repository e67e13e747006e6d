// The kept stats connection: one TCP connection for many requests, and a late answer that costs
// one poll, not the connection (a full conntrack table refuses the new one it would need).
#include "net/http/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace c1m::net {
namespace {

// A one-connection HTTP/1.1 server on 127.0.0.1 (port 0: the kernel picks): answers each request
// with its number as the body, after `delay_ms[i]`. Counts the connections it accepted.
struct TinyServer {
  int listener = -1;
  uint16_t port = 0;
  std::atomic<int> accepted{0};
  std::thread thread;

  explicit TinyServer(std::vector<int> delay_ms) {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listener, 8);
    socklen_t len = sizeof a;
    getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread = std::thread([this, delay_ms] {
      int fd = accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted;
      std::string in;
      char buf[4096];
      for (size_t i = 0; i < delay_ms.size(); ++i) {
        while (in.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = recv(fd, buf, sizeof buf, 0);
          if (n <= 0) return (void)close(fd);
          in.append(buf, static_cast<size_t>(n));
        }
        in.erase(0, in.find("\r\n\r\n") + 4);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms[i]));
        std::string body = "answer " + std::to_string(i + 1);
        std::string out = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      close(fd);
    });
  }
  ~TinyServer() {
    shutdown(listener, SHUT_RDWR);
    thread.join();
    close(listener);
  }
  Endpoint at() const { return Endpoint{Ipv4{0x7f000001}, port}; }
};

TEST(HttpConnection, KeepsOneConnectionForManyRequests) {
  TinyServer server({0, 0, 0});
  HttpConnection c(server.at());
  for (int i = 1; i <= 3; ++i) {
    HttpResult r = c.get("/stats", 2000);
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "answer " + std::to_string(i));
  }
  EXPECT_EQ(server.accepted.load(), 1);
}

TEST(HttpConnection, ALateAnswerIsTheNextPollsNotALostConnection) {
  TinyServer server({400, 0});
  HttpConnection c(server.at());
  HttpResult late = c.get("/stats", 100);
  EXPECT_EQ(late.status, 0);
  EXPECT_NE(late.error.find("in time"), std::string::npos) << late.error;
  // The next call returns the owed answer (a poll old) without asking again; the one after asks.
  HttpResult next = c.get("/stats", 2000);
  EXPECT_EQ(next.status, 200) << next.error;
  EXPECT_EQ(next.body, "answer 1");
  HttpResult fresh = c.get("/stats", 2000);
  EXPECT_EQ(fresh.status, 200) << fresh.error;
  EXPECT_EQ(fresh.body, "answer 2");
  EXPECT_EQ(server.accepted.load(), 1);
}

// The machine under exchange() is the one an event loop drives (StatsPoller): begun, advanced each
// time the socket is ready for what it wants, taken when it wants nothing, on the same kept connection.
TEST(HttpConnection, TheSameExchangeRunsWithoutEverBlocking) {
  TinyServer server({0, 50});
  HttpConnection c(server.at());
  for (int i = 1; i <= 2; ++i) {
    c.begin("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", 1 << 20);
    int rounds = 0;
    for (HttpConnection::Want want = c.advance(); want != HttpConnection::Want::nothing; want = c.advance()) {
      pollfd p{c.fd(), static_cast<short>(want == HttpConnection::Want::read ? POLLIN : POLLOUT), 0};
      ASSERT_GT(poll(&p, 1, 2000), 0) << "the socket never became ready for what the exchange wants";
      ASSERT_LT(++rounds, 100);
    }
    HttpResult r = c.take();
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "answer " + std::to_string(i));
  }
  EXPECT_EQ(server.accepted.load(), 1);
  // Given up at its deadline: the connection goes, and the result says why.
  c.begin("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", 1 << 20);
  c.advance();
  c.abandon("no answer within 10 s");
  HttpResult gone = c.take();
  EXPECT_EQ(gone.status, 0);
  EXPECT_EQ(gone.error, "no answer within 10 s");
  EXPECT_EQ(c.fd(), -1);
}

TEST(HttpConnection, NothingListeningIsSaidNotWaitedFor) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);  // a port nothing listens on
  HttpResult r = http_get(Endpoint{Ipv4{0x7f000001}, ntohs(a.sin_port)}, "/stats", 2000);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("Connection refused"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace c1m::net
