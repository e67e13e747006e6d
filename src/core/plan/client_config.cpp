#include "core/plan/client_config.hpp"

#include <algorithm>
#include <cctype>

#include "core/host/atomic_file.hpp"  // directory_of
#include "core/units.hpp"
#include "core/usage.hpp"

namespace c1m {

using ojson = nlohmann::ordered_json;
namespace {

double seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

// "{hostname}" in a path becomes this host's name: one record per container from one command.
std::string expand_hostname(std::string path, const std::string& hostname) {
  size_t at = path.find("{hostname}");
  return at == std::string::npos ? path : path.replace(at, 10, hostname);
}

void require_writable(const HostProbe& host, const std::string& flag, const std::string& path) {
  if (path.empty() || path == "-") return;
  std::string dir = directory_of(path);
  if (std::string why = host.write_error(dir); !why.empty())
    throw UsageError(flag + " " + path + ": directory " + dir + " is not writable: " + why);
}

int64_t duration_at_least(const std::string& flag, const std::string& text, int64_t min_ns, const char* min_text,
                          bool zero_ok) {
  int64_t ns = require(parse_duration_ns(text), flag, text);
  if ((ns != 0 || !zero_ok) && ns < min_ns)
    throw UsageError(flag + " '" + text + "': must be " + (zero_ok ? "0 (off) or " : "") + "at least " + min_text);
  return ns;
}

// " (resolved from 'server:9000')" where the flag named hosts: the guard applies to what a name
// resolves to, and says which name it was.
std::string resolved_from(const std::string& flag_text) {
  bool named = std::any_of(flag_text.begin(), flag_text.end(), [](char c) { return std::isalpha(c) || c == '_'; });
  return named ? " (resolved from '" + flag_text + "')" : "";
}

void check_targets(const ClientOptions& o, const ConnectPlan& plan) {
  for (const Endpoint& t : plan.targets)
    if (!o.allow_any_target && !is_lab_address(t.ip))
      throw UsageError("--target " + t.str() + resolved_from(o.target) +
                       ": not loopback (127.0.0.0/8) or the lab range (198.18.0.0/15); "
                       "pass --allow-any-target to load a host you own");
  for (size_t i = 0; i < plan.targets.size(); ++i)
    for (size_t j = i + 1; j < plan.targets.size(); ++j)
      if (plan.targets[i] == plan.targets[j]) throw UsageError("--target lists " + plan.targets[i].str() + " twice");
}

// What a held connection speaks, and its ping: raw sends nothing, so it cannot be pinged; an HTTP
// path (http's, or a WebSocket upgrade's) goes into a request line as it is, so it is one token of
// printable characters.
void resolve_protocol(const ClientOptions& o, ClientConfig& c) {
  auto p = proto::protocol_named(o.protocol);
  if (!p) throw UsageError("--protocol '" + o.protocol + "': expected one of " + proto::kProtocolNames);
  c.protocol = *p;
  if (!proto::pingable(c.protocol) && (c.ping_interval_ns > 0 || c.live_ns > 0))
    throw UsageError(
        "--protocol raw sends nothing, so it has no ping: drop --ping-interval and --live, or choose "
        "echo, redis, http, mqtt or websocket");
  const std::string& path = o.http_path;
  bool printable = std::all_of(path.begin(), path.end(), [](char ch) { return ch > ' ' && ch < 127; });
  if (path.empty() || path[0] != '/' || path.size() > proto::kMaxHttpPath || !printable)
    throw UsageError("--http-path '" + path + "': expected a path starting with '/', at most " +
                     std::to_string(proto::kMaxHttpPath) + " printable characters without spaces");
  if (!proto::has_path(c.protocol) && path != "/")
    throw UsageError("--http-path is for --protocol http or websocket (this run speaks " + o.protocol + ")");
  c.http_path = path;
  bool plain = std::all_of(o.target_name.begin(), o.target_name.end(), [](char ch) { return ch >= ' ' && ch < 127; });
  if (o.target_name.size() > 120 || !plain)
    throw UsageError("--target-name: expected at most 120 printable characters");
  c.target_name = o.target_name;
  bool image_plain =
      std::all_of(o.target_image.begin(), o.target_image.end(), [](char ch) { return ch > ' ' && ch < 127; });
  if (o.target_image.size() > 200 || !image_plain)
    throw UsageError("--target-image: expected an image reference, at most 200 printable characters without spaces");
  c.target_image = o.target_image;
  c.find_limit = o.find_limit;
  const TlsSettings plain_tcp;
  if (!o.tls.on && (o.tls.verify || !o.tls.ca_file.empty() || !o.tls.server_name.empty() || o.tls.resume ||
                    o.tls.group != plain_tcp.group || o.tls.cipher != plain_tcp.cipher))
    throw UsageError(
        "--tls-verify, --tls-ca, --tls-server-name, --tls-resume, --tls-group and --tls-cipher are for --tls");
  if (o.tls.verify && o.tls.ca_file.empty())
    throw UsageError("--tls-verify needs --tls-ca FILE: the certificates to trust");
  c.tls = o.tls;
  if (o.target_pid < 0) throw UsageError("--target-pid " + std::to_string(o.target_pid) + ": expected a process id");
  c.target_pid = o.target_pid;
  // Host: the first target as given (an HTTP/1.1 request must name one).
  c.ping_text = proto::ping_text(c.protocol, path, c.plan.targets.empty() ? "localhost" : c.plan.targets[0].str());
}

// The ports: refuse a plan the kernel's ephemeral range cannot give, before opening anything.
void plan_ports(const ClientOptions& o, const HostProbe& host, ClientConfig& c) {
  if (!host.ephemeral_ports) {
    c.plan.explicit_ports = false;  // nothing to plan from: the kernel picks
    return;
  }
  c.port_range = *host.ephemeral_ports;
  c.plan.ports = *host.ephemeral_ports;
  c.plan.explicit_ports = o.source_ports == "planned";
  // Planned ports bound on 0.0.0.0 make every bind check the port's owners on all addresses; bind
  // the address the route would pick anyway (in the lab, the container's own), if one serves all.
  if (c.plan.explicit_ports && c.plan.sources.empty()) {
    std::optional<Ipv4> common = host.route_source(c.plan.targets[0]);
    for (const Endpoint& t : c.plan.targets)
      if (common && host.route_source(t) != common) common.reset();
    if (common) c.plan.sources = {*common};
  }
  c.plan.port_offset = static_cast<uint32_t>(host.random % std::max<uint64_t>(c.port_range->size(), 1));
  if (std::string why = check_port_capacity(c.plan, *c.port_range); !why.empty())
    throw UsageError("--connections " + o.connections + ": " + why);
}

// The workers: sized from the open-files limit the process really has.
void size_workers(const ClientOptions& o, const HostProbe& host, ClientConfig& c) {
  c.capacity = worker_capacity(host.nofile);
  c.workers = o.workers ? o.workers : workers_needed(c.plan.connections, c.capacity);
  if (c.workers > kMaxWorkers)
    throw UsageError("--connections " + o.connections + " needs more than " + std::to_string(kMaxWorkers) + " workers");
  uint64_t per_worker = (c.plan.connections + c.workers - 1) / c.workers;
  if (per_worker > c.capacity)
    throw UsageError("--workers " + std::to_string(c.workers) + " gives " + std::to_string(per_worker) +
                     " connections per worker, above the " + std::to_string(c.capacity) + " an open-files limit of " +
                     std::to_string(host.nofile) + " allows");
  uint64_t total_in_flight = require(parse_count(o.max_in_flight), "--max-in-flight", o.max_in_flight);
  // 200 per worker: at 1M on 2 cores, 1,000 per worker queued connects for 2 s and ramped 15% slower.
  c.in_flight_per_worker =
      total_in_flight ? std::max<uint64_t>(1, total_in_flight / c.workers) : kDefaultInFlightPerWorker;
}

// Host-wide limits the client cannot change but that silently cap a run: said up front.
void warn_about_host(const HostProbe& host, ClientConfig& c) {
  if (!host.conntrack_max || !host.conntrack_count) return;
  uint64_t room = *host.conntrack_max > *host.conntrack_count ? *host.conntrack_max - *host.conntrack_count : 0;
  if (c.plan.connections > room)
    c.warnings.push_back(
        "connection tracking is on and has room for " + std::to_string(room) + " more connections (nf_conntrack_max " +
        std::to_string(*host.conntrack_max) +
        "): SYNs past that are dropped silently; raise net.netfilter.nf_conntrack_max (make host-tune)");
}

}  // namespace

std::string derive_approach(const ConnectPlan& plan) {
  if (plan.sources.size() > 1 && plan.targets.size() == 1) return "multi-ip";
  if (plan.sources.size() <= 1 && plan.targets.size() > 1) return "multi-port";
  return "custom";
}

ClientConfig resolve(const ClientOptions& o, const HostProbe& host) {
  ClientConfig c;
  c.json = expand_hostname(o.json, host.hostname);
  c.status_file = expand_hostname(o.status_file, host.hostname);
  require_writable(host, "--status-file", c.status_file);
  require_writable(host, "--json", c.json);

  c.plan.targets = require(parse_endpoint_list(o.target, host.resolve), "--target", o.target);
  if (!o.source.empty()) c.plan.sources = require(parse_address_list(o.source, host.resolve), "--source", o.source);
  c.plan.connections = require(parse_count(o.connections), "--connections", o.connections);
  if (c.plan.connections == 0) throw UsageError("--connections must be at least 1");
  check_targets(o, c.plan);
  for (Ipv4 s : c.plan.sources)
    if (std::string e = host.bind_error(s); !e.empty())
      throw UsageError("--source " + s.str() + ": cannot bind to it here: " + e);

  std::string rate_text = o.rate;
  if (rate_text.ends_with("/s")) rate_text.resize(rate_text.size() - 2);
  c.rate = static_cast<double>(require(parse_count(rate_text), "--rate", o.rate));
  c.connect_timeout_ns = duration_at_least("--connect-timeout", o.connect_timeout, 1'000'000, "1ms", false);
  c.hold_ns = require(parse_duration_ns(o.hold), "--hold", o.hold);
  c.ping_interval_ns = duration_at_least("--ping-interval", o.ping_interval, 10'000'000, "10ms", true);
  c.live_ns = duration_at_least("--live", o.live, 1'000'000'000, "1s", true);
  if (!o.slo_p99.empty()) {
    c.slo_p99_ns = duration_at_least("--slo-p99", o.slo_p99, 1'000, "1us", false);
    c.slo_p99_text = o.slo_p99;
    if (!o.find_limit || c.ping_interval_ns == 0)
      throw UsageError(
          "--slo-p99 " + o.slo_p99 +
          ": it bounds --find-limit's ramp by its pings' round trip: add --find-limit and --ping-interval");
  }
  c.start_delay_ns = require(parse_duration_ns(o.start_delay), "--start-delay", o.start_delay);
  if (c.start_delay_ns > 600'000'000'000) throw UsageError("--start-delay '" + o.start_delay + "': at most 10m");
  c.start_file = o.start_file;
  // A live hold pings every connection once an interval: 30 s unless told, and at least one interval.
  if (c.live_ns > 0 && c.ping_interval_ns == 0) c.ping_interval_ns = 30'000'000'000;
  resolve_protocol(o, c);
  if (c.live_ns > 0 && c.live_ns < c.ping_interval_ns)
    throw UsageError("--live '" + o.live + "': shorter than one --ping-interval (" +
                     format_duration_ns(c.ping_interval_ns) + "): not every connection would be pinged");
  c.ramp_timeout_ns = duration_at_least("--ramp-timeout", o.ramp_timeout, 1'000'000'000, "1s", false);
  c.ramp_timeout_text = o.ramp_timeout;
  c.stall_timeout_ns = duration_at_least("--stall-timeout", o.stall_timeout, 1'000'000'000, "1s", true);
  if (!o.server_stats.empty()) c.server_stats = single_endpoint("--server-stats", o.server_stats, host.resolve);
  if (!o.report_to.empty()) c.report_to = single_endpoint("--report-to", o.report_to, host.resolve);
  if (!o.hold_until_server.empty()) {
    c.hold_until_server = require(parse_count(o.hold_until_server), "--hold-until-server", o.hold_until_server);
    if (c.hold_until_server && !c.server_stats)
      throw UsageError("--hold-until-server needs --server-stats, to read the server's count");
  }

  c.approach = o.approach == "auto" ? derive_approach(c.plan) : o.approach;
  c.live_progress = o.progress == "tty" || (o.progress == "auto" && host.stderr_is_tty);
  c.plain_progress = o.progress == "plain" || (o.progress == "auto" && !host.stderr_is_tty);
  c.sched = o.sched;
  c.live_sched = o.live_sched;
  c.repeat = o.repeat;
  c.run_id = o.run_id;
  c.run_clients = o.run_clients;
  c.run_token = o.run_token;
  if (!o.run_asked_connections.empty())
    c.run_asked_connections =
        require(parse_count(o.run_asked_connections), "--run-asked-connections", o.run_asked_connections);
  c.run_cut_by = o.run_cut_by;

  plan_ports(o, host, c);
  size_workers(o, host, c);
  warn_about_host(host, c);
  return c;
}

ojson config_json(const ClientConfig& c) {
  return {{"connections", c.plan.connections},
          {"protocol", proto::protocol_name(c.protocol)},
          {"find_limit", c.find_limit},
          {"tls", tls_json(c.tls, false)},
          {"slo_p99_ms", c.slo_p99_ns ? ojson(static_cast<double>(c.slo_p99_ns) / 1e6) : ojson(nullptr)},
          {"http_path", proto::has_path(c.protocol) ? ojson(c.http_path) : ojson(nullptr)},
          {"workers", c.workers},
          {"rate_per_s", c.rate > 0 ? ojson(c.rate) : ojson(nullptr)},
          {"max_in_flight_per_worker", c.in_flight_per_worker},
          {"connect_timeout_s", seconds(c.connect_timeout_ns)},
          {"hold_s", seconds(c.hold_ns)},
          {"hold_until_server", c.hold_until_server ? ojson(c.hold_until_server) : ojson(nullptr)},
          {"ping_interval_s", c.ping_interval_ns ? ojson(seconds(c.ping_interval_ns)) : ojson(nullptr)},
          {"live_s", c.live_ns ? ojson(seconds(c.live_ns)) : ojson(nullptr)},
          {"start_delay_s", seconds(c.start_delay_ns)},
          {"start_file", c.start_file.empty() ? ojson(nullptr) : ojson(c.start_file)},
          {"ramp_timeout_s", seconds(c.ramp_timeout_ns)},
          {"stall_timeout_s", c.stall_timeout_ns ? ojson(seconds(c.stall_timeout_ns)) : ojson(nullptr)},
          {"sched", c.sched},
          {"live_sched", c.ping_interval_ns ? ojson(c.live_sched) : ojson(nullptr)},
          {"run_asked_connections", c.run_asked_connections ? ojson(c.run_asked_connections) : ojson(nullptr)},
          {"run_cut_by", c.run_cut_by.empty() ? ojson(nullptr) : ojson(c.run_cut_by)}};
}

ojson topology_json(const ClientConfig& c) {
  ojson targets = ojson::array(), sources = ojson::array();
  for (const auto& t : c.plan.targets) targets.push_back(t.str());
  for (const auto& s : c.plan.sources) sources.push_back(s.str());
  ojson t;
  t["targets"] = targets;
  t["sources"] = c.plan.sources.empty() ? ojson(nullptr) : sources;
  t["pairs"] = c.plan.pair_count();
  t["max_connections_per_pair"] = c.plan.max_per_pair();
  t["ephemeral_port_range"] = c.port_range ? ojson({c.port_range->low, c.port_range->high}) : ojson(nullptr);
  t["source_ports"] = c.plan.explicit_ports ? "planned" : "kernel";
  t["server_stats"] = c.server_stats ? ojson(c.server_stats->str()) : ojson(nullptr);
  return t;
}

PhaseRules phase_rules(const ClientConfig& c) {
  PhaseRules r;
  r.target = c.plan.connections;
  r.ramp_timeout_ns = c.ramp_timeout_ns;
  r.ramp_timeout_text = c.ramp_timeout_text;
  r.stall_timeout_ns = c.stall_timeout_ns;
  r.hold_ns = c.hold_ns;
  r.live_ns = c.live_ns;
  r.hold_until_server = c.hold_until_server;
  r.find_limit = c.find_limit;
  r.one_of_many = !c.run_id.empty() && c.run_clients > 1;
  r.slo_p99_ns = c.slo_p99_ns;
  r.slo_p99_text = c.slo_p99_text;
  return r;
}

}  // namespace c1m
