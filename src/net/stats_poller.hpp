// The server's /stats, read from the client's supervisor loop without ever blocking it: one kept
// HTTP/1.1 connection (a new one a second is what a full conntrack table refuses), one request in
// flight at a time, and the latest answer kept with the moment it came. A server that answers late
// costs late readings, never a stalled client loop (a blocking GET with a 500 ms timeout did that).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/plan/endpoints.hpp"
#include "core/record/server_stats.hpp"
#include "net/event_loop.hpp"

struct evhttp_connection;
struct evhttp_request;

namespace c1m::net {

class StatsPoller {
 public:
  using ojson = nlohmann::ordered_json;

  // timeout_s: a request not answered by then fails, and the connection is opened again.
  StatsPoller(event_base* base, Endpoint server, int timeout_s = 10);
  ~StatsPoller();
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
  static void on_done(evhttp_request* req, void* self);
  void answered(evhttp_request* req);

  event_base* base_;
  Endpoint server_;
  int timeout_s_;
  evhttp_connection* conn_ = nullptr;
  bool in_flight_ = false;
  std::optional<ServerStats> latest_;
  int64_t answered_ns_ = 0;
  std::string error_ = "no answer yet";
};

}  // namespace c1m::net
