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

ojson errors_json(const ErrorCounts& e) {
  ojson j;
  for (size_t i = 0; i < kErrorClassCount; ++i) j[error_class_name(static_cast<ErrorClass>(i))] = e.by_class[i];
  return j;
}

std::optional<double> per_connection(uint64_t grown_bytes_total, uint64_t baseline_total, uint64_t connections) {
  if (connections == 0 || grown_bytes_total < baseline_total) return std::nullopt;
  return static_cast<double>(grown_bytes_total - baseline_total) / static_cast<double>(connections);
}

ojson opt(const std::optional<double>& v) { return v ? ojson(*v) : ojson(nullptr); }

}  // namespace

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
  const auto& before = run.kernel_before.sockstat;
  const auto& peak = run.kernel_at_peak.sockstat;
  auto inuse0 = before.find("TCP.inuse"), inuse1 = peak.find("TCP.inuse");
  if (inuse1 != peak.end()) x.kernel_tcp_inuse_at_peak = inuse1->second;
  if (inuse0 != before.end() && inuse1 != peak.end())
    x.kernel_tcp_inuse_delta = static_cast<int64_t>(inuse1->second) - static_cast<int64_t>(inuse0->second);
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
  x.pings_sent = t.pings_sent;
  x.pongs_received = t.pongs_received;
  x.source_port_fallbacks = t.source_port_fallbacks;
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
  x.pings_late = t.pings_late;
  if (run.live_s) {
    x.live_hold_s = run.live_s;
    x.live_pings_per_s = static_cast<double>(run.live_pings) / *run.live_s;
    x.live_cpu_cores_client = run.live_cpu_cores_client;
    x.live_cpu_cores_server = run.live_cpu_cores_server;
    x.live_cpu_machine_busy_cores = run.live_machine_busy_cores;
    x.live_cpu_machine_steal_cores = run.live_machine_steal_cores;
  }
  x.ramp_cpu_server_s = server_ramp_cpu_s(run.server_stats ? *run.server_stats : ojson(nullptr));
  for (size_t i = 0; i < kErrorClassCount; ++i)
    x.errors[error_class_name(static_cast<ErrorClass>(i))] = t.errors.by_class[i];
  x.errors_total = t.errors.total();
  for (const auto& [k, v] : run.kernel_at_peak.tcpext)
    if (auto it = run.kernel_before.tcpext.find(k); it != run.kernel_before.tcpext.end())
      x.tcpext_delta[k] = static_cast<int64_t>(v) - static_cast<int64_t>(it->second);
  x.sockstat_before = before;
  x.sockstat_at_peak = peak;
  x.conntrack_at_peak = conntrack_json(run.kernel_at_peak);  // the client's own namespace

  derive_per_unit_figures(x);

  const auto& kb = run.kernel_before;
  const auto& kp = run.kernel_at_peak;
  if (kb.slab_bytes && kp.slab_bytes)
    r.memory.slab_delta_bytes = static_cast<int64_t>(*kp.slab_bytes) - static_cast<int64_t>(*kb.slab_bytes);
  r.memory.kernel_bytes_per_socket = kernel_bytes_per_socket(kb, kp);
  r.memory.mem_available_at_peak_bytes = kp.mem_available_bytes;
  if (kp.slabinfo_readable) {
    r.memory.slab_caches = ojson::object();
    for (const auto& [name, c] : kp.caches) {
      auto it = kb.caches.find(name);
      int64_t was = it == kb.caches.end() ? 0 : static_cast<int64_t>(it->second.active_objs);
      r.memory.slab_caches[name] = {{"objects_delta", static_cast<int64_t>(c.active_objs) - was},
                                    {"object_size_bytes", c.objsize_bytes}};
    }
  } else {
    r.memory.slab_caches_note = "/proc/slabinfo not readable (needs root)";
  }
  r.memory.user_bytes_per_connection_client =
      per_connection(t.rss_at_peak_bytes, t.rss_baseline_bytes, t.established_peak);
  if (run.server_stats && (*run.server_stats).contains("user_bytes_per_connection") &&
      (*run.server_stats)["user_bytes_per_connection"].is_number())
    r.memory.user_bytes_per_connection_server = (*run.server_stats)["user_bytes_per_connection"].get<double>();
  r.series = run.series;
  r.server = run.server_stats ? *run.server_stats : ojson(nullptr);
  if (!run.server_stats_error.empty()) r.server_stats_error = run.server_stats_error;
  return r;
}

ojson tcpext_delta(const procfs::KernelSnapshot& before, const procfs::KernelSnapshot& after) {
  return delta_map(before.tcpext, after.tcpext);
}

ojson server_context_json(const ojson& listen, const ojson& limits, const ojson& host, const ojson& sysctls) {
  return {{"listen", listen}, {"limits", limits}, {"host", host}, {"sysctls", sysctls}};
}

ojson conntrack_json(const procfs::KernelSnapshot& s) {
  return {{"count", s.conntrack_count ? ojson(*s.conntrack_count) : ojson(nullptr)},
          {"max", s.conntrack_max ? ojson(*s.conntrack_max) : ojson(nullptr)}};
}

