// A small HTTP/1.1 service on its own address, for the server's stats (GET /stats, GET /metrics) and
// the collector (POST /hello, POST /record, GET /runs). Ours rather than evhttp, for the bounds a
// service open to a lab network needs and libevent 2.1's evhttp does not give: a cap on connections
// (at it, the longest-idle kept-alive connection makes room; only when every one is mid-request does
// a newcomer get 503), a deadline on each whole request (a slow sender is cut off, not kept alive
// byte by byte), bounded heads and bodies, no more requests read from a peer while its answers lie
// unread (pipelining cannot grow memory), one request a peer a turn (pipelining cannot starve the
// others), a token checked on the head before any body is read, accept errors that back off, and a
// handler's exception answered 500 instead of ending the process.
// Never on the data ports.
#pragma once
#include <event2/event.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/collector/http_request.hpp"
#include "core/plan/endpoints.hpp"

struct evconnlistener;
struct bufferevent;

namespace c1m::net {

struct HttpReply {
  HttpReply(int status_code, std::string type, std::string text)
      : status(status_code), content_type(std::move(type)), body(std::move(text)) {}
  int status;
  std::string content_type;
  std::string body;
};

struct HttpRequest {
  std::string path;  // "/runs/4f2a..."
  std::string body;
};

// Who may ask a route: anyone (health, stats), a holder of the participants' token (hello, record),
// or a holder of the lab's own token (closing a run; the participants' token where none is set).
enum class Access { open, participant, admin };

struct HttpLimits {
  size_t max_body_bytes = 0;                // 0: requests may carry no body (GET-only services)
  size_t max_head_bytes = 8192;             // request line and headers
  size_t max_connections = 256;             // open at once; past it a connection gets 503 and is closed
  int request_timeout_s = 10;               // from a request's first byte to its last
  int idle_timeout_s = 60;                  // between requests on a kept-alive connection
  size_t max_unread_reply_bytes = 1 << 20;  // answers a peer has not read; past it, its requests wait
};

class HttpService {
 public:
  using Handler = std::function<HttpReply(const HttpRequest& request)>;

  HttpService(event_base* base, HttpLimits limits);
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;
  // A path ending in '*' serves every path that starts with what comes before it ("/runs/*").
  void route(const std::string& method, const std::string& path, Handler handler, Access access = Access::open);
  // Routes of that access then need "Authorization: Bearer TOKEN": checked on the head, and a request
  // without it gets 403 and the connection closed before its body is read. Empty: open.
  void require_token(Access access, std::string token) { tokens_[access] = std::move(token); }

  // Opens the listening socket (before any worker is forked, so a clash stops everything);
  // -1 with errno set on failure.
  static int open_socket(const Endpoint& at);
  // Serves on a socket from open_socket; takes ownership. False if it cannot.
  bool serve(int fd);
  size_t open_connections() const { return connections_.size(); }

 private:
  struct Connection;
  struct Route {
    Handler handler;
    Access access = Access::open;
  };
  static void on_accept(evconnlistener* listener, evutil_socket_t fd, struct sockaddr*, int, void* self);
  static void on_accept_error(evconnlistener* listener, void* self);
  static void on_read(bufferevent* bev, void* conn);
  static void on_written(bufferevent* bev, void* conn);
  static void on_event(bufferevent* bev, short what, void* conn);
  static void on_deadline(evutil_socket_t, short, void* conn);
  static void on_next_turn(evutil_socket_t, short, void* conn);

  // Serves the next whole request in the connection's input, and the one after it on the loop's next
  // turn; after a refusal or a last reply, reads no more.
  void serve_requests(Connection* c);
  const Route* find_route(const std::string& method, const std::string& path) const;
  bool allowed(const RequestHead& head) const;  // its route's token, if it has one, is in its head
  HttpReply dispatch(const std::string& method, const std::string& path, std::string body);
  // At the cap: closes the connection idle the longest (between requests, nothing owed to it). False
  // when every connection is in the middle of a request.
  bool evict_idle();
  void send(Connection* c, const HttpReply& reply, bool keep_alive);
  void arm(Connection* c, int seconds);
  void close(Connection* c);
  // At most once every 10 s per kind: a flood of refusals must not become a flood of log lines.
  void say(const char* kind, const std::string& line);

  event_base* base_;
  HttpLimits limits_;
  evconnlistener* listener_ = nullptr;
  std::map<std::string, Route> routes_;  // "GET /stats" -> handler; "GET /runs/*" for a prefix
  std::map<Access, std::string> tokens_;
  uint64_t activity_ = 0;  // a clock of requests served: which idle connection is the oldest
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
  std::map<std::string, std::pair<time_t, uint64_t>> said_;  // kind -> (last said, count)
};

}  // namespace c1m::net
