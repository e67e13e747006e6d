// The server's /stats, read from the client's supervisor loop without ever blocking it: one kept
// HTTP/1.1 connection (a new one a second is what a full conntrack table refuses), one request in
// flight at a time, and the latest answer kept with the moment it came. A server that answers late
// costs late readings, never a stalled client loop (a blocking GET with a 500 ms timeout did that).
// The HTTP is net/http/http_client's, driven here by the loop's events.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/plan/endpoints.hpp"
#include "core/record/server_stats.hpp"
#include "net/base/event_loop.hpp"
#include "net/http/http_client.hpp"

namespace c1m::net {

class StatsPoller {
 public:
  // timeout_s: a request not answered by then fails, and the connection is opened again.
  StatsPoller(event_base* base, Endpoint server, int timeout_s = 10);
  StatsPoller(const StatsPoller&) = delete;
  StatsPoller& operator=(const StatsPoller&) = delete;

  // Sends GET /stats unless a request is already in flight.
  void poll();
  // The latest c1m server stats, if any came.
  const std::optional<ServerStats>& latest() const { return latest_; }
  // CLOCK_MONOTONIC ns of the latest answer; 0 before the first.
  int64_t answered_ns() const { return answered_ns_; }
  // Why the last request failed; "" once one was answered.
  const std::string& error() const { return error_; }

 private:
  static void on_ready(evutil_socket_t, short what, void* self);
  void drive();     // advances the exchange and waits for what it wants next
  void answered();  // the exchange is over

  event_base* base_;
  HttpConnection conn_;
  int timeout_s_;
  EventPtr ready_;  // the socket ready for what the exchange wants, or its deadline
  int64_t deadline_ns_ = 0;
  bool in_flight_ = false;
  std::optional<ServerStats> latest_;
  int64_t answered_ns_ = 0;
  std::string error_ = "no answer yet";
};

}  // namespace c1m::net
