// `c1m client`: open N connections from one or more source addresses to one or more targets, at a
// rate, hold them, ping them, and write the run record.
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "app/cli.hpp"
#include "core/atomic_file.hpp"
#include "core/compare.hpp"
#include "core/host.hpp"
#include "core/plan.hpp"
#include "core/procfs.hpp"
#include "core/record.hpp"
#include "core/shortfall.hpp"
#include "net/client_worker.hpp"
#include "net/event_loop.hpp"
#include "net/http_client.hpp"
#include "net/supervisor.hpp"

namespace c1m::app {
namespace {

struct ClientOptions {
  std::string target = "127.0.0.1:9000";
  std::string source;
  std::string connections = "10k";
  std::string rate = "0";
  std::string max_in_flight = "0";
  std::string connect_timeout = "10s";
  std::string hold = "10s";
  std::string ping_interval = "0";
  std::string ramp_timeout = "10m";
  std::string stall_timeout = "20s";
  std::string status_file;
  std::string json;
  std::string server_stats;
  std::string approach = "auto";
  std::string progress = "auto";
  std::string source_ports = "planned";
  size_t workers = 0;
  size_t repeat = 1;
  std::string hold_until_server;
  std::string report_to;
  std::string sched = "batch";
  std::string run_id;        // the lab's run this client is part of; empty: a run of its own
  uint64_t run_clients = 1;  // clients in that run, this one included
  bool allow_any_target = false;
};

constexpr uint64_t kDefaultInFlightPerWorker = 200;

int64_t monotonic_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1'000'000'000LL + t.tv_nsec;
}

int64_t unix_ms() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1'000'000;
}

double seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

