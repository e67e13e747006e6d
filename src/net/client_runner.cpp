#include "net/client_runner.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "core/host/atomic_file.hpp"
#include "core/host/clock.hpp"
#include "core/host/host.hpp"
#include "core/host/procfs.hpp"
#include "core/host/shortfall.hpp"
#include "core/record/record.hpp"
#include "core/units.hpp"
#include "net/client_worker.hpp"
#include "net/http_client.hpp"
#include "net/stats_poller.hpp"
#include "net/supervisor.hpp"

namespace c1m::net {
namespace {

// An answer older than this means the server is not answering now (it is polled once a second).
constexpr int64_t kServerFreshNs = 3'000'000'000;

// The longest the ramp waits for its --start-file: every client container of a lab is running by then.
constexpr int64_t kStartFileWaitNs = 300'000'000'000;

// How long the workers have to send their final reports once told to stop (a worker still silent
// then is named in the record as lost).
constexpr int kFinalReportsGraceMs = 30'000;

volatile sig_atomic_t g_stop_before_start = 0;

enum class StartWait { go, stopped, no_start_file };

// Before the ramp: --start-delay, then until --start-file exists (the lab's start line, so that
// clients started one after another by compose ramp together, and time to target is the ramp's, not
// the container starts'). Says whether SIGTERM or SIGINT came meanwhile (the supervisor's own
// handlers are not up yet; these stand in for them, and the default ones come back after).
StartWait wait_to_start(int64_t delay_ns, const std::string& start_file) {
  if (delay_ns <= 0 && start_file.empty()) return StartWait::go;
  struct sigaction stop {
  }, old_term{}, old_int{};
  stop.sa_handler = [](int) { g_stop_before_start = 1; };
  sigaction(SIGTERM, &stop, &old_term);
  sigaction(SIGINT, &stop, &old_int);
  for (int64_t until = monotonic_ns() + delay_ns; !g_stop_before_start && monotonic_ns() < until;) usleep(20'000);
  bool there = start_file.empty();
  for (int64_t until = monotonic_ns() + kStartFileWaitNs; !there && !g_stop_before_start && monotonic_ns() < until;) {
    there = access(start_file.c_str(), F_OK) == 0;
    if (!there) usleep(5'000);  // the clients' starts differ by this at most
  }
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  if (g_stop_before_start) return StartWait::stopped;
  return there ? StartWait::go : StartWait::no_start_file;
}

// Runs the experiment: ramp, hold, stop, record.
class ClientRunner {
 public:
  explicit ClientRunner(const ClientConfig& config) : r_(config) {}

  // Runs the experiment once and returns its record.
  ojson run() {
    run_.run_id = new_run_id();
    StartWait start = wait_to_start(r_.start_delay_ns, r_.start_file);
    run_.approach = r_.approach;
    run_.workers = r_.workers;
    run_.config = config_json(r_);
    run_.topology = topology_json(r_);
    run_.limits = process_limits();
    run_.host = host_fingerprint();
    run_.sysctls = {{"namespaced", namespaced_sysctls()}, {"host", host_sysctls()}};
    run_.limits["connections_per_worker_max"] = r_.capacity;
    run_.started_unix_ms = unix_ms();
    run_.kernel_before = procfs::take_kernel_snapshot();
    run_.warnings = r_.warnings;
    for (const auto& w : r_.warnings) std::fprintf(stderr, "c1m client: warning: %s\n", w.c_str());
    latest_.resize(r_.workers);
    histograms_.resize(r_.workers);
    if (start == StartWait::stopped) {
      finish_now("interrupted", "SIGTERM or SIGINT before the start (the start delay or the wait for the start file)");
      return build_record();
    }
    if (start == StartWait::no_start_file) {
      finish_now("failed", "the start file " + r_.start_file + " did not appear within " +
                               std::to_string(kStartFileWaitNs / 1'000'000'000) + " s");
      return build_record();
    }

    auto quotas = split_evenly(r_.plan.connections, r_.workers);
    std::vector<uint64_t> firsts(r_.workers, 0);
    for (size_t i = 1; i < r_.workers; ++i) firsts[i] = firsts[i - 1] + quotas[i - 1];
    run_.ramp_start_ns = monotonic_ns();
    ramp_machine_cpu_ = last_machine_cpu_ = procfs::machine_cpu();
    ramp_client_cpu_ns_ = pool_.cpu_ns();
    std::string err = pool_.spawn(r_.workers, [&](size_t i, int control_fd) {
      ClientWorkerConfig cfg{r_.plan,
                             firsts[i],
                             quotas[i],
                             r_.rate / static_cast<double>(r_.workers),
                             r_.in_flight_per_worker,
                             r_.connect_timeout_ns,
                             r_.ping_interval_ns,
                             r_.live_ns > 0,
                             static_cast<uint32_t>(i),
                             static_cast<uint32_t>(r_.workers),
                             control_fd};
      cfg.live_sched = r_.live_sched.c_str();
      return run_client_worker(cfg);
    });
    if (!err.empty()) {
      finish_now("failed", err);
      return build_record();
    }

    Supervisor sup(pool_, [this](uint32_t w, MessageType type, const void* p, size_t n) { on_message(w, type, p, n); });
    sup_ = &sup;
    // Opens the kept stats connection as the ramp starts, long before it can fill any table.
    if (r_.server_stats) stats_ = std::make_unique<StatsPoller>(sup.loop().base(), *r_.server_stats);
    poll_server();
    sup.on_signal([this](int sig) {
      finish("interrupted", std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + " during the " + phase_name());
    });
    sup.on_worker_lost(
        [this](size_t w) { finish("failed", "client worker " + std::to_string(w) + " ended unexpectedly"); });
    sup.every({0, 100000}, [this] { step(); });
    sup.every({1, 0}, [this] { sample(); });
    sup.run();
    if (stats_) run_.server_stats_error = stats_->error();
    stats_.reset();  // before the loop it runs on goes
    sup_ = nullptr;
    return build_record();
  }

 private:
  enum class Phase { ramp, hold, live, stopping };

  const char* phase_name() const {
    switch (phase_) {
      case Phase::ramp:
        return "ramp";
      case Phase::hold:
        return "hold";
      case Phase::live:
        return "live";
      case Phase::stopping:
        break;
    }
    return "stop";
  }

  void on_message(uint32_t w, MessageType type, const void* p, size_t n) {
    if (type == MessageType::client_counters && n == sizeof(ClientCounters)) {
      std::memcpy(&latest_[w], p, n);
      uint64_t established = 0;
      for (const auto& c : latest_) established += c.established;
      run_.established_peak = std::max(run_.established_peak, established);
    } else if (type == MessageType::client_histograms && n == sizeof(ClientHistograms)) {
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
      return finish("failed", stall_reason("no connection added for " + format_duration_ns(now - progress_ns_) +
                                           " during the ramp"));
    bool all_reported = std::all_of(latest_.begin(), latest_.end(),
                                    [](const ClientCounters& c) { return c.quota > 0 || c.settled_ns >= 0; });
    if (phase_ == Phase::ramp) {
      if (all_reported && t.settled_ns >= 0) {
        if (t.established == 0) return finish("failed", "nothing to hold: " + shortfall());
        phase_ = Phase::hold;
        hold_started_ns_ = now;
        hold_cpu_start_ns_ = pool_.cpu_ns();
        measure_ramp_cpu();
        hold_server_cpu_start_.reset();  // the first answer from now on: see take_server_answer
      } else if (now - run_.ramp_start_ns > r_.ramp_timeout_ns) {
        return finish("failed", "the ramp did not settle within " + r_.ramp_timeout_text + ": " + shortfall());
      }
    }
    if (phase_ == Phase::live) {
      if (now - live_started_ns_ >= r_.live_ns) {
        t = totals();
        bool ok = t.errors.total() == 0 && t.established == r_.plan.connections;
        finish(ok ? "complete" : "failed", ok ? "" : shortfall());
      }
      return;
    }
    if (phase_ != Phase::hold) return;
    // Many clients (the lab's 20 containers) end their ramps at different times: each counts its hold
    // from the moment the server holds the whole target, so the target is held at once for --hold,
    // not just touched while the first clients to finish are leaving.
    if (hold_from_ns_ < 0 && (r_.hold_until_server == 0 || server_joint_peak_ >= r_.hold_until_server))
      hold_from_ns_ = now;
    if (hold_from_ns_ < 0 && waiting_for_server_in_vain(t, now)) return;
    bool held = hold_from_ns_ >= 0 ? now - hold_from_ns_ >= r_.hold_ns : now - run_.ramp_start_ns > r_.ramp_timeout_ns;
    if (held) {
      t = totals();
      bool ok = t.quota_reached_ns >= 0 && t.errors.total() == 0 && t.established == r_.plan.connections;
      if (ok && r_.live_ns > 0 && hold_from_ns_ >= 0) return go_live(now);
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
    if (server_joint_peak_ > server_progress_peak_ || server_progress_ns_ == 0 || server_silent(now)) {
      server_progress_peak_ = server_joint_peak_;
      server_progress_ns_ = now;
    }
    std::string target = format_thousands(r_.hold_until_server);
    if (t.established < r_.plan.connections) {
      finish("failed", stall_reason("this client settled at " + format_thousands(t.established) + " of its " +
                                    format_thousands(r_.plan.connections) +
                                    ", so the server cannot hold the target of " + target));
      return true;
    }
    // Silent, though, for three stall timeouts (a minute by default): that is an answer too.
    if (server_silent(now) && stalled((now - std::max(server_answered_ns_, hold_started_ns_)) / 3)) {
      finish("failed",
             stall_reason("the server's stats have not answered for " +
                          format_duration_ns(now - std::max(server_answered_ns_, hold_started_ns_)) + " (" +
                          stats_->error() + "), at " + format_thousands(server_joint_peak_) + " of " + target));
      return true;
    }
    if (stalled(now - server_progress_ns_)) {
      finish("failed", stall_reason("the server holds " + format_thousands(server_joint_peak_) + " of " + target +
                                    " and added none for " + format_duration_ns(now - server_progress_ns_)));
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
      auto u64 = [](const ojson& v) {
        return v.is_number_unsigned() ? std::optional<uint64_t>(v.get<uint64_t>()) : std::nullopt;
      };
      readings.push_back(
          {"the server's network namespace", u64(c.value("count", ojson())), u64(c.value("max", ojson()))});
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
      if (run_.kernel_before.tcpext.count(k))
        delta[k] = static_cast<int64_t>(v) - static_cast<int64_t>(run_.kernel_before.tcpext.at(k));
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
               {"errors", p.errors.value_or(0)},
               {"t_s", p.t_s},
               {"server_connections", p.server_connections ? ojson(*p.server_connections) : ojson(nullptr)},
               {"status", phase_ == Phase::stopping ? ojson(run_.status) : ojson(nullptr)},
               {"reason", phase_ == Phase::stopping && !run_.reason.empty() ? ojson(run_.reason) : ojson(nullptr)}};
    if (std::string e = write_file_atomically(r_.status_file, s.dump() + "\n", Durability::replaced);
        !e.empty() && !status_warned_) {
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
    p.connect_rate_per_s =
        since_last_s > 0 ? static_cast<double>(t.connected_total - last_connected_) / since_last_s : 0;
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

  // Asks the server for its stats (answered later, on the loop) and takes in the latest answer.
  std::optional<uint64_t> poll_server() {
    if (!stats_) return std::nullopt;
    stats_->poll();
    take_server_answer(stats_->latest(), stats_->answered_ns());
    if (stats_->answered_ns() == 0 || monotonic_ns() - stats_->answered_ns() > kServerFreshNs) return std::nullopt;
    return (*stats_->latest())["connections"].get<uint64_t>();
  }

  // One last reading at the end, while the connections are still held (bounded; the loop is only
  // stopping by then): the latest polled answer may be a second old and miss the last connections.
  void final_server_reading() {
    if (!r_.server_stats) return;
    auto res = http_get(*r_.server_stats, "/stats", 2000);
    auto j = ojson::parse(res.body, nullptr, false);
    if (res.status == 200 && j.is_object() && j.contains("connections") && j["connections"].is_number_unsigned())
      take_server_answer(j, monotonic_ns());
  }

  void take_server_answer(const std::optional<ojson>& j, int64_t answered_ns) {
    if (!j || answered_ns <= server_answered_ns_) return;
    server_answered_ns_ = answered_ns;
    uint64_t c = (*j)["connections"].get<uint64_t>();
    // The server's own peak is monotonic: once it has held the target at once, every client may go
    // (the current count drops as soon as the first one leaves).
    if (j->contains("connections_peak") && (*j)["connections_peak"].is_number_unsigned())
      server_joint_peak_ = std::max(server_joint_peak_, (*j)["connections_peak"].get<uint64_t>());
    run_.server_connections_peak = std::max(run_.server_connections_peak.value_or(0), c);
    run_.server_stats = *j;
    // The server's CPU over the hold counts from its first answer within the hold, not a ramp one.
    if (phase_ == Phase::hold && !hold_server_cpu_start_ && answered_ns > hold_started_ns_)
      hold_server_cpu_start_ = server_cpu_reading();
    if (phase_ == Phase::live && !live_server_cpu_start_ && answered_ns > live_started_ns_)
      live_server_cpu_start_ = server_cpu_reading();
  }

  // No answer for a few polls: the server (or the way to it) is not answering now.
  bool server_silent(int64_t now) const {
    return server_answered_ns_ == 0 || now - server_answered_ns_ > kServerFreshNs;
  }

  void print_progress(const SeriesPoint& p, const ClientCounters& t, bool last) {
    char rtt[96] = "";
    if (p.ping_rtt_us.count() > 0)  // the last second's answers: a stall shows here as it happens
      std::snprintf(rtt, sizeof rtt, "  rtt p99 %.1f ms max %.1f ms (%s answers)",
                    static_cast<double>(p.ping_rtt_us.quantile(0.99)) / 1000.0,
                    static_cast<double>(p.ping_rtt_us.max()) / 1000.0,
                    format_count(static_cast<double>(p.ping_rtt_us.count())).c_str());
    char line[320];
    std::snprintf(
        line, sizeof line, "%-5s %s/%s established  %s/s  in-flight %llu  errors %llu  %s%s%s", phase_name(),
        format_count(static_cast<double>(p.established)).c_str(),
        format_count(static_cast<double>(r_.plan.connections)).c_str(), format_count(p.connect_rate_per_s).c_str(),
        static_cast<unsigned long long>(t.in_flight), static_cast<unsigned long long>(t.errors.total()),
        format_duration_ns(static_cast<int64_t>(p.t_s * 1e9)).c_str(),
        p.server_connections ? ("  server " + format_count(static_cast<double>(*p.server_connections))).c_str() : "",
        rtt);
    if (r_.live_progress) {
      std::fprintf(stderr, "\r\033[K%s%s", line, last ? "\n" : "");
    } else if (r_.plain_progress && (last || run_.series.size() % 5 == 1)) {
      std::fprintf(stderr, "%s\n", line);
    }
  }

  // The server's CPU seconds in its latest answer, and when that answer came.
  std::optional<std::pair<double, int64_t>> server_cpu_reading() const {
    if (!run_.server_stats || !run_.server_stats->contains("cpu_seconds") ||
        !(*run_.server_stats)["cpu_seconds"].is_number())
      return std::nullopt;
    return std::pair{(*run_.server_stats)["cpu_seconds"].get<double>(), server_answered_ns_};
  }

  // The server's cores from a reading taken at a window's start to its latest, when they are at
  // least a second apart (its answers come when they come, not when the window opened or closed).
  std::optional<double> server_cores_since(const std::optional<std::pair<double, int64_t>>& start) const {
    auto now = server_cpu_reading();
    if (!now || !start || now->second - start->second < 1'000'000'000) return std::nullopt;
    return (now->first - start->first) / seconds(now->second - start->second);
  }

  // The ramp's CPU, taken within 100 ms of its end (this step's period): the machine's, and this
  // client's processes'. The server measures its own (its /stats' ramp_cpu_seconds).
  void measure_ramp_cpu() {
    run_.ramp_cpu_client_s = static_cast<double>(hold_cpu_start_ns_ - ramp_client_cpu_ns_) / 1e9;
    run_.ramp_machine_cpu_start = ramp_machine_cpu_;
    run_.ramp_machine_cpu_end = procfs::machine_cpu();
  }

  // The idle hold is over: the workers start pinging (SIGUSR1), and the live hold's clocks start.
  void go_live(int64_t now) {
    measure_hold_cpu();
    phase_ = Phase::live;
    live_started_ns_ = now;
    live_cpu_start_ns_ = pool_.cpu_ns();
    live_pings_start_ = totals().pings_sent;
    live_server_cpu_start_.reset();  // the first answer from now on: see take_server_answer
    live_machine_cpu_ = procfs::machine_cpu();
    pool_.signal_all(SIGUSR1);
  }

  // The live hold's figures: its length, the pings in it, CPU in cores on each side.
  void measure_live() {
    double live_s = seconds(monotonic_ns() - live_started_ns_);
    if (live_s < 1.0) return;
    run_.live_s = live_s;
    run_.live_pings = totals().pings_sent - live_pings_start_;
    run_.live_cpu_cores_client = static_cast<double>(pool_.cpu_ns() - live_cpu_start_ns_) / 1e9 / live_s;
    if (!pool_.workers().empty()) run_.limits["live_sched_policy"] = sched_policy_name(pool_.workers()[0].pid);
    if (auto now_cpu = procfs::machine_cpu(); now_cpu && live_machine_cpu_) {
      run_.live_machine_busy_cores = procfs::busy_cores(*live_machine_cpu_, *now_cpu, live_s);
      run_.live_machine_steal_cores = procfs::steal_cores(*live_machine_cpu_, *now_cpu, live_s);
    }
    if (auto cores = server_cores_since(live_server_cpu_start_)) run_.live_cpu_cores_server = cores;
  }

  // CPU per second of hold, on each side: the figure that says an idle million costs nothing.
  void measure_hold_cpu() {
    double held_s = seconds(monotonic_ns() - hold_started_ns_);
    if (held_s < 1.0) return;  // too short to say anything
    run_.hold_cpu_cores_client = static_cast<double>(pool_.cpu_ns() - hold_cpu_start_ns_) / 1e9 / held_s;
    if (auto cores = server_cores_since(hold_server_cpu_start_)) run_.hold_cpu_cores_server = cores;
  }

  void finish(std::string status, std::string reason) {
    if (phase_ == Phase::stopping) return;
    final_server_reading();
    // Complete by this side's count is not complete if the server, by its own, never held this
    // client's share: connections the kernel completed into a listen queue the server never drained
    // (a stopped or wedged server) count on this side only.
    if (status == "complete" && server_answered_ns_ > 0 && server_joint_peak_ < r_.plan.connections) {
      status = "failed";
      reason = "the server's own count never reached this client's " + format_thousands(r_.plan.connections) +
               " (its peak: " + format_thousands(server_joint_peak_) + ", in its last answer " +
               format_duration_ns(monotonic_ns() - server_answered_ns_) +
               " ago): connections completed by the kernel that the server never accepted";
    }
    if (phase_ == Phase::hold) measure_hold_cpu();
    if (phase_ == Phase::live) measure_live();
    add_series_point(totals());
    if (totals().established >= peak_sampled_) run_.kernel_at_peak = procfs::take_kernel_snapshot();
    finish_now(status, reason);
    write_status(run_.series.back(), totals());
    if (r_.live_progress) std::fprintf(stderr, "\n");
    // The workers' final reports: each resets its connections first. 5 s was too little once, in a
    // lab run whose host lost 1.3-1.8 of its 2 cores to the hypervisor in the seconds before the stop:
    // every worker of all 20 clients was "lost" from a run that held 1M with 0 errors.
    if (sup_) sup_->stop(kFinalReportsGraceMs);
  }

  void finish_now(const std::string& status, const std::string& reason) {
    phase_ = Phase::stopping;
    run_.status = status;
    run_.reason = reason;
  }

  ojson build_record() {
    run_.ended_unix_ms = unix_ms();
    run_.totals = totals();
    // Answers that came in while the workers stopped, after the last point: they belong to its second.
    if (!run_.series.empty()) run_.series.back().ping_rtt_us.merge(run_.totals.rtt_us.since(last_rtt_us_));
    for (const auto& h : histograms_) {
      run_.histograms.connect_us.merge(h.connect_us);
      run_.histograms.rtt_us.merge(h.rtt_us);
    }
    std::string lost = pool_.describe_lost();
    if (!lost.empty() && run_.status == "complete") run_.status = "failed";
    append_clause(run_.reason, lost);
    // Errors counted as the workers ended (a live hold's pings never answered) fail a run that was
    // complete when it stopped.
    if (run_.status == "complete" && run_.totals.errors.total() > 0) {
      run_.status = "failed";
      append_clause(run_.reason, shortfall());
    }
    if (run_.kernel_at_peak.sockstat.empty()) run_.kernel_at_peak = procfs::take_kernel_snapshot();
    return build_client_record(run_).to_json();
  }

  const ClientConfig& r_;
  ClientRun run_;
  WorkerPool pool_;
  Supervisor* sup_ = nullptr;
  std::vector<ClientCounters> latest_;
  std::vector<ClientHistograms> histograms_;
  Phase phase_ = Phase::ramp;
  int64_t hold_started_ns_ = 0;
  int64_t hold_from_ns_ = -1;  // when the hold clock started: the ramp's end, or the server's full count
  uint64_t hold_cpu_start_ns_ = 0;
  std::optional<procfs::MachineCpu> ramp_machine_cpu_;  // at the ramp's start
  std::optional<procfs::MachineCpu> live_machine_cpu_;  // at the live hold's start
  uint64_t ramp_client_cpu_ns_ = 0;
  int64_t live_started_ns_ = 0;
  uint64_t live_cpu_start_ns_ = 0, live_pings_start_ = 0;
  std::optional<std::pair<double, int64_t>> hold_server_cpu_start_;  // the server's CPU seconds, and when it said so
  std::optional<std::pair<double, int64_t>> live_server_cpu_start_;
  uint64_t last_connected_ = 0;
  CoarseHistogram last_rtt_us_;                         // the workers' round trips at the previous point
  std::optional<procfs::MachineCpu> last_machine_cpu_;  // the machine's CPU at the previous point
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
  std::unique_ptr<StatsPoller> stats_;  // on the supervisor's loop, while it runs
};

}  // namespace

ojson run_client_once(const ClientConfig& config) { return ClientRunner(config).run(); }

}  // namespace c1m::net
