#include "net/admin_http.hpp"

#include <event2/buffer.h>
#include <event2/http.h>

#include <cerrno>
#include <cstring>

#include "net/server_worker.hpp"

namespace c1m::net {

void AdminHttp::EvhttpFree::operator()(struct evhttp* h) const { evhttp_free(h); }

AdminHttp::AdminHttp(event_base* base, Render stats_json, Render metrics_text)
    : http_(evhttp_new(base)), stats_json_(std::move(stats_json)), metrics_text_(std::move(metrics_text)) {
  evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET);
  evhttp_set_max_headers_size(http_.get(), 8192);
  evhttp_set_max_body_size(http_.get(), 0);
  evhttp_set_timeout(http_.get(), 5);
  evhttp_set_gencb(http_.get(), &AdminHttp::on_request, this);
}

AdminHttp::~AdminHttp() = default;

int AdminHttp::open_socket(const Endpoint& at) { return open_listener(at, 128, false); }

bool AdminHttp::serve(int fd) {
  if (evhttp_accept_socket_with_handle(http_.get(), fd)) return true;
  ::close(fd);
  return false;
}

void AdminHttp::on_request(::evhttp_request* req, void* arg) {
  auto* self = static_cast<AdminHttp*>(arg);
  const char* path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
  std::string p = path ? path : "";
  std::string body;
  const char* type = "text/plain; charset=utf-8";
  if (p == "/stats") {
    body = self->stats_json_();
    type = "application/json";
  } else if (p == "/metrics") {
    body = self->metrics_text_();
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else {
    evhttp_send_error(req, HTTP_NOTFOUND, "try /stats or /metrics");
    return;
  }
  evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, body.data(), body.size());
  evhttp_send_reply(req, HTTP_OK, "OK", out);
  evbuffer_free(out);
}

}  // namespace c1m::net