// Can this process bind to `ip`? Checked up front, so a foreign source is one clear line, not a
// million counted failures.
std::string check_bindable(Ipv4 ip) {
  net::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  setsockopt(fd.get(), SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(ip.host_order);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return std::strerror(errno);
  return {};
}

// The source address the kernel would use to reach `target`: a UDP connect() sends nothing, and
// getsockname() then says which local address the route picked.
std::optional<Ipv4> route_source(const Endpoint& target) {
  net::UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(target.port);
  dst.sin_addr.s_addr = htonl(target.ip.host_order);
  if (!fd || connect(fd.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) return std::nullopt;
  sockaddr_in local{};
  socklen_t len = sizeof local;
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) return std::nullopt;
  return Ipv4{ntohl(local.sin_addr.s_addr)};
}

std::string derive_approach(const ConnectPlan& plan) {
  if (plan.sources.size() > 1 && plan.targets.size() == 1) return "multi-ip";
  if (plan.sources.size() <= 1 && plan.targets.size() > 1) return "multi-port";
  return "custom";
}

// Everything the run needs, validated; any bad flag has already thrown a UsageError.
struct ResolvedClient {
  ConnectPlan plan;
  PortRange port_range;
  bool port_range_known = false;
  size_t workers = 0;
  uint64_t capacity = 0;
  double rate = 0;
  uint64_t in_flight_per_worker = 0;
  int64_t connect_timeout_ns = 0, hold_ns = 0, ping_interval_ns = 0, ramp_timeout_ns = 0;
  int64_t stall_timeout_ns = 0;  // 0: never give up on a ramp that adds nothing
  std::string status_file;       // rewritten every second for a watcher (lab-up); empty: none
  std::optional<Endpoint> server_stats;
  std::optional<Endpoint> report_to;
  uint64_t hold_until_server = 0;  // 0: hold only for --hold
  std::string approach;
  bool live_progress = false, plain_progress = false;
  std::vector<std::string> warnings;  // printed now and kept in the record
};

// Host-wide limits the client cannot change but that silently cap a run: said up front.
void warn_about_host(ResolvedClient& r) {
  std::string max = read_sysctl("net.netfilter.nf_conntrack_max"), count = read_sysctl("net.netfilter.nf_conntrack_count");
  if (!max.empty() && !count.empty()) {
    uint64_t room = std::stoull(max) > std::stoull(count) ? std::stoull(max) - std::stoull(count) : 0;
    if (r.plan.connections > room)
      r.warnings.push_back("connection tracking is on and has room for " + std::to_string(room) + " more connections (nf_conntrack_max " +
                           max + "): SYNs past that are dropped silently; raise net.netfilter.nf_conntrack_max (make host-tune)");
  }
}

// "{hostname}" in a --json path becomes this host's name: one record per container from one command.
std::string expand_json_path(std::string path) {
  size_t at = path.find("{hostname}");
  if (at == std::string::npos) return path;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return path.replace(at, 10, host);
}

ResolvedClient resolve(ClientOptions& o) {
  o.json = expand_json_path(o.json);
  ResolvedClient r;
  r.status_file = expand_json_path(o.status_file);
  if (!r.status_file.empty() && access(directory_of(r.status_file).c_str(), W_OK) != 0)
    throw UsageError("--status-file " + r.status_file + ": directory " + directory_of(r.status_file) + " is not writable: " + std::strerror(errno));
  r.plan.targets = require(parse_endpoint_list(o.target), "--target", o.target);
  if (!o.source.empty()) r.plan.sources = require(parse_address_list(o.source), "--source", o.source);
  r.plan.connections = require(parse_count(o.connections), "--connections", o.connections);
  if (r.plan.connections == 0) throw UsageError("--connections must be at least 1");
  for (const Endpoint& t : r.plan.targets)
    if (!o.allow_any_target && !is_lab_address(t.ip))
      throw UsageError("--target " + t.str() + ": not loopback (127.0.0.0/8) or the lab range (198.18.0.0/15); "
                       "pass --allow-any-target to load a host you own");
  for (size_t i = 0; i < r.plan.targets.size(); ++i)
    for (size_t j = i + 1; j < r.plan.targets.size(); ++j)
      if (r.plan.targets[i] == r.plan.targets[j]) throw UsageError("--target lists " + r.plan.targets[i].str() + " twice");
  for (Ipv4 s : r.plan.sources) {
    std::string e = check_bindable(s);
    if (!e.empty()) throw UsageError("--source " + s.str() + ": cannot bind to it here: " + e);
  }

  std::string rate_text = o.rate;
  if (rate_text.ends_with("/s")) rate_text.resize(rate_text.size() - 2);
  r.rate = static_cast<double>(require(parse_count(rate_text), "--rate", o.rate));
  r.connect_timeout_ns = require(parse_duration_ns(o.connect_timeout), "--connect-timeout", o.connect_timeout);
  if (r.connect_timeout_ns < 1'000'000) throw UsageError("--connect-timeout '" + o.connect_timeout + "': must be at least 1ms");
  r.hold_ns = require(parse_duration_ns(o.hold), "--hold", o.hold);
  r.ping_interval_ns = require(parse_duration_ns(o.ping_interval), "--ping-interval", o.ping_interval);
  if (r.ping_interval_ns != 0 && r.ping_interval_ns < 10'000'000)
    throw UsageError("--ping-interval '" + o.ping_interval + "': must be 0 (off) or at least 10ms");
  r.ramp_timeout_ns = require(parse_duration_ns(o.ramp_timeout), "--ramp-timeout", o.ramp_timeout);
  if (r.ramp_timeout_ns < 1'000'000'000) throw UsageError("--ramp-timeout '" + o.ramp_timeout + "': must be at least 1s");
  r.stall_timeout_ns = require(parse_duration_ns(o.stall_timeout), "--stall-timeout", o.stall_timeout);
  if (r.stall_timeout_ns != 0 && r.stall_timeout_ns < 1'000'000'000)
    throw UsageError("--stall-timeout '" + o.stall_timeout + "': must be 0 (never) or at least 1s");
  if (!o.server_stats.empty()) r.server_stats = single_endpoint("--server-stats", o.server_stats);
  if (!o.report_to.empty()) r.report_to = single_endpoint("--report-to", o.report_to);
  if (!o.hold_until_server.empty()) {
    r.hold_until_server = require(parse_count(o.hold_until_server), "--hold-until-server", o.hold_until_server);
    if (r.hold_until_server && !r.server_stats) throw UsageError("--hold-until-server needs --server-stats, to read the server's count");
  }
  if (!o.json.empty() && access(directory_of(o.json).c_str(), W_OK) != 0)
    throw UsageError("--json " + o.json + ": directory " + directory_of(o.json) + " is not writable: " + std::strerror(errno));

  r.approach = o.approach == "auto" ? derive_approach(r.plan) : o.approach;
  bool tty = isatty(STDERR_FILENO);
  r.live_progress = o.progress == "tty" || (o.progress == "auto" && tty);
  r.plain_progress = o.progress == "plain" || (o.progress == "auto" && !tty);

  // The ports: refuse a plan the kernel's ephemeral range cannot give, before opening anything.
  if (auto pr = parse_port_range(read_sysctl("net.ipv4.ip_local_port_range"))) {
    r.port_range = *pr;
    r.port_range_known = true;
    r.plan.ports = *pr;
    r.plan.explicit_ports = o.source_ports == "planned";
    // Planned ports bound on 0.0.0.0 make every bind check the port's owners on all addresses; bind
    // the address the route would pick anyway (in the lab, the container's own), if one serves all.
    if (r.plan.explicit_ports && r.plan.sources.empty()) {
      std::optional<Ipv4> common = route_source(r.plan.targets[0]);
      for (const Endpoint& t : r.plan.targets)
        if (common && route_source(t) != common) common.reset();
      if (common) r.plan.sources = {*common};
    }
    uint32_t offset = 0;
    getrandom(&offset, sizeof offset, 0);
    r.plan.port_offset = static_cast<uint32_t>(offset % std::max<uint64_t>(pr->size(), 1));
    std::string why = check_port_capacity(r.plan, r.port_range);
    if (!why.empty()) throw UsageError("--connections " + o.connections + ": " + why);
  }

  // The workers: sized from the open-files limit this process really has.
  uint64_t nofile = raise_nofile_to_hard();
  r.capacity = worker_capacity(nofile);
  r.workers = o.workers ? o.workers : workers_needed(r.plan.connections, r.capacity);
  if (r.workers > kMaxWorkers) throw UsageError("--connections " + o.connections + " needs more than " + std::to_string(kMaxWorkers) + " workers");
  uint64_t per_worker = (r.plan.connections + r.workers - 1) / r.workers;
  if (per_worker > r.capacity)
    throw UsageError("--workers " + std::to_string(r.workers) + " gives " + std::to_string(per_worker) +
                     " connections per worker, above the " + std::to_string(r.capacity) +
                     " an open-files limit of " + std::to_string(nofile) + " allows");
  uint64_t total_in_flight = require(parse_count(o.max_in_flight), "--max-in-flight", o.max_in_flight);
  // 200 per worker: at 1M on 2 cores, 1,000 per worker queued connects for 2 s and ramped 15% slower.
  r.in_flight_per_worker = total_in_flight ? std::max<uint64_t>(1, total_in_flight / r.workers) : kDefaultInFlightPerWorker;
  warn_about_host(r);
  // Before the workers fork: they inherit it. The record's limits say what was in force.
  if (std::string why = set_sched_policy(o.sched); !why.empty()) r.warnings.push_back(why);
  return r;
}

// Runs the experiment: ramp, hold, stop, record.
class ClientRunner {
 public:
  ClientRunner(const ClientOptions& o, ResolvedClient r) : opts_(o), r_(std::move(r)) {}

  // Runs the experiment once and returns its record.
  ojson run() {
    run_.run_id = new_run_id();
    run_.approach = r_.approach;
    run_.workers = r_.workers;
    run_.config = config_json();
    run_.topology = topology_json();
    run_.limits = process_limits();
    run_.limits["connections_per_worker_max"] = r_.capacity;
    run_.started_unix_ms = unix_ms();
    run_.kernel_before = procfs::take_kernel_snapshot();
    run_.warnings = r_.warnings;
    for (const auto& w : r_.warnings) std::fprintf(stderr, "c1m client: warning: %s\n", w.c_str());
    latest_.resize(r_.workers);
    histograms_.resize(r_.workers);

    auto quotas = split_evenly(r_.plan.connections, r_.workers);
    std::vector<uint64_t> firsts(r_.workers, 0);
    for (size_t i = 1; i < r_.workers; ++i) firsts[i] = firsts[i - 1] + quotas[i - 1];
    // Opens the kept stats connection before the ramp can fill any table: it reads the server after.
    poll_server();
    run_.ramp_start_ns = monotonic_ns();
    std::string err = pool_.spawn(r_.workers, [&](size_t i, int control_fd) {
      net::ClientWorkerConfig cfg{r_.plan, firsts[i], quotas[i], r_.rate / static_cast<double>(r_.workers),
                                  r_.in_flight_per_worker, r_.connect_timeout_ns, r_.ping_interval_ns,
                                  static_cast<uint32_t>(i), control_fd};
      return net::run_client_worker(cfg);
    });
    if (!err.empty()) {
      finish_now("failed", err);
      return build_record();
    }

    net::Supervisor sup(pool_, [this](uint32_t w, net::MessageType type, const void* p, size_t n) { on_message(w, type, p, n); });
    sup_ = &sup;
    sup.on_signal([this](int sig) { finish("interrupted", std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + " during the " + phase_name()); });
    sup.on_worker_lost([this](size_t w) { finish("failed", "client worker " + std::to_string(w) + " ended unexpectedly"); });
    sup.every({0, 100000}, [this] { step(); });
    sup.every({1, 0}, [this] { sample(); });
    sup.run();
    sup_ = nullptr;
    return build_record();
  }

 private:
  enum class Phase { ramp, hold, stopping };

  const char* phase_name() const { return phase_ == Phase::ramp ? "ramp" : phase_ == Phase::hold ? "hold" : "stop"; }

  ojson config_json() const {
    return {{"connections", r_.plan.connections},
            {"workers", r_.workers},
            {"rate_per_s", r_.rate > 0 ? ojson(r_.rate) : ojson(nullptr)},
            {"max_in_flight_per_worker", r_.in_flight_per_worker},
            {"connect_timeout_s", seconds(r_.connect_timeout_ns)},
            {"hold_s", seconds(r_.hold_ns)},
            {"hold_until_server", r_.hold_until_server ? ojson(r_.hold_until_server) : ojson(nullptr)},
            {"ping_interval_s", r_.ping_interval_ns ? ojson(seconds(r_.ping_interval_ns)) : ojson(nullptr)},
            {"ramp_timeout_s", seconds(r_.ramp_timeout_ns)},
            {"stall_timeout_s", r_.stall_timeout_ns ? ojson(seconds(r_.stall_timeout_ns)) : ojson(nullptr)},
            {"sched", opts_.sched}};
  }

  ojson topology_json() const {
    ojson targets = ojson::array(), sources = ojson::array();
    for (const auto& t : r_.plan.targets) targets.push_back(t.str());
    for (const auto& s : r_.plan.sources) sources.push_back(s.str());
    ojson t;
    t["targets"] = targets;
    t["sources"] = r_.plan.sources.empty() ? ojson(nullptr) : sources;
    t["pairs"] = r_.plan.pair_count();
    t["max_connections_per_pair"] = r_.plan.max_per_pair();
    t["ephemeral_port_range"] = r_.port_range_known ? ojson({r_.port_range.low, r_.port_range.high}) : ojson(nullptr);
    t["source_ports"] = r_.plan.explicit_ports && r_.port_range_known ? "planned" : "kernel";
    t["server_stats"] = r_.server_stats ? ojson(r_.server_stats->str()) : ojson(nullptr);
    return t;
  }

  void on_message(uint32_t w, net::MessageType type, const void* p, size_t n) {
    if (type == net::MessageType::client_counters && n == sizeof(ClientCounters)) {
      std::memcpy(&latest_[w], p, n);
      uint64_t established = 0;
      for (const auto& c : latest_) established += c.established;
      run_.established_peak = std::max(run_.established_peak, established);
    } else if (type == net::MessageType::client_histograms && n == sizeof(ClientHistograms)) {
      std::memcpy(&histograms_[w], p, n);
    }
  }

  ClientCounters totals() const { return sum_counters<ClientCounters>(latest_); }

  // Every 100 ms: move from ramp to hold to stop.
  void step() {
    if (phase_ == Phase::stopping) return;
    int64_t now = monotonic_ns();
    ClientCounters t = totals();
    if (t.connected_total > progress_connected_ || progress_ns_ == 0) {
      progress_connected_ = t.connected_total;
      progress_ns_ = now;
    }
    // A ramp that adds nothing for the stall timeout will not add the rest: a host limit bit (a full
    // conntrack table drops SYNs without an error). Stop now, with the limit, not at the ramp timeout.
    if (phase_ == Phase::ramp && stalled(now - progress_ns_) && t.established < r_.plan.connections)
      return finish("failed", stall_reason("no connection added for " + format_duration_ns(now - progress_ns_) + " during the ramp"));
    bool all_reported = std::all_of(latest_.begin(), latest_.end(), [](const ClientCounters& c) { return c.quota > 0 || c.settled_ns >= 0; });
    if (phase_ == Phase::ramp) {
      if (all_reported && t.settled_ns >= 0) {
        if (t.established == 0) return finish("failed", "nothing to hold: " + shortfall());
        phase_ = Phase::hold;
        hold_started_ns_ = now;
        hold_cpu_start_ns_ = pool_.cpu_ns();
        hold_server_cpu_start_s_ = server_cpu_seconds();
      } else if (now - run_.ramp_start_ns > r_.ramp_timeout_ns) {
        return finish("failed", "the ramp did not settle within " + opts_.ramp_timeout + ": " + shortfall());
      }
    }
    if (phase_ != Phase::hold) return;
    // Many clients (the lab's 20 containers) end their ramps at different times: each counts its hold
    // from the moment the server holds the whole target, so the target is held at once for --hold,
    // not just touched while the first clients to finish are leaving.
    if (hold_from_ns_ < 0 && (r_.hold_until_server == 0 || server_joint_peak_ >= r_.hold_until_server)) hold_from_ns_ = now;
    if (hold_from_ns_ < 0 && waiting_for_server_in_vain(t, now)) return;
    bool held = hold_from_ns_ >= 0 ? now - hold_from_ns_ >= r_.hold_ns : now - run_.ramp_start_ns > r_.ramp_timeout_ns;
    if (held) {
      t = totals();
      bool ok = t.quota_reached_ns >= 0 && t.errors.total() == 0 && t.established == r_.plan.connections;
      finish(ok ? "complete" : "failed", ok ? "" : shortfall());
    }
  }

  bool stalled(int64_t quiet_ns) const { return r_.stall_timeout_ns > 0 && quiet_ns >= r_.stall_timeout_ns; }

  // Waiting for the server to hold the whole target: give up once it cannot get there. This client's
  // own share is part of the target, so a share that settled short means never; a server that adds
  // nothing for the stall timeout (its namespace full, or its stats unreachable) means not soon.
  bool waiting_for_server_in_vain(const ClientCounters& t, int64_t now) {
    // A server that does not answer in time is not a server that adds nothing: its stall clock runs
    // only while it answers (a silent one is bounded by --ramp-timeout). At 1M on 2 cores /stats
    // took longer than the poll's 500 ms for many seconds, and clients gave up on a live ramp.
    if (server_joint_peak_ > server_progress_peak_ || server_progress_ns_ == 0 || !run_.server_stats_error.empty()) {
      server_progress_peak_ = server_joint_peak_;
      server_progress_ns_ = now;
    }
    std::string target = format_thousands(r_.hold_until_server);
    if (t.established < r_.plan.connections) {
      finish("failed", stall_reason("this client settled at " + format_thousands(t.established) + " of its " +
                                    format_thousands(r_.plan.connections) + ", so the server cannot hold the target of " + target));
      return true;
    }
    // Silent, though, for three stall timeouts (a minute by default): that is an answer too.
    if (!run_.server_stats_error.empty() && stalled((now - std::max(server_answered_ns_, hold_started_ns_)) / 3)) {
      finish("failed", stall_reason("the server's stats have not answered for " + format_duration_ns(now - std::max(server_answered_ns_, hold_started_ns_)) +
                                    " (" + run_.server_stats_error + "), at " + format_thousands(server_joint_peak_) + " of " + target));
      return true;
    }
    if (stalled(now - server_progress_ns_)) {
      finish("failed", stall_reason("the server holds " + format_thousands(server_joint_peak_) + " of " + target + " and added none for " +
                                    format_duration_ns(now - server_progress_ns_)));
      return true;
    }
    return false;
  }

  // Why the run stopped adding connections: what was seen, the silent limit that bit with the numbers
  // read in each namespace (this one, and the server's from its /stats), then the shortfall.
  std::string stall_reason(const std::string& what) const {
    std::vector<NamespaceReading> readings;
    if (run_.server_stats && (*run_.server_stats).contains("conntrack")) {
      const ojson& c = (*run_.server_stats)["conntrack"];
      auto u64 = [](const ojson& v) { return v.is_number_unsigned() ? std::optional<uint64_t>(v.get<uint64_t>()) : std::nullopt; };
      readings.push_back({"the server's network namespace", u64(c.value("count", ojson())), u64(c.value("max", ojson()))});
    }
    auto own = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches);
    // Natively both ends share one namespace: name it once, as the server's.
    if (readings.empty() || !conntrack_full(readings[0]))
      readings.push_back({"this client's network namespace", own.conntrack_count, own.conntrack_max});
    std::string limit = silent_limit_reached(readings);
    return "stalled: " + what + (limit.empty() ? "" : "; " + limit) + "; " + shortfall();
  }

  std::string shortfall() const {
    auto now = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches);
    std::map<std::string, int64_t> delta;
    for (const auto& [k, v] : now.tcpext)
      if (run_.kernel_before.tcpext.count(k)) delta[k] = static_cast<int64_t>(v) - static_cast<int64_t>(run_.kernel_before.tcpext.at(k));
    ClientCounters t = totals();
    t.established_peak = run_.established_peak;
    t.quota = r_.plan.connections;
    return explain_shortfall(t, delta);
  }

  // Once a second: the time series, the server's count, and the progress line.
  void sample() {
    if (phase_ == Phase::stopping) return;
    ClientCounters t = totals();
    const SeriesPoint& p = add_series_point(t);
    print_progress(p, t, false);
    write_status(p, t);
  }

  // What a watcher (lab-up's progress line) reads of this client: rewritten whole every second, and
  // once more with the outcome when the run ends.
  void write_status(const SeriesPoint& p, const ClientCounters& t) const {
    if (r_.status_file.empty()) return;
    ojson s = {{"phase", phase_ == Phase::hold && hold_from_ns_ < 0 && r_.hold_until_server ? "wait" : phase_name()},
               {"established", p.established},
               {"target", r_.plan.connections},
               {"connect_rate_per_s", p.connect_rate_per_s},
               {"in_flight", t.in_flight},
               {"errors", p.errors},
               {"t_s", p.t_s},
               {"server_connections", p.server_connections ? ojson(*p.server_connections) : ojson(nullptr)},
               {"status", phase_ == Phase::stopping ? ojson(run_.status) : ojson(nullptr)},
               {"reason", phase_ == Phase::stopping && !run_.reason.empty() ? ojson(run_.reason) : ojson(nullptr)}};
    if (std::string e = write_file_atomically(r_.status_file, s.dump() + "\n", Durability::replaced); !e.empty() && !status_warned_) {
      std::fprintf(stderr, "c1m client: warning: status file: %s\n", e.c_str());
      status_warned_ = true;
    }
  }

  // A point of the series. finish() adds a last one, so the series ends when the run does: the lab's
  // merged ramp then shows every client up to its end, not to its last whole second.
  const SeriesPoint& add_series_point(const ClientCounters& t) {
    int64_t now = monotonic_ns();
    SeriesPoint p;
    p.t_s = seconds(now - run_.ramp_start_ns);
    p.established = t.established;
    double since_last_s = seconds(now - (last_sample_ns_ ? last_sample_ns_ : run_.ramp_start_ns));
    p.connect_rate_per_s = since_last_s > 0 ? static_cast<double>(t.connected_total - last_connected_) / since_last_s : 0;
    last_connected_ = t.connected_total;
    last_sample_ns_ = now;
    p.errors = t.errors.total();
    p.server_connections = poll_server();
    run_.series.push_back(p);
    // Kernel memory and counters are read at the peak, not after connections have gone.
    if (t.established > 0 && t.established >= peak_sampled_) {
      peak_sampled_ = t.established;
      run_.kernel_at_peak = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches);
    }
    return run_.series.back();
  }

  std::optional<uint64_t> poll_server() {
    if (!r_.server_stats) return std::nullopt;
    if (!stats_connection_) stats_connection_.emplace(*r_.server_stats);
    auto res = stats_connection_->get("/stats", 500);
    if (res.status != 200) {
      run_.server_stats_error = res.status ? "GET /stats answered " + std::to_string(res.status) : res.error;
      return std::nullopt;
    }
    auto j = ojson::parse(res.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("connections") || !j["connections"].is_number_unsigned()) {
      run_.server_stats_error = "GET /stats from " + r_.server_stats->str() + " did not return c1m server stats";
      return std::nullopt;
    }
    run_.server_stats_error.clear();
    server_answered_ns_ = monotonic_ns();
    uint64_t c = j["connections"].get<uint64_t>();
    // The server's own peak is monotonic: once it has held the target at once, every client may go
    // (the current count drops as soon as the first one leaves).
    if (j.contains("connections_peak") && j["connections_peak"].is_number_unsigned())
      server_joint_peak_ = std::max(server_joint_peak_, j["connections_peak"].get<uint64_t>());
    run_.server_connections_peak = std::max(run_.server_connections_peak.value_or(0), c);
    run_.server_stats = std::move(j);
    return c;
  }

  void print_progress(const SeriesPoint& p, const ClientCounters& t, bool last) {
    char line[256];
    std::snprintf(line, sizeof line, "%-5s %s/%s established  %s/s  in-flight %llu  errors %llu  %s%s",
                  phase_name(), format_count(static_cast<double>(p.established)).c_str(),
                  format_count(static_cast<double>(r_.plan.connections)).c_str(), format_count(p.connect_rate_per_s).c_str(),
                  static_cast<unsigned long long>(t.in_flight), static_cast<unsigned long long>(t.errors.total()),
                  format_duration_ns(static_cast<int64_t>(p.t_s * 1e9)).c_str(),
                  p.server_connections ? ("  server " + format_count(static_cast<double>(*p.server_connections))).c_str() : "");
    if (r_.live_progress) {
      std::fprintf(stderr, "\r\033[K%s%s", line, last ? "\n" : "");
    } else if (r_.plain_progress && (last || run_.series.size() % 5 == 1)) {
      std::fprintf(stderr, "%s\n", line);
    }
  }

  // Takes the peak measurements while the connections are still held, then stops the workers.
  std::optional<double> server_cpu_seconds() {
    poll_server();
    if (!run_.server_stats || !(*run_.server_stats).contains("cpu_seconds") || !(*run_.server_stats)["cpu_seconds"].is_number())
      return std::nullopt;
    return (*run_.server_stats)["cpu_seconds"].get<double>();
  }

  // CPU per second of hold, on each side: the figure that says an idle million costs nothing.
  void measure_hold_cpu() {
    double held_s = seconds(monotonic_ns() - hold_started_ns_);
    if (held_s < 1.0) return;  // too short to say anything
    run_.hold_cpu_cores_client = static_cast<double>(pool_.cpu_ns() - hold_cpu_start_ns_) / 1e9 / held_s;
    auto server_now = server_cpu_seconds();
    if (server_now && hold_server_cpu_start_s_) run_.hold_cpu_cores_server = (*server_now - *hold_server_cpu_start_s_) / held_s;
  }

  void finish(const std::string& status, const std::string& reason) {
    if (phase_ == Phase::stopping) return;
    if (phase_ == Phase::hold) measure_hold_cpu();
    add_series_point(totals());
    if (totals().established >= peak_sampled_) run_.kernel_at_peak = procfs::take_kernel_snapshot();
    finish_now(status, reason);
    write_status(run_.series.back(), totals());
    if (r_.live_progress) std::fprintf(stderr, "\n");
    if (sup_) sup_->stop(5000);
  }

  void finish_now(const std::string& status, const std::string& reason) {
    phase_ = Phase::stopping;
    run_.status = status;
    run_.reason = reason;
  }

  ojson build_record() {
    run_.ended_unix_ms = unix_ms();
    run_.totals = totals();
    for (const auto& h : histograms_) {
      run_.histograms.connect_us.merge(h.connect_us);
      run_.histograms.rtt_us.merge(h.rtt_us);
    }
    std::string lost = pool_.describe_lost();
    if (!lost.empty() && run_.status == "complete") run_.status = "failed";
    if (!lost.empty()) run_.reason += (run_.reason.empty() ? "" : "; ") + lost;
    if (run_.kernel_at_peak.sockstat.empty()) run_.kernel_at_peak = procfs::take_kernel_snapshot();
    return build_client_record(run_);
  }

  const ClientOptions& opts_;
  ResolvedClient r_;
  ClientRun run_;
  net::WorkerPool pool_;
  net::Supervisor* sup_ = nullptr;
  std::vector<ClientCounters> latest_;
  std::vector<ClientHistograms> histograms_;
  Phase phase_ = Phase::ramp;
  int64_t hold_started_ns_ = 0;
  int64_t hold_from_ns_ = -1;  // when the hold clock started: the ramp's end, or the server's full count
  uint64_t hold_cpu_start_ns_ = 0;
  std::optional<double> hold_server_cpu_start_s_;
  uint64_t last_connected_ = 0;
  int64_t last_sample_ns_ = 0;
  uint64_t peak_sampled_ = 0;
  uint64_t server_joint_peak_ = 0;
  // The last time anything moved: a connection added, the server's joint peak grown.
  uint64_t progress_connected_ = 0;
  int64_t progress_ns_ = 0;
  uint64_t server_progress_peak_ = 0;
  int64_t server_progress_ns_ = 0;
  int64_t server_answered_ns_ = 0;  // the last /stats answer
  mutable bool status_warned_ = false;
  std::optional<net::HttpConnection> stats_connection_;  // kept open: see HttpConnection
};

