// The server's stats endpoint on its own admin address: GET /stats (JSON) and GET /metrics
// (Prometheus text). evhttp is hardened as the design notes ask: GET only, small header and body
// limits, a timeout, and bound to the admin address, never the data ports.
#pragma once
#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>

#include "core/endpoints.hpp"

struct evhttp;
struct evhttp_request;

namespace c1m::net {

class AdminHttp {
 public:
  using Render = std::function<std::string()>;
  AdminHttp(event_base* base, Render stats_json, Render metrics_text);
  ~AdminHttp();
  // Opens the admin listening socket (before any worker is forked, so a clash stops everything);
  // -1 with errno set on failure.
  static int open_socket(const Endpoint& at);
  // Serves HTTP on a socket from open_socket; takes ownership. False if evhttp refused it.
  bool serve(int fd);

 private:
  static void on_request(::evhttp_request* req, void* self);
  struct EvhttpFree {
    void operator()(struct evhttp* h) const;
  };
  std::unique_ptr<struct evhttp, EvhttpFree> http_;
  Render stats_json_;
  Render metrics_text_;
};

}  // namespace c1m::net
