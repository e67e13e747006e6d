#include "core/record/summary.hpp"

#include <cstdio>

namespace c1m {
namespace {

std::optional<double> num(const std::optional<uint64_t>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}
std::optional<double> num(uint64_t v) { return static_cast<double>(v); }

// A latency summary's figure in ms (the record's connect_latency_ms and ping_rtt_ms say the same).
std::optional<double> ms_at(const Histogram& h, double q) {
  if (h.count() == 0) return std::nullopt;
  return static_cast<double>(q >= 1 ? h.max() : h.quantile(q)) / 1000.0;
}

std::string status_line(const char* who, const RunRecord& r) {
  return std::string("c1m ") + who + ": " + r.status + (r.reason ? ": " + *r.reason : "") + "\n";
}

std::string ramp_line(const RunResults& x) {
  return "  ramp         time to target " + format_time_to_target(x.time_to_target_s) + ", " +
         format_figure(x.connect_rate_per_s, "%.0f") + " connects/s, " + format_figure(num(x.errors_total), "%.0f") +
         " errors\n";
}

// The ramp's CPU and, when the run had one, the live hold.
std::string ramp_cpu_and_live_lines(const RunResults& x) {
  auto fig = [](const std::optional<double>& v, const char* fmt) { return format_figure(v, fmt); };
  // Each side's CPU with its user-mode part: what the program's own code took of it.
  auto own = [&fig](const std::optional<double>& all, const std::optional<double>& user) {
    return fig(all, "%.2f") + " s" + (all && user ? " (user " + fig(user, "%.2f") + ")" : "");
  };
  std::string out = "  ramp cpu     machine busy " + fig(x.ramp_cpu_busy_s, "%.2f") + " s (" +
                    fig(x.ramp_cpu_busy_us_per_connection, "%.1f") + " us a connection), steal " +
                    fig(x.ramp_cpu_steal_s, "%.2f") + " s; own: client " +
                    own(x.ramp_cpu_client_s, x.ramp_cpu_client_user_s) + ", server " +
                    own(x.ramp_cpu_server_s, x.ramp_cpu_server_user_s) + "\n";
  if (!x.live_hold_s) return out;
  auto never = x.errors.find("no_answer");
  out += "  live hold    " + fig(x.live_hold_s, "%.1f") + " s, " + fig(x.live_pings_per_s, "%.0f") +
         " pings/s, rtt p99 " + fig(ms_at(x.rtt_us, 0.99), "%.3f") + " ms, p99.9 " +
         fig(ms_at(x.rtt_us, 0.999), "%.3f") + " ms, max " + fig(ms_at(x.rtt_us, 1), "%.3f") + " ms; " +
         fig(num(x.pings_late), "%.0f") + " late, " +
         fig(never == x.errors.end() ? std::nullopt : num(never->second), "%.0f") + " never answered\n";
  out += "  live cpu     client " + fig(x.live_cpu_cores_client, "%.3f") + " cores (" +
         fig(x.live_cpu_cores_per_1k_pings_per_s_client, "%.4f") + " per 1,000 pings/s), server " +
         fig(x.live_cpu_cores_server, "%.3f") + " cores (" + fig(x.live_cpu_cores_per_1k_pings_per_s_server, "%.4f") +
         "); machine busy " + fig(x.live_cpu_machine_busy_cores, "%.2f") + " cores, steal " +
         fig(x.live_cpu_machine_steal_cores, "%.2f") + "\n";
  return out;
}

}  // namespace

std::string format_figure(const std::optional<double>& value, const char* printf_format, double scale) {
  if (!value) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, *value * scale);
  return buf;
}

std::string format_time_to_target(const std::optional<double>& seconds) {
  return seconds ? format_figure(seconds, "%.2f s") : "not reached";
}