void print_summary(const ojson& rec, const std::string& json_path) {
    const auto& res = rec["results"];
    const auto& mem = rec["memory"];
    std::fprintf(stderr, "c1m client: %s%s%s\n", rec["status"].get<std::string>().c_str(), rec["reason"].is_string() ? ": " : "",
               rec["reason"].is_string() ? rec["reason"].get<std::string>().c_str() : "");
    std::fprintf(stderr, "  established  client peak %s, server peak %s, kernel TCP in use %s\n",
                 format_figure(res["established_peak_client"], "%.0f").c_str(), format_figure(res["established_peak_server"], "%.0f").c_str(),
                 format_figure(res["kernel_tcp_inuse_at_peak"], "%.0f").c_str());
    std::fprintf(stderr, "  ramp         time to target %s, %s connects/s, %s errors\n",
                 format_time_to_target(res["time_to_target_s"]).c_str(), format_figure(res["connect_rate_per_s"], "%.0f").c_str(),
                 format_figure(res["errors_total"], "%.0f").c_str());
    const auto& lat = res["connect_latency_ms"];
    std::fprintf(stderr, "  connect      p50 %s ms, p99 %s ms, p99.9 %s ms, max %s ms\n", format_figure(lat["p50"], "%.3f").c_str(),
                 format_figure(lat["p99"], "%.3f").c_str(), format_figure(lat["p999"], "%.3f").c_str(), format_figure(lat["max"], "%.3f").c_str());
    const auto& rtt = res["ping_rtt_ms"];
    if (rtt["count"].get<uint64_t>() > 0)
      std::fprintf(stderr, "  ping rtt     p50 %s ms, p99 %s ms over %s pings\n", format_figure(rtt["p50"], "%.3f").c_str(),
                   format_figure(rtt["p99"], "%.3f").c_str(), format_figure(rtt["count"], "%.0f").c_str());
    std::fprintf(stderr, "  hold cpu     client %s cores, server %s cores\n", format_figure(res["hold_cpu_cores_client"], "%.4f").c_str(),
                 format_figure(res["hold_cpu_cores_server"], "%.4f").c_str());
    std::fprintf(stderr, "  memory       kernel %s B/socket, user %s B/conn (client), %s B/conn (server)\n",
                 format_figure(mem["kernel_bytes_per_socket"], "%.0f").c_str(), format_figure(mem["user_bytes_per_connection_client"], "%.0f").c_str(),
                 format_figure(mem["user_bytes_per_connection_server"], "%.0f").c_str());
    if (!json_path.empty() && json_path != "-") std::fprintf(stderr, "  record       %s\n", json_path.c_str());
}

