// A small HTTP service on its own address, for the server's stats (GET /stats, GET /metrics) and the
// collector (POST /hello, POST /record, GET /status). evhttp is hardened as the design notes ask:
// only the methods a service routes, small header limits, a body limit, a timeout, and never on the
// data ports.
#pragma once
#include <event2/event.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/endpoints.hpp"

struct evhttp;
struct evconnlistener;
struct evhttp_request;

namespace c1m::net {

struct HttpReply {
  HttpReply(int status_code, std::string type, std::string text)
      : status(status_code), content_type(std::move(type)), body(std::move(text)) {}
  int status;
  std::string content_type;
  std::string body;
  // Runs once the reply has been written out: a service that stops after a request stops here,
  // not in the handler, or the client would see its connection closed with no answer.
  std::function<void()> after_sent;
};

struct HttpRequest {
  std::string path;  // "/runs/4f2a..."
  std::string body;
};

class HttpService {
 public:
  using Handler = std::function<HttpReply(const HttpRequest& request)>;

  // max_body_bytes 0: requests may carry no body (GET-only services).
  HttpService(event_base* base, size_t max_body_bytes);
  ~HttpService();
  // A path ending in '*' serves every path that starts with what comes before it ("/runs/*").
  void route(const std::string& method, const std::string& path, Handler handler);

  // Opens the listening socket (before any worker is forked, so a clash stops everything);
  // -1 with errno set on failure.
  static int open_socket(const Endpoint& at);
  // Serves on a socket from open_socket; takes ownership. False if evhttp refused it.
  bool serve(int fd);

 private:
  static void on_request(::evhttp_request* req, void* self);
  static void on_reply_sent(::evhttp_request* req, void* self);  // runs the reply's after_sent
  static void on_accept_error(struct evconnlistener* listener, void* self);
  struct EvhttpFree {
    void operator()(struct evhttp* h) const;
  };
  std::unique_ptr<struct evhttp, EvhttpFree> http_;
  struct evconnlistener* listener_ = nullptr;  // evhttp's, on the socket serve() was given
  std::map<std::string, Handler> routes_;      // "GET /stats" -> handler; "GET /runs/*" for a prefix
  // after_sent of replies still being written, by request (held here, so none leaks if a client vanishes)
  std::map<const ::evhttp_request*, std::function<void()>> after_sent_;
};

}  // namespace c1m::net