std::string client_summary(const RunRecord& r, const std::string& record_path) {
  const RunResults& x = r.results;
  const RunMemory& m = r.memory;
  std::string out = status_line("client", r);
  out += "  established  client peak " + format_figure(num(x.established_peak_client), "%.0f") + ", server peak " +
         format_figure(num(x.established_peak_server), "%.0f") + ", kernel TCP in use " +
         format_figure(num(x.kernel_tcp_inuse_at_peak), "%.0f") + "\n";
  out += ramp_line(x);
  out += "  connect      p50 " + format_figure(ms_at(x.connect_us, 0.5), "%.3f") + " ms, p99 " +
         format_figure(ms_at(x.connect_us, 0.99), "%.3f") + " ms, p99.9 " +
         format_figure(ms_at(x.connect_us, 0.999), "%.3f") + " ms, max " +
         format_figure(ms_at(x.connect_us, 1), "%.3f") + " ms\n";
  if (x.rtt_us.count() > 0)
    out += "  ping rtt     p50 " + format_figure(ms_at(x.rtt_us, 0.5), "%.3f") + " ms, p99 " +
           format_figure(ms_at(x.rtt_us, 0.99), "%.3f") + " ms over " + format_figure(num(x.rtt_us.count()), "%.0f") +
           " pings\n";
  if (x.tls_handshakes)
    out += "  tls          " + format_figure(num(x.tls_handshakes), "%.0f") + " handshakes (" +
           format_figure(num(x.tls_resumed), "%.0f") + " resumed), p50 " +
           format_figure(ms_at(x.tls_handshake_us, 0.5), "%.3f") + " ms, p99 " +
           format_figure(ms_at(x.tls_handshake_us, 0.99), "%.3f") + " ms, " +
           format_figure(x.tls_handshakes_per_s, "%.0f") + "/s; ramp cpu a handshake: client " +
           format_figure(x.tls_ramp_cpu_us_per_handshake_client, "%.0f") + " us, server " +
           format_figure(x.tls_ramp_cpu_us_per_handshake_server, "%.0f") + " us; " +
           format_figure(num(x.tls_tickets), "%.0f") + " tickets" +
           (x.tls_first_error.is_string() ? "; first error: " + x.tls_first_error.get<std::string>() : "") + "\n";
  out += ramp_cpu_and_live_lines(x);
  out += "  hold cpu     client " + format_figure(x.hold_cpu_cores_client, "%.4f") + " cores, server " +
         format_figure(x.hold_cpu_cores_server, "%.4f") + " cores\n";
  out += "  memory       kernel " + format_figure(m.kernel_bytes_per_socket, "%.0f") + " B/socket, user " +
         format_figure(m.user_bytes_per_connection_client, "%.0f") + " B/conn (client), " +
         format_figure(m.user_bytes_per_connection_server, "%.0f") + " B/conn (server); " +
         format_figure(num(m.mem_available_at_peak_bytes), "%.1f", 1e-9) + " GB available at the peak\n";
  if (!record_path.empty() && record_path != "-") out += "  record       " + record_path + "\n";
  return out;
}

std::string collect_summary(const RunRecord& r, const std::string& record_path) {
  const RunResults& x = r.results;
  const ojson& t = r.topology;
  const ojson clients = t.is_object() ? t.value("clients", ojson(nullptr)) : ojson(nullptr);
  const size_t addresses = t.is_object() && t.contains("client_addresses") && t["client_addresses"].is_array()
                               ? t["client_addresses"].size()
                               : 0;
  std::string out = status_line("collect", r);
  out += "  clients      " +
         format_figure(clients.is_number() ? std::optional<double>(clients.get<double>()) : std::nullopt, "%.0f") +
         " (" + std::to_string(addresses) + " distinct addresses)\n";
  out += "  established  client " + format_figure(num(x.established_peak_client), "%.0f") + ", server " +
         format_figure(num(x.established_peak_server), "%.0f") + "\n";
  out += ramp_line(x);
  out += "  connect      p50 " + format_figure(ms_at(x.connect_us, 0.5), "%.3f") + " ms, p99 " +
         format_figure(ms_at(x.connect_us, 0.99), "%.3f") + " ms\n";
  out += ramp_cpu_and_live_lines(x);
  out += "  record       " + record_path + "\n";
  return out;
}

}  // namespace c1m