volatile sig_atomic_t g_stop_between_runs = 0;

// --repeat: the experiment N times, every repetition's figures kept so a comparison can test
// significance. The record is the last repetition's, with `repetitions` beside it.
// The collector hears from a client twice: when it starts (so a client that dies is still named) and
// with its record. A collector that does not answer costs a warning, never the run.
void report(const ResolvedClient& r, const std::string& path, const ojson& body) {
  if (!r.report_to) return;
  auto res = net::http_post(*r.report_to, path, body.dump(), 10000);
  if (res.status != 200)
    std::fprintf(stderr, "c1m client: warning: POST %s to the collector %s failed: %s\n", path.c_str(), r.report_to->str().c_str(),
                 res.status ? res.body.c_str() : res.error.c_str());
}

int run_client(ClientOptions& o) {
  ResolvedClient r = resolve(o);
  ojson host = host_fingerprint();
  // Unique among clients on one host (the same hostname) and across containers (the same pid, 1).
  std::string participant = host["hostname"].get<std::string>() + "-" + std::to_string(getpid());
  // The lab's run this client is part of; without one, the collector makes the client a run of its own.
  const ojson run = o.run_id.empty() ? ojson::object() : ojson{{"run", o.run_id}, {"role", "client"}, {"expect_clients", o.run_clients}};
  ojson hello = {{"name", participant}, {"addresses", host["addresses"]}, {"connections", r.plan.connections}};
  hello.update(run);
  report(r, "/hello", hello);
  std::vector<ojson> records;
  for (size_t k = 0; k < o.repeat; ++k) {
    if (k > 0) {
      // A signal between repetitions stops the series; the record says so.
      signal(SIGINT, [](int) { g_stop_between_runs = 1; });
      signal(SIGTERM, [](int) { g_stop_between_runs = 1; });
      sleep(2);  // let the last repetition's sockets go before measuring the next
      if (g_stop_between_runs) break;
      std::fprintf(stderr, "c1m client: repetition %zu of %zu\n", k + 1, o.repeat);
    }
    records.push_back(ClientRunner(o, r).run());
    if (records.back()["status"] == "interrupted") break;
  }
  ojson record = records.back();
  if (o.repeat > 1) {
    ojson reps = ojson::array();
    std::string status = "complete", reason;
    for (size_t k = 0; k < records.size(); ++k) {
      const ojson& rec = records[k];
      ojson rep = {{"repetition", k + 1}, {"status", rec["status"]}, {"started_at", rec["started_at"]}};
      for (const auto& m : compared_metrics()) {
        ojson::json_pointer p(m.pointer);
        rep[m.name] = rec.contains(p) ? rec.at(p) : ojson(nullptr);
      }
      reps.push_back(rep);
      if (rec["status"] != "complete") {
        status = rec["status"] == "interrupted" ? "interrupted" : (status == "interrupted" ? status : "failed");
        reason += (reason.empty() ? "" : "; ") + ("repetition " + std::to_string(k + 1) + ": " + rec.value("reason", rec["status"].get<std::string>()));
      }
    }
    if (g_stop_between_runs || records.size() < o.repeat) {
      status = "interrupted";
      reason += (reason.empty() ? "" : "; ") + std::to_string(records.size()) + " of " + std::to_string(o.repeat) + " repetitions ran";
    }
    record["status"] = status;
    record["reason"] = reason.empty() ? ojson(nullptr) : ojson(reason);
    record["config"]["repeat"] = o.repeat;
    record["repetitions"] = reps;
  }
  if (!o.json.empty()) {
    if (o.json == "-") {
      std::printf("%s\n", record.dump(2).c_str());
    } else if (std::string e = write_file_atomically(o.json, record.dump(2) + "\n"); !e.empty()) {
      std::fprintf(stderr, "c1m client: %s\n", e.c_str());
    }
  }
  record["participant"] = participant;
  record.update(run);
  report(r, "/record", record);
  print_summary(record, o.json);
  if (o.repeat > 1) std::fprintf(stderr, "  repetitions  %zu of %zu\n", records.size(), o.repeat);
  if (record["status"] == "complete") return 0;
  return record["status"] == "interrupted" ? 130 : 1;
}


}  // namespace

