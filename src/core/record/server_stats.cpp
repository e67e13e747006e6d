#include "core/record/server_stats.hpp"

#include <algorithm>

#include "build_info.hpp"
#include "core/record/record.hpp"  // per_connection, tcpext_delta

namespace c1m {
namespace {

ojson opt_json(const std::optional<double>& v) { return v ? ojson(*v) : ojson(nullptr); }
ojson opt_json(const std::optional<uint64_t>& v) { return v ? ojson(*v) : ojson(nullptr); }
ojson opt_json(const std::optional<std::string>& v) { return v ? ojson(*v) : ojson(nullptr); }

// The keys of the document that are not the context's: what from_json takes out before the rest.
constexpr const char* kOwnKeys[] = {
    "kind", "schema_version", "tool", "connections", "connections_peak", "accepted_total", "closed_by_peer",
    "reset_by_peer", "echoed_bytes", "errors", "accept_paused", "spread_fallbacks", "workers", "workers_alive",
    "listeners", "open_fds", "cpu_seconds", "ramp_cpu_seconds", "ramp_cpu_user_seconds", "rss_bytes",
    "rss_baseline_bytes", "user_bytes_per_connection", "kernel_bytes_per_connection", "tls_handshakes", "tls_resumed",
    "tls_tickets_sent", "tls_library_bytes_per_connection", "tls_first_error", "tcpext_since_start", "conntrack",
    "workers_lost", "workers_sched_policy", "workers_lost_reason", "ended_because",
    // a report to the collector names its sender: not part of the stats
    "participant", "name", "role", "run", "participant_key", "token"};

// Reads typed keys of a document, naming the first one that is not what it should be.
class Reader {
 public:
  explicit Reader(const ojson& j) : j_(j) {}
  const std::string& why() const { return why_; }

  void count(const char* key, uint64_t& out, bool required = false) {
    if (!present(key, required)) return;
    const ojson& v = j_[key];  // parsed text gives unsigned; a document built in code, signed
    if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0))
      return fail(key, "a whole number >= 0");
    out = v.get<uint64_t>();
  }
  void count(const char* key, std::optional<uint64_t>& out) {
    uint64_t v = 0;
    if (present(key, false) && !j_[key].is_null()) count(key, v), out = v;
  }
  void number(const char* key, double& out) {
    if (!present(key, false)) return;
    if (!j_[key].is_number()) return fail(key, "a number");
    out = j_[key].get<double>();
  }
  void number(const char* key, std::optional<double>& out) {
    double v = 0;
    if (present(key, false) && !j_[key].is_null()) number(key, v), out = v;
  }
  void text(const char* key, std::optional<std::string>& out) {
    if (!present(key, false) || j_[key].is_null()) return;
    if (!j_[key].is_string()) return fail(key, "a string");
    out = j_[key].get<std::string>();
  }
  void object(const char* key, ojson& out) {
    if (!present(key, false)) return;
    if (!j_[key].is_object()) return fail(key, "an object");
    out = j_[key];
  }
  void array(const char* key, ojson& out) {
    if (!present(key, false)) return;
    if (!j_[key].is_array()) return fail(key, "an array");
    out = j_[key];
  }
  void fail(const std::string& key, const char* expected) {
    if (why_.empty()) why_ = key + ": expected " + expected;
  }

 private:
  bool present(const char* key, bool required) {
    if (j_.contains(key)) return why_.empty();
    if (required) fail(key, "it (a server's stats have it)");
    return false;
  }
  const ojson& j_;
  std::string why_;
};

}  // namespace

std::optional<double> ServerStats::ramp_cpu() const {
  if (!ramp_cpu_seconds || *ramp_cpu_seconds < 0 || *ramp_cpu_seconds >= 1e9) return std::nullopt;
  return ramp_cpu_seconds;
}

std::optional<double> ServerStats::ramp_cpu_user() const {
  auto all = ramp_cpu();
  if (!all || !ramp_cpu_user_seconds || *ramp_cpu_user_seconds < 0 || *ramp_cpu_user_seconds > *all + 0.01)
    return std::nullopt;
  return ramp_cpu_user_seconds;
}

ojson server_context_json(const ojson& listen, const ojson& limits, const ojson& host, const ojson& sysctls) {
  return {{"listen", listen}, {"limits", limits}, {"host", host}, {"sysctls", sysctls}};
}

