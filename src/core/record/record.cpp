#include "core/record/record.hpp"

#include <cstdio>

#include "build_info.hpp"

namespace c1m {
namespace {

ojson delta_map(const std::map<std::string, uint64_t>& before, const std::map<std::string, uint64_t>& after) {
  ojson d = ojson::object();
  for (const auto& [k, v] : after) {
    auto it = before.find(k);
    if (it != before.end()) d[k] = static_cast<int64_t>(v) - static_cast<int64_t>(it->second);
  }
  return d;
}

}  // namespace

ojson errors_json(const ErrorCounts& e) {
  ojson j;
  for (size_t i = 0; i < kErrorClassCount; ++i) j[error_class_name(static_cast<ErrorClass>(i))] = e.by_class[i];
  return j;
}

std::optional<double> per_connection(uint64_t grown_bytes_total, uint64_t baseline_total, uint64_t connections) {
  if (connections == 0 || grown_bytes_total < baseline_total) return std::nullopt;
  return static_cast<double>(grown_bytes_total - baseline_total) / static_cast<double>(connections);
}

std::optional<double> kernel_bytes_per_socket(const procfs::KernelSnapshot& before,
                                              const procfs::KernelSnapshot& after) {
  if (!before.slab_bytes || !after.slab_bytes) return std::nullopt;
  auto a0 = before.sockstat.find("TCP.alloc"), a1 = after.sockstat.find("TCP.alloc");
  // Slab moves by megabytes on its own: over a handful of new sockets the quotient is noise (a run
  // that connected nothing once said 2,364,416 B a socket, from 6).
  constexpr uint64_t kFewestSockets = 1000;
  if (a0 == before.sockstat.end() || a1 == after.sockstat.end() || a1->second < a0->second + kFewestSockets)
    return std::nullopt;
  double slab = static_cast<double>(*after.slab_bytes) - static_cast<double>(*before.slab_bytes);
  if (slab <= 0) return std::nullopt;  // the kernel freed more than the run took: noise, not a cost
  return slab / static_cast<double>(a1->second - a0->second);
}

namespace {

// The kernel's side: sockets in use, TcpExt counters, sockstat and conntrack, and the errors by class.
void add_kernel_figures(const ClientRun& run, RunResults& x) {
  const auto& before = run.kernel_before.sockstat;
  const auto& peak = run.kernel_at_peak.sockstat;
  auto inuse0 = before.find("TCP.inuse"), inuse1 = peak.find("TCP.inuse");
  if (inuse1 != peak.end()) x.kernel_tcp_inuse_at_peak = inuse1->second;
  if (inuse0 != before.end() && inuse1 != peak.end())
    x.kernel_tcp_inuse_delta = static_cast<int64_t>(inuse1->second) - static_cast<int64_t>(inuse0->second);
  for (size_t i = 0; i < kErrorClassCount; ++i)
    x.errors[error_class_name(static_cast<ErrorClass>(i))] = run.totals.errors.by_class[i];
  x.errors_total = run.totals.errors.total();
  for (const auto& [k, v] : run.kernel_at_peak.tcpext)
    if (auto it = run.kernel_before.tcpext.find(k); it != run.kernel_before.tcpext.end())
      x.tcpext_delta[k] = static_cast<int64_t>(v) - static_cast<int64_t>(it->second);
  x.sockstat_before = before;
  x.sockstat_at_peak = peak;
  x.conntrack_at_peak = conntrack_json(run.kernel_at_peak);  // the client's own namespace
}

// CPU on each side: the ramp's (the machine's counters at its ends), the hold's, the live hold's.
void add_cpu_figures(const ClientRun& run, RunResults& x) {
  x.hold_cpu_cores_client = run.hold_cpu_cores_client;
  x.hold_cpu_cores_server = run.hold_cpu_cores_server;
  if (run.ramp_machine_cpu_start && run.ramp_machine_cpu_end) {
    const procfs::MachineCpu &a = *run.ramp_machine_cpu_start, &b = *run.ramp_machine_cpu_end;
    auto s = [](uint64_t ns) { return static_cast<double>(ns) / 1e9; };
    x.ramp_cpu_busy_s = s(b.busy_ns - a.busy_ns);
    x.ramp_cpu_steal_s = s(b.steal_ns - a.steal_ns);
    x.ramp_cpu_machine_counters = {{"busy_s_start", s(a.busy_ns)},
                                   {"busy_s_end", s(b.busy_ns)},
                                   {"steal_s_start", s(a.steal_ns)},
                                   {"steal_s_end", s(b.steal_ns)}};
  }
  x.ramp_cpu_client_s = run.ramp_cpu_client_s;
  x.ramp_cpu_client_user_s = run.ramp_cpu_client_user_s;
  if (run.server_stats) {
    x.ramp_cpu_server_s = run.server_stats->ramp_cpu();
    x.ramp_cpu_server_user_s = run.server_stats->ramp_cpu_user();
  } else if (run.target_ramp_cpu_s) {
    x.ramp_cpu_server_s = run.target_ramp_cpu_s;
    x.ramp_cpu_server_user_s = run.target_ramp_cpu_user_s;
  }
  if (run.live_hold_s) {
    x.live_hold_s = run.live_hold_s;
    x.live_pings_per_s = static_cast<double>(run.live_pings) / *run.live_hold_s;
    x.live_cpu_cores_client = run.live_cpu_cores_client;
    x.live_cpu_cores_server = run.live_cpu_cores_server;
    x.live_cpu_machine_busy_cores = run.live_machine_busy_cores;
    x.live_cpu_machine_steal_cores = run.live_machine_steal_cores;
  }
}

// Memory: the kernel's (Slab, per socket, the slab caches that grew) and each side's user memory.
RunMemory memory_of(const ClientRun& run) {
  RunMemory m;
  const auto& kb = run.kernel_before;
  const auto& kp = run.kernel_at_peak;
  if (kb.slab_bytes && kp.slab_bytes)
    m.slab_delta_bytes = static_cast<int64_t>(*kp.slab_bytes) - static_cast<int64_t>(*kb.slab_bytes);
  m.kernel_bytes_per_socket = kernel_bytes_per_socket(kb, kp);
  m.mem_available_at_peak_bytes = kp.mem_available_bytes;
  if (kp.slabinfo_readable) {
    m.slab_caches = ojson::object();
    for (const auto& [name, c] : kp.caches) {
      auto it = kb.caches.find(name);
      int64_t was = it == kb.caches.end() ? 0 : static_cast<int64_t>(it->second.active_objs);
      m.slab_caches[name] = {{"objects_delta", static_cast<int64_t>(c.active_objs) - was},
                             {"object_size_bytes", c.objsize_bytes}};
    }
  } else {
    m.slab_caches_note = "/proc/slabinfo not readable (needs root)";
  }
  const ClientCounters& t = run.totals;
  m.user_bytes_per_connection_client = per_connection(t.rss_at_peak_bytes, t.rss_baseline_bytes, t.established_peak);
  if (run.server_stats) m.user_bytes_per_connection_server = run.server_stats->user_bytes_per_connection;
  if (run.config.is_object() && run.config.value("tls", ojson(nullptr)).is_object())
    m.tls_library_bytes_per_connection_client =
        t.established_peak > 0 ? std::optional<double>(static_cast<double>(t.tls.library_bytes_at_peak) /
                                                       static_cast<double>(t.established_peak))
                               : std::nullopt;
  if (run.server_stats) m.tls_library_bytes_per_connection_server = run.server_stats->tls_library_bytes_per_connection;
  if (!run.server_stats) {
    m.user_bytes_per_connection_server = run.target_user_bytes_per_connection;
    m.kernel_bytes_per_connection_server = run.target_kernel_bytes_per_connection;
  }
  return m;
}

}  // namespace

RunRecord build_client_record(const ClientRun& run) {
  const ClientCounters& t = run.totals;
  RunRecord r;
  r.run_id = run.run_id;
  r.status = run.status;
  if (!run.reason.empty()) r.reason = run.reason;
  r.warnings = run.warnings;
  r.tool = {{"name", "c1m"}, {"version", kVersion}, {"git_sha", kGitSha}};
  r.started_unix_ms = run.started_unix_ms;
  r.ended_unix_ms = run.ended_unix_ms;
  r.approach = run.approach;
  r.config = run.config;
  r.topology = run.topology;
  r.host = run.host;
  r.limits = run.limits;
  r.limits["workers"] = run.workers;
  r.sysctls = run.sysctls;

  RunResults& x = r.results;
  x.established_peak_client = run.established_peak;
  x.established_peak_server = run.server_connections_peak;
  x.attempted = t.attempted;
  x.connected_total = t.connected_total;
  if (t.quota_reached_ns >= 0 && t.quota > 0)
    x.time_to_target_s = static_cast<double>(t.quota_reached_ns - run.ramp_start_ns) / 1e9;
  if (t.settled_ns >= 0) x.ramp_duration_s = static_cast<double>(t.settled_ns - run.ramp_start_ns) / 1e9;
  double rate_window = x.time_to_target_s.value_or(x.ramp_duration_s.value_or(0));
  if (rate_window > 0) x.connect_rate_per_s = static_cast<double>(t.connected_total) / rate_window;
  // The whole distributions, so records from many clients merge into exact percentiles.
  x.connect_us = run.histograms.connect_us;
  x.rtt_us = run.histograms.rtt_us;
  x.tls_handshake_us = run.histograms.tls_handshake_us;
  x.pings_sent = t.pings_sent;
  x.pongs_received = t.pongs_received;
  x.pings_late = t.pings_late;
  x.limit_connections = run.limit_connections;
  if (run.config.is_object() && run.config.value("tls", ojson(nullptr)).is_object()) {
    x.tls_handshakes = t.tls.handshakes;
    x.tls_resumed = t.tls.resumed;
    x.tls_tickets = t.tls.tickets;
    x.tls_library_peak_bytes_client = t.tls.library_peak_bytes;
    if (!t.tls.first_error_text().empty()) x.tls_first_error = t.tls.first_error_text();
  }
  // HTTP's answers: an http run's, or a WebSocket run's upgrades the server refused (a 101 is none).
  const std::string protocol = run.config.is_object() ? run.config.value("protocol", std::string()) : "";
  if (protocol == "http" || protocol == "websocket") {
    x.http_replies_2xx = t.replies_by_class[2];
    x.http_replies_3xx = t.replies_by_class[3];
    x.http_replies_4xx = t.replies_by_class[4];
    x.http_replies_5xx = t.replies_by_class[5];
  }
  x.source_port_fallbacks = t.source_port_fallbacks;
  add_cpu_figures(run, x);
  add_kernel_figures(run, x);
  derive_per_unit_figures(x);

  r.memory = memory_of(run);
  r.series = run.series;
  r.server = run.server_stats ? to_json(*run.server_stats) : ojson(nullptr);
  if (!run.server_stats_error.empty()) r.server_stats_error = run.server_stats_error;
  return r;
}

ojson tcpext_delta(const procfs::KernelSnapshot& before, const procfs::KernelSnapshot& after) {
  return delta_map(before.tcpext, after.tcpext);
}

ojson conntrack_json(const procfs::KernelSnapshot& s) {
  return {{"count", s.conntrack_count ? ojson(*s.conntrack_count) : ojson(nullptr)},
          {"max", s.conntrack_max ? ojson(*s.conntrack_max) : ojson(nullptr)}};
}

}  // namespace c1m
