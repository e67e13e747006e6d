#include "net/client/series_sampler.hpp"

#include "core/host/clock.hpp"

namespace c1m::net {

SeriesPoint SeriesSampler::point(const ClientCounters& t, int64_t now, const procfs::CpuTime& client_cpu,
                                 const std::optional<CpuReading>& server_cpu) {
  SeriesPoint p;
  p.t_s = seconds(now - ramp_start_ns_);
  p.established = t.established;
  double since_last_s = seconds(now - (last_sample_ns_ ? last_sample_ns_ : ramp_start_ns_));
  p.connect_rate_per_s = since_last_s > 0 ? static_cast<double>(t.connected_total - last_connected_) / since_last_s : 0;
  last_connected_ = t.connected_total;
  p.ping_rtt_us = t.rtt_us.since(last_rtt_us_);
  last_rtt_us_ = t.rtt_us;
  // What the machine did in that second: a slow second beside the hypervisor's steal explains itself.
  if (auto cpu = procfs::machine_cpu()) {
    if (last_machine_cpu_ && since_last_s > 0) {
      p.machine_busy_cores = procfs::busy_cores(*last_machine_cpu_, *cpu, since_last_s);
      p.machine_steal_cores = procfs::steal_cores(*last_machine_cpu_, *cpu, since_last_s);
    }
    last_machine_cpu_ = cpu;
  }
  if (since_last_s > 0) p.client_cores = client_cpu.since(last_client_cpu_).total_s() / since_last_s;
  last_client_cpu_ = client_cpu;
  // The server's readings come when it answers: a point has its cores only from a newer one.
  if (server_cpu && last_server_cpu_) p.server_cores = cores_between(*last_server_cpu_, *server_cpu, 1);
  if (server_cpu) last_server_cpu_ = server_cpu;
  last_sample_ns_ = now;
  p.errors = t.errors.total();
  return p;
}

}  // namespace c1m::net