ServerStats server_stats_of(const ServerCounters& t, uint64_t peak, size_t workers, size_t alive, const ServerCpu& cpu,
                            const ojson& context, const procfs::KernelSnapshot& kernel_at_start,
                            const procfs::KernelSnapshot& kernel_now) {
  ServerStats s;
  s.connections = t.connections;
  s.connections_peak = peak;
  s.accepted_total = t.accepted_total;
  s.closed_by_peer = t.closed_by_peer;
  s.reset_by_peer = t.reset_by_peer;
  s.echoed_bytes = t.echoed_bytes;
  s.errors = t.errors;
  s.accept_paused = t.accept_paused;
  s.spread_fallbacks = t.spread_fallbacks;
  s.workers = workers;
  s.workers_alive = alive;
  s.listeners = t.listeners;
  s.open_fds = t.open_fds;
  s.cpu_seconds = cpu.total_s;
  s.ramp_cpu_seconds = cpu.ramp_s;
  s.ramp_cpu_user_seconds = cpu.ramp_user_s;
  s.rss_bytes = t.rss_bytes;
  s.rss_baseline_bytes = t.rss_baseline_bytes;
  s.user_bytes_per_connection = per_connection(t.rss_at_peak_bytes, t.rss_baseline_bytes, t.connections_peak);
  if (context.is_object() && context.value("tls", ojson(nullptr)).is_object()) {
    s.tls_handshakes = t.tls.handshakes;
    s.tls_resumed = t.tls.resumed;
    s.tls_tickets_sent = t.tls.tickets;
    if (!t.tls.first_error_text().empty()) s.tls_first_error = t.tls.first_error_text();
    if (t.connections_peak > 0)
      s.tls_library_bytes_per_connection =
          static_cast<double>(t.tls.library_bytes_at_peak) / static_cast<double>(t.connections_peak);
  }
  s.tcpext_since_start = tcpext_delta(kernel_at_start, kernel_now);
  s.conntrack_count = kernel_now.conntrack_count;
  s.conntrack_max = kernel_now.conntrack_max;
  s.context = context.is_object() ? context : ojson::object();
  s.version = kVersion;
  s.git_sha = kGitSha;
  return s;
}

ojson to_json(const ServerStats& s) {
  ojson j;
  // Not a run record: said so, so a reader handed one refuses it by name.
  j["kind"] = "server_stats";
  j["schema_version"] = kSchemaVersion;
  j["tool"] = {{"name", "c1m"}, {"version", s.version}, {"git_sha", s.git_sha}};
  j["connections"] = s.connections;
  j["connections_peak"] = s.connections_peak;
  j["accepted_total"] = s.accepted_total;
  j["closed_by_peer"] = s.closed_by_peer;
  j["reset_by_peer"] = s.reset_by_peer;
  j["echoed_bytes"] = s.echoed_bytes;
  j["errors"] = errors_json(s.errors);
  j["accept_paused"] = s.accept_paused;
  j["spread_fallbacks"] = s.spread_fallbacks;
  j["workers"] = s.workers;
  j["workers_alive"] = s.workers_alive;
  j["listeners"] = s.listeners;
  j["open_fds"] = s.open_fds;
  j["cpu_seconds"] = s.cpu_seconds;
  j["ramp_cpu_seconds"] = opt_json(s.ramp_cpu_seconds);
  j["ramp_cpu_user_seconds"] = opt_json(s.ramp_cpu_user_seconds);
  j["rss_bytes"] = s.rss_bytes;
  j["rss_baseline_bytes"] = s.rss_baseline_bytes;
  j["user_bytes_per_connection"] = opt_json(s.user_bytes_per_connection);
  if (s.kernel_bytes_per_connection) j["kernel_bytes_per_connection"] = *s.kernel_bytes_per_connection;
  if (s.tls_handshakes) j["tls_handshakes"] = *s.tls_handshakes;
  if (s.tls_handshakes) j["tls_resumed"] = opt_json(s.tls_resumed);
  if (s.tls_handshakes) j["tls_tickets_sent"] = opt_json(s.tls_tickets_sent);
  if (s.tls_handshakes) j["tls_library_bytes_per_connection"] = opt_json(s.tls_library_bytes_per_connection);
  if (s.tls_handshakes) j["tls_first_error"] = opt_json(s.tls_first_error);
  j["tcpext_since_start"] = s.tcpext_since_start;
  j["conntrack"] = {{"count", opt_json(s.conntrack_count)}, {"max", opt_json(s.conntrack_max)}};
  for (const auto& [k, v] : s.context.items()) j[k] = v;
  j["workers_lost"] = s.workers_lost;
  if (s.workers_sched_policy) j["workers_sched_policy"] = *s.workers_sched_policy;
  if (s.stopped || s.workers_lost_reason) j["workers_lost_reason"] = opt_json(s.workers_lost_reason);
  if (s.ended_because) j["ended_because"] = *s.ended_because;
  return j;
}