ojson server_stats_json(const ServerCounters& t, uint64_t peak, size_t workers, size_t alive, const ServerCpu& cpu,
                        const ojson& context, const ojson& tcpext_since_start, const ojson& conntrack) {
  ojson j;
  // Not a run record: said so, so a reader handed one refuses it by name.
  j["kind"] = "server_stats";
  j["schema_version"] = kSchemaVersion;
  j["tool"] = {{"name", "c1m"}, {"version", kVersion}, {"git_sha", kGitSha}};
  j["connections"] = t.connections;
  j["connections_peak"] = peak;
  j["accepted_total"] = t.accepted_total;
  j["closed_by_peer"] = t.closed_by_peer;
  j["reset_by_peer"] = t.reset_by_peer;
  j["echoed_bytes"] = t.echoed_bytes;
  j["errors"] = errors_json(t.errors);
  j["accept_paused"] = t.accept_paused;
  j["spread_fallbacks"] = t.spread_fallbacks;
  j["workers"] = workers;
  j["workers_alive"] = alive;
  j["listeners"] = t.listeners;
  j["open_fds"] = t.open_fds;
  j["cpu_seconds"] = cpu.total_s;
  j["ramp_cpu_seconds"] = opt(cpu.ramp_s);
  j["rss_bytes"] = t.rss_bytes;
  j["rss_baseline_bytes"] = t.rss_baseline_bytes;
  j["user_bytes_per_connection"] = opt(per_connection(t.rss_at_peak_bytes, t.rss_baseline_bytes, t.connections_peak));
  j["tcpext_since_start"] = tcpext_since_start;
  j["conntrack"] = conntrack;
  for (const auto& [k, v] : context.items()) j[k] = v;
  return j;
}

std::optional<double> server_ramp_cpu_s(const ojson& stats) {
  if (!stats.is_object() || !stats.contains("ramp_cpu_seconds") || !stats["ramp_cpu_seconds"].is_number())
    return std::nullopt;
  double s = stats["ramp_cpu_seconds"].get<double>();
  return s >= 0 && s < 1e9 ? std::optional<double>(s) : std::nullopt;
}

std::string server_metrics_text(const ServerCounters& t, size_t alive) {
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, const std::string& samples) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + samples;
  };
  auto sample = [](const char* name, uint64_t v) { return std::string(name) + " " + std::to_string(v) + "\n"; };
  metric("c1m_server_connections", "gauge", "Connections held now.", sample("c1m_server_connections", t.connections));
  metric("c1m_server_accepted_total", "counter", "Connections accepted.",
         sample("c1m_server_accepted_total", t.accepted_total));
  metric("c1m_server_closed_by_peer_total", "counter", "Connections the peer closed (FIN).",
         sample("c1m_server_closed_by_peer_total", t.closed_by_peer));
  metric("c1m_server_reset_by_peer_total", "counter", "Connections the peer reset (RST).",
         sample("c1m_server_reset_by_peer_total", t.reset_by_peer));
  std::string errs;
  for (size_t i = 0; i < kErrorClassCount; ++i)
    errs += std::string("c1m_server_errors_total{class=\"") + error_class_name(static_cast<ErrorClass>(i)) + "\"} " +
            std::to_string(t.errors.by_class[i]) + "\n";
  metric("c1m_server_errors_total", "counter", "Errors by class.", errs);
  metric("c1m_server_open_fds", "gauge", "File descriptors held by the workers (connections, listeners, own).",
         sample("c1m_server_open_fds", t.open_fds));
  metric("c1m_server_resident_memory_bytes", "gauge", "Resident memory of all workers.",
         sample("c1m_server_resident_memory_bytes", t.rss_bytes));
  metric("c1m_server_workers_alive", "gauge", "Worker processes running.", sample("c1m_server_workers_alive", alive));
  metric("c1m_build_info", "gauge", "Version and git sha of this build.",
         std::string("c1m_build_info{version=\"") + kVersion + "\",git_sha=\"" + kGitSha + "\"} 1\n");
  return out;
}

std::string format_figure(const ojson& value, const char* printf_format, double scale) {
  if (!value.is_number()) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, value.get<double>() * scale);
  return buf;
}

std::string format_time_to_target(const ojson& value) {
  return value.is_null() ? "not reached" : format_figure(value, "%.2f s");
}

std::string ramp_cpu_and_live_lines(const ojson& x) {
  auto fig = [&x](const char* key, const char* fmt) { return format_figure(x.value(key, ojson(nullptr)), fmt); };
  std::string out = "  ramp cpu     machine busy " + fig("ramp_cpu_busy_s", "%.2f") + " s (" +
                    fig("ramp_cpu_busy_us_per_connection", "%.1f") + " us a connection), steal " +
                    fig("ramp_cpu_steal_s", "%.2f") + " s; own: client " + fig("ramp_cpu_client_s", "%.2f") +
                    " s, server " + fig("ramp_cpu_server_s", "%.2f") + " s\n";
  if (!x.value("live_hold_s", ojson(nullptr)).is_number()) return out;
  const ojson rtt = x.value("ping_rtt_ms", ojson::object());
  auto ms = [&rtt](const char* key) { return format_figure(rtt.value(key, ojson(nullptr)), "%.3f"); };
  const ojson errors = x.value("errors", ojson::object());
  out += "  live hold    " + fig("live_hold_s", "%.1f") + " s, " + fig("live_pings_per_s", "%.0f") +
         " pings/s, rtt p99 " + ms("p99") + " ms, p99.9 " + ms("p999") + " ms, max " + ms("max") + " ms; " +
         fig("pings_late", "%.0f") + " late, " + format_figure(errors.value("no_answer", ojson(nullptr)), "%.0f") +
         " never answered\n";
  out += "  live cpu     client " + fig("live_cpu_cores_client", "%.3f") + " cores (" +
         fig("live_cpu_cores_per_1k_pings_per_s_client", "%.4f") + " per 1,000 pings/s), server " +
         fig("live_cpu_cores_server", "%.3f") + " cores (" + fig("live_cpu_cores_per_1k_pings_per_s_server", "%.4f") +
         "); machine busy " + fig("live_cpu_machine_busy_cores", "%.2f") + " cores, steal " +
         fig("live_cpu_machine_steal_cores", "%.2f") + "\n";
  return out;
}

}  // namespace c1m