Command add_client_command(CLI::App& root) {
  auto o = std::make_shared<ClientOptions>();
  CLI::App* c = root.add_subcommand("client", "open, hold and measure N connections");
  c->add_option("--target", o->target, "ADDRESS:PORT, ADDRESS:PORT1-PORT2 or a comma list")->capture_default_str();
  c->add_option("--source", o->source, "source ADDRESS or ADDRESS1-ADDRESS2 (default: the kernel picks)");
  c->add_option("--connections,-n", o->connections, "connections to open (1m, 50k, ...)")->capture_default_str();
  c->add_option("--rate", o->rate, "connects per second, all workers together (0: as fast as in-flight allows)")->capture_default_str();
  c->add_option("--max-in-flight", o->max_in_flight, "connects in flight, all workers together (0: 200 per worker)")->capture_default_str();
  c->add_option("--connect-timeout", o->connect_timeout, "give up on one connect after this long")->capture_default_str();
  c->add_option("--hold", o->hold, "hold the connections this long after the ramp")->capture_default_str();
  c->add_option("--ping-interval", o->ping_interval, "ping every connection this often (0: no pings)")->capture_default_str();
  c->add_option("--report-to", o->report_to, "ADDRESS:PORT of a collector (c1m collect --listen) to push the record to");
  // Also from the environment: compose passes an empty one for a one-off client, which a flag cannot carry.
  c->add_option("--run-id", o->run_id, "with --report-to: the run this client is part of (the lab's); default: a run of its own")
      ->envname("C1M_JOIN_RUN");
  c->add_option("--run-clients", o->run_clients, "with --run-id: how many clients that run has")
      ->check(CLI::Range(1, 100000))->envname("C1M_RUN_CLIENTS")->capture_default_str();
  c->add_option("--hold-until-server", o->hold_until_server,
                "count --hold from when the server holds this many (one of many clients; bounded by --ramp-timeout)");
  c->add_option("--ramp-timeout", o->ramp_timeout, "fail the run if the ramp has not settled by then")->capture_default_str();
  c->add_option("--stall-timeout", o->stall_timeout,
                "fail the run when it adds no connection for this long short of the target, or the server adds none while "
                "this client waits for it (0: never)")
      ->capture_default_str();
  c->add_option("--status-file", o->status_file, "rewrite this JSON file every second with the run's progress ({hostname} is replaced)");
  c->add_option("--workers", o->workers, "worker processes (default: from --connections and the open-files limit)");
  c->add_option("--repeat", o->repeat, "run the experiment N times; the record keeps every repetition")->check(CLI::Range(1, 1000))->capture_default_str();
  c->add_option("--server-stats", o->server_stats, "the server's --admin ADDRESS:PORT, read for its side of the count");
  c->add_option("--json", o->json, "write the run record here (- for stdout; {hostname} is replaced)");
  c->add_option("--approach", o->approach, "label for the record")
      ->check(CLI::IsMember({"auto", "multi-ip", "multi-port", "custom"}))->capture_default_str();
  c->add_option("--progress", o->progress, "live status line")->check(CLI::IsMember({"auto", "tty", "plain", "off"}))->capture_default_str();
  c->add_option("--source-ports", o->source_ports, "planned: the client names each source port (fast at any fill); kernel: connect() searches")
      ->check(CLI::IsMember({"planned", "kernel"}))->capture_default_str();
  c->add_option("--sched", o->sched, kSchedHelp)->check(CLI::IsMember({"batch", "normal"}))->capture_default_str();
  c->add_flag("--allow-any-target", o->allow_any_target, "allow targets outside 127.0.0.0/8 and 198.18.0.0/15");
  return {c, [o] {
            return run_client(*o);
          }};
}

}  // namespace c1m::app
