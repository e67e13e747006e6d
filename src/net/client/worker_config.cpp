// Worker `index`'s share of the run (net/client/client_worker), by name from the run's configuration.
#include "net/client/client_worker.hpp"

namespace c1m::net {

ClientWorkerConfig worker_config(const ClientConfig& r, uint32_t index, uint64_t first, uint64_t quota, int control_fd,
                                 uint32_t nonce, SSL_CTX* tls) {
  ClientWorkerConfig cfg;
  cfg.plan = r.plan;
  cfg.first = first;
  cfg.quota = quota;
  cfg.rate_per_s = r.rate / static_cast<double>(r.workers);
  cfg.max_in_flight = r.in_flight_per_worker;
  cfg.connect_timeout_ns = r.connect_timeout_ns;
  cfg.ping_interval_ns = r.ping_interval_ns;
  cfg.ping_after_signal = r.live_ns > 0 && r.slo_p99_ns == 0;  // an objective watches the ramp's pings
  cfg.index = index;
  cfg.workers = static_cast<uint32_t>(r.workers);
  cfg.control_fd = control_fd;
  cfg.live_sched = r.live_sched.c_str();
  cfg.protocol = r.protocol;
  cfg.ping_text = &r.ping_text;
  cfg.nonce = nonce;
  cfg.stop_on_signal = r.find_limit;
  cfg.tls = tls;
  cfg.tls_settings = &r.tls;
  return cfg;
}

}  // namespace c1m::net
