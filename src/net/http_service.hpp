// A small HTTP/1.1 service on its own address, for the server's stats (GET /stats, GET /metrics) and
// the collector (POST /hello, POST /record, GET /runs). Ours rather than evhttp, for the bounds a
// service open to a lab network needs and libevent 2.1's evhttp does not give: a cap on connections
// (past it, 503 and close), a deadline on each whole request (a slow sender is cut off, not kept alive
// byte by byte), bounded heads and bodies, accept errors that back off, and a handler's exception
// answered 500 instead of ending the process. Never on the data ports.
#pragma once
#include <event2/event.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/endpoints.hpp"

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

struct HttpLimits {
  size_t max_body_bytes = 0;     // 0: requests may carry no body (GET-only services)
  size_t max_head_bytes = 8192;  // request line and headers
  size_t max_connections = 256;  // open at once; past it a connection gets 503 and is closed
  int request_timeout_s = 10;    // from a request's first byte to its last
  int idle_timeout_s = 60;       // between requests on a kept-alive connection
};

class HttpService {
 public:
  using Handler = std::function<HttpReply(const HttpRequest& request)>;

  HttpService(event_base* base, HttpLimits limits);
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;
  // A path ending in '*' serves every path that starts with what comes before it ("/runs/*").
  void route(const std::string& method, const std::string& path, Handler handler);

  // Opens the listening socket (before any worker is forked, so a clash stops everything);
  // -1 with errno set on failure.
  static int open_socket(const Endpoint& at);
  // Serves on a socket from open_socket; takes ownership. False if it cannot.
  bool serve(int fd);
  size_t open_connections() const { return connections_.size(); }

 private:
  struct Connection;
  static void on_accept(evconnlistener* listener, evutil_socket_t fd, struct sockaddr*, int, void* self);
  static void on_accept_error(evconnlistener* listener, void* self);
  static void on_read(bufferevent* bev, void* conn);
  static void on_written(bufferevent* bev, void* conn);
  static void on_event(bufferevent* bev, short what, void* conn);
  static void on_deadline(evutil_socket_t, short, void* conn);

  // Serves every whole request in the connection's input; after a refusal or a last reply, reads no more.
  void serve_requests(Connection* c);
  HttpReply dispatch(const std::string& method, const std::string& path, std::string body);
  void send(Connection* c, const HttpReply& reply, bool keep_alive);
  void arm(Connection* c, int seconds);
  void close(Connection* c);
  // At most once every 10 s per kind: a flood of refusals must not become a flood of log lines.
  void say(const char* kind, const std::string& line);

  event_base* base_;
  HttpLimits limits_;
  evconnlistener* listener_ = nullptr;
  std::map<std::string, Handler> routes_;  // "GET /stats" -> handler; "GET /runs/*" for a prefix
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
  std::map<std::string, std::pair<time_t, uint64_t>> said_;  // kind -> (last said, count)
};

}  // namespace c1m::net