std::optional<ServerStats> server_stats_from_json(const ojson& j, std::string* why) {
  auto refuse = [why](const std::string& w) -> std::optional<ServerStats> {
    if (why) *why = "not a c1m server's stats: " + w;
    return std::nullopt;
  };
  if (!j.is_object()) return refuse("expected a JSON object");
  ServerStats s;
  Reader in(j);
  in.count("connections", s.connections, true);
  in.count("connections_peak", s.connections_peak, true);
  in.count("accepted_total", s.accepted_total);
  in.count("closed_by_peer", s.closed_by_peer);
  in.count("reset_by_peer", s.reset_by_peer);
  in.count("echoed_bytes", s.echoed_bytes);
  in.count("accept_paused", s.accept_paused);
  in.count("spread_fallbacks", s.spread_fallbacks);
  in.count("workers", s.workers);
  in.count("workers_alive", s.workers_alive);
  in.count("listeners", s.listeners);
  in.count("open_fds", s.open_fds);
  in.number("cpu_seconds", s.cpu_seconds);
  in.number("ramp_cpu_seconds", s.ramp_cpu_seconds);
  in.number("ramp_cpu_user_seconds", s.ramp_cpu_user_seconds);
  in.count("rss_bytes", s.rss_bytes);
  in.count("rss_baseline_bytes", s.rss_baseline_bytes);
  in.number("user_bytes_per_connection", s.user_bytes_per_connection);
  in.number("kernel_bytes_per_connection", s.kernel_bytes_per_connection);
  in.count("tls_handshakes", s.tls_handshakes);
  in.count("tls_resumed", s.tls_resumed);
  in.count("tls_tickets_sent", s.tls_tickets_sent);
  in.number("tls_library_bytes_per_connection", s.tls_library_bytes_per_connection);
  in.text("tls_first_error", s.tls_first_error);
  in.object("tcpext_since_start", s.tcpext_since_start);
  in.array("workers_lost", s.workers_lost);
  in.text("workers_sched_policy", s.workers_sched_policy);
  in.text("workers_lost_reason", s.workers_lost_reason);
  s.stopped = j.contains("workers_lost_reason");
  in.text("ended_because", s.ended_because);
  ojson errors = ojson::object(), conntrack = ojson::object(), tool = ojson::object();
  in.object("errors", errors);
  in.object("conntrack", conntrack);
  in.object("tool", tool);
  if (!in.why().empty()) return refuse(in.why());
  for (size_t i = 0; i < kErrorClassCount; ++i) {
    const char* name = error_class_name(static_cast<ErrorClass>(i));
    if (!errors.contains(name)) continue;
    if (!errors[name].is_number_integer() || errors[name].get<int64_t>() < 0)
      return refuse(std::string("errors.") + name + ": expected a count");
    s.errors.by_class[i] = errors[name].get<uint64_t>();
  }
  Reader track(conntrack);
  track.count("count", s.conntrack_count);
  track.count("max", s.conntrack_max);
  if (!track.why().empty()) return refuse("conntrack." + track.why());
  s.version = tool.value("version", std::string());
  s.git_sha = tool.value("git_sha", std::string());
  for (const auto& [k, v] : j.items())
    if (std::find(std::begin(kOwnKeys), std::end(kOwnKeys), k) == std::end(kOwnKeys)) s.context[k] = v;
  return s;
}

std::string server_metrics_text(const ServerStats& s) {
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, const std::string& samples) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + samples;
  };
  auto sample = [](const char* name, uint64_t v) { return std::string(name) + " " + std::to_string(v) + "\n"; };
  metric("c1m_server_connections", "gauge", "Connections held now.", sample("c1m_server_connections", s.connections));
  metric("c1m_server_accepted_total", "counter", "Connections accepted.",
         sample("c1m_server_accepted_total", s.accepted_total));
  metric("c1m_server_closed_by_peer_total", "counter", "Connections the peer closed (FIN).",
         sample("c1m_server_closed_by_peer_total", s.closed_by_peer));
  metric("c1m_server_reset_by_peer_total", "counter", "Connections the peer reset (RST).",
         sample("c1m_server_reset_by_peer_total", s.reset_by_peer));
  std::string errs;
  for (size_t i = 0; i < kErrorClassCount; ++i)
    errs += std::string("c1m_server_errors_total{class=\"") + error_class_name(static_cast<ErrorClass>(i)) + "\"} " +
            std::to_string(s.errors.by_class[i]) + "\n";
  metric("c1m_server_errors_total", "counter", "Errors by class.", errs);
  metric("c1m_server_open_fds", "gauge", "File descriptors held by the workers (connections, listeners, own).",
         sample("c1m_server_open_fds", s.open_fds));
  metric("c1m_server_resident_memory_bytes", "gauge", "Resident memory of all workers.",
         sample("c1m_server_resident_memory_bytes", s.rss_bytes));
  metric("c1m_server_workers_alive", "gauge", "Worker processes running.",
         sample("c1m_server_workers_alive", s.workers_alive));
  metric("c1m_build_info", "gauge", "Version and git sha of this build.",
         std::string("c1m_build_info{version=\"") + kVersion + "\",git_sha=\"" + kGitSha + "\"} 1\n");
  return out;
}

}  // namespace c1m
