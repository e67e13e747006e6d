#include "net/stats_poller.hpp"

#include <event2/buffer.h>
#include <event2/http.h>

#include "core/host/clock.hpp"

#include <stdexcept>

namespace c1m::net {
namespace {

constexpr size_t kMaxStatsBytes = 1 << 20;

}  // namespace

StatsPoller::StatsPoller(event_base* base, Endpoint server, int timeout_s)
    : base_(base), server_(server), timeout_s_(timeout_s) {}

StatsPoller::~StatsPoller() {
  if (conn_) evhttp_connection_free(conn_);  // cancels a request in flight without calling back
}

void StatsPoller::poll() {
  if (in_flight_) return;
  if (!conn_) {
    conn_ = evhttp_connection_base_new(base_, nullptr, server_.ip.str().c_str(), server_.port);
    if (!conn_) {
      error_ = "cannot create an HTTP connection to " + server_.str();
      return;
    }
    evhttp_connection_set_timeout(conn_, timeout_s_);
    evhttp_connection_set_max_body_size(conn_, kMaxStatsBytes);
    evhttp_connection_set_retries(conn_, 0);
  }
  evhttp_request* req = evhttp_request_new(&StatsPoller::on_done, this);
  if (!req) {
    error_ = "cannot create an HTTP request";
    return;
  }
  evhttp_add_header(evhttp_request_get_output_headers(req), "Host", server_.str().c_str());
  if (evhttp_make_request(conn_, req, EVHTTP_REQ_GET, "/stats") != 0) {  // frees req on failure
    error_ = "cannot send GET /stats to " + server_.str();
    return;
  }
  in_flight_ = true;
}

void StatsPoller::on_done(evhttp_request* req, void* self) { static_cast<StatsPoller*>(self)->answered(req); }

void StatsPoller::answered(evhttp_request* req) {
  in_flight_ = false;
  int status = req ? evhttp_request_get_response_code(req) : 0;
  if (status != 200) {
    error_ = status ? "GET /stats answered " + std::to_string(status)
                    : "GET /stats from " + server_.str() + ": no answer (connection failed or timed out)";
    return;
  }
  evbuffer* in = evhttp_request_get_input_buffer(req);
  std::string body(evbuffer_get_length(in), '\0');
  evbuffer_copyout(in, body.data(), body.size());
  std::string why = "not JSON";
  auto j = ojson::parse(body, nullptr, false);
  auto stats = j.is_discarded() ? std::nullopt : server_stats_from_json(j, &why);
  if (!stats) {
    error_ = "GET /stats from " + server_.str() + " did not return c1m server stats (" + why + ")";
    return;
  }
  latest_ = std::move(stats);
  answered_ns_ = monotonic_ns();
  error_.clear();
}

}  // namespace c1m::net
