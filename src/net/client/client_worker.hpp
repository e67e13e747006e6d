// One client worker process: opens its share of the connections at the configured rate, with a
// bound on connects in flight and a connect timeout, then holds them (in a HoldSet: a kernel epoll
// set of their own, no libevent event and no buffer per connection) and optionally pings each one
// every interval. Reports counters to the parent twice a second when they change, and its latency
// histograms when told to stop.
#pragma once
#include <openssl/ssl.h>

#include <cstdint>

#include "core/plan/client_config.hpp"
#include "core/plan/plan.hpp"
#include "core/proto/reply.hpp"

namespace c1m::net {

struct ClientWorkerConfig {
  ConnectPlan plan;  // the whole run's plan: this worker takes indices [first, first + quota)
  uint64_t first = 0;
  uint64_t quota = 0;
  double rate_per_s = 0;         // this worker's share; 0 = as fast as in-flight allows
  uint64_t max_in_flight = 200;  // connects in flight at once (the client's default per worker)
  int64_t connect_timeout_ns = 10'000'000'000;
  int64_t ping_interval_ns = 0;  // 0 = no pings
  // The live hold: pings wait for SIGUSR1, which the parent sends when the idle hold has ended.
  bool ping_after_signal = false;
  uint32_t index = 0;
  uint32_t workers = 1;  // how many share the plan: each has its own spare ports
  int control_fd = -1;
  const char* live_sched = "normal";                 // the scheduling policy from the first ping on (core/host)
  proto::Protocol protocol = proto::Protocol::echo;  // what a ping is and how its answer reads
  const proto::PingText* ping_text = nullptr;        // the HTTP request, made once a run
  uint32_t nonce = 0;                                // this run's: MQTT client ids differ between runs
  // --find-limit: SIGUSR2 from the parent ends the ramp where it is (what is open is held).
  bool stop_on_signal = false;
  // --tls: the parent's client context (net/tls/tls_context), and the name to send and check.
  SSL_CTX* tls = nullptr;
  const TlsSettings* tls_settings = nullptr;
};

// Worker `index`'s share of the run: connections [first, first + quota) of the plan.
ClientWorkerConfig worker_config(const ClientConfig& run, uint32_t index, uint64_t first, uint64_t quota,
                                 int control_fd, uint32_t nonce, SSL_CTX* tls);

int run_client_worker(const ClientWorkerConfig& config);

}  // namespace c1m::net
