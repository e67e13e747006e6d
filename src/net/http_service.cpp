#include "net/http_service.hpp"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <vector>

#include "net/server_worker.hpp"

namespace c1m::net {

void HttpService::EvhttpFree::operator()(struct evhttp* h) const { evhttp_free(h); }

HttpService::HttpService(event_base* base, size_t max_body_bytes) : http_(evhttp_new(base)) {
  evhttp_set_allowed_methods(http_.get(), max_body_bytes ? (EVHTTP_REQ_GET | EVHTTP_REQ_POST) : EVHTTP_REQ_GET);
  evhttp_set_max_headers_size(http_.get(), 8192);
  evhttp_set_max_body_size(http_.get(), static_cast<ev_ssize_t>(max_body_bytes));
  evhttp_set_timeout(http_.get(), 10);
  evhttp_set_gencb(http_.get(), &HttpService::on_request, this);
}

HttpService::~HttpService() = default;

void HttpService::route(const std::string& method, const std::string& path, Handler handler) {
  routes_[method + " " + path] = std::move(handler);
}

int HttpService::open_socket(const Endpoint& at) { return open_listener(at, 128, false); }

bool HttpService::serve(int fd) {
  evhttp_bound_socket* bound = evhttp_accept_socket_with_handle(http_.get(), fd);
  if (!bound) {
    ::close(fd);
    return false;
  }
  listener_ = evhttp_bound_socket_get_listener(bound);
  evconnlistener_set_error_cb(listener_, &HttpService::on_accept_error);
  return true;
}

// accept() failed for a reason that does not pass by itself (out of file descriptors): the socket
// stays readable, and libevent would call accept again at once, forever, logging each time. Pause
// accepting for a moment instead, say so at most every 10 s, and accept again when files free up.
void HttpService::on_accept_error(evconnlistener* listener, void*) {
  int err = errno;
  evconnlistener_disable(listener);
  event_base* base = evconnlistener_get_base(listener);
  timeval pause{0, 200000};
  event_base_once(
      base, -1, EV_TIMEOUT,
      [](evutil_socket_t, short, void* l) { evconnlistener_enable(static_cast<evconnlistener*>(l)); }, listener,
      &pause);
  static uint64_t refused = 0;
  static timeval said{0, 0};
  ++refused;
  timeval now{};
  event_base_gettimeofday_cached(base, &now);
  if (said.tv_sec == 0 || now.tv_sec - said.tv_sec >= 10) {
    std::fprintf(stderr,
                 "c1m: HTTP accept failed (%s); pausing accepts 200 ms at a time until it passes (%llu so far)\n",
                 std::strerror(err), static_cast<unsigned long long>(refused));
    said = now;
  }
}

void HttpService::on_request(::evhttp_request* req, void* arg) {
  auto* self = static_cast<HttpService*>(arg);
  const char* path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
  const char* method = evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET";
  std::string key = std::string(method) + " " + (path ? path : "");
  auto it = self->routes_.find(key);
  for (auto r = self->routes_.begin(); it == self->routes_.end() && r != self->routes_.end(); ++r)
    if (r->first.ends_with('*') && key.starts_with(std::string_view(r->first).substr(0, r->first.size() - 1))) it = r;
  if (it == self->routes_.end()) {
    std::string known;
    for (const auto& [k, _] : self->routes_) known += (known.empty() ? "" : ", ") + k;
    evhttp_send_error(req, HTTP_NOTFOUND, ("routes: " + known).c_str());
    return;
  }
  evbuffer* in = evhttp_request_get_input_buffer(req);
  std::string body(evbuffer_get_length(in), '\0');
  if (!body.empty()) evbuffer_remove(in, body.data(), body.size());
  HttpReply reply = it->second(HttpRequest{path ? path : "", std::move(body)});
  evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", reply.content_type.c_str());
  if (reply.after_sent) {
    self->after_sent_[req] = std::move(reply.after_sent);
    evhttp_request_set_on_complete_cb(req, &HttpService::on_reply_sent, self);
  }
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, reply.body.data(), reply.body.size());
  evhttp_send_reply(req, reply.status, reply.status < 300 ? "OK" : "Error", out);
  evbuffer_free(out);
}

void HttpService::on_reply_sent(::evhttp_request* req, void* arg) {
  auto& pending = static_cast<HttpService*>(arg)->after_sent_;
  auto it = pending.find(req);
  if (it == pending.end()) return;
  std::function<void()> then = std::move(it->second);
  pending.erase(it);
  then();
}

}  // namespace c1m::net
