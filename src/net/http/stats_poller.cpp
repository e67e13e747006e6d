#include "net/http/stats_poller.hpp"

#include "core/host/clock.hpp"

namespace c1m::net {
namespace {

constexpr size_t kMaxStatsBytes = 1 << 20;

}  // namespace

StatsPoller::StatsPoller(event_base* base, Endpoint server, int timeout_s)
    : base_(base), conn_(server), timeout_s_(timeout_s) {}

void StatsPoller::poll() {
  if (in_flight_) return;
  in_flight_ = true;
  deadline_ns_ = monotonic_ns() + int64_t{timeout_s_} * 1'000'000'000;
  conn_.begin("GET /stats HTTP/1.1\r\nHost: " + conn_.at().str() + "\r\n\r\n", kMaxStatsBytes);
  drive();
}

void StatsPoller::on_ready(evutil_socket_t, short what, void* self) {
  auto* p = static_cast<StatsPoller*>(self);
  if (what & EV_TIMEOUT) {
    p->conn_.abandon("GET /stats from " + p->conn_.at().str() + ": no answer within " + std::to_string(p->timeout_s_) +
                     " s");
    return p->answered();
  }
  p->drive();
}

void StatsPoller::drive() {
  HttpConnection::Want want = conn_.advance();
  if (want == HttpConnection::Want::nothing) return answered();
  ready_ = new_event(base_, conn_.fd(), want == HttpConnection::Want::read ? EV_READ : EV_WRITE, &StatsPoller::on_ready,
                     this, "the server's stats poll");
  int64_t left_ns = std::max<int64_t>(deadline_ns_ - monotonic_ns(), 0);
  timeval tv{static_cast<time_t>(left_ns / 1'000'000'000), static_cast<suseconds_t>(left_ns % 1'000'000'000 / 1000)};
  add_event(ready_.get(), &tv, "the server's stats poll");
}

void StatsPoller::answered() {
  in_flight_ = false;
  ready_.reset();
  HttpResult res = conn_.take();
  if (res.status != 200) {
    error_ = res.status ? "GET /stats answered " + std::to_string(res.status) : res.error;
    return;
  }
  std::string why = "not JSON";
  auto j = ojson::parse(res.body, nullptr, false);
  auto stats = j.is_discarded() ? std::nullopt : server_stats_from_json(j, &why);
  if (!stats) {
    error_ = "GET /stats from " + conn_.at().str() + " did not return c1m server stats (" + why + ")";
    return;
  }
  latest_ = std::move(stats);
  answered_ns_ = monotonic_ns();
  error_.clear();
}

}  // namespace c1m::net
