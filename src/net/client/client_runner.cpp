#include "net/client/client_runner.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

#include "core/host/atomic_file.hpp"
#include "core/host/clock.hpp"
#include "core/host/host.hpp"
#include "core/host/procfs.hpp"
#include "core/host/shortfall.hpp"
#include "core/plan/limit_found.hpp"
#include "core/plan/run_phases.hpp"
#include "core/progress/progress.hpp"
#include "core/record/record.hpp"
#include "core/units.hpp"
#include "net/base/supervisor.hpp"
#include "net/client/client_worker.hpp"
#include "net/client/cpu_window.hpp"
#include "net/client/series_sampler.hpp"
#include "net/client/server_watch.hpp"
#include "net/client/start_wait.hpp"
#include "net/client/target_probe.hpp"

namespace c1m::net {
namespace {

// How long the workers have to send their final reports once told to stop (a worker still silent
// then is named in the record as lost).
constexpr int kFinalReportsGraceMs = 30'000;

// Runs the experiment: ramp, hold, stop, record.
class ClientRunner {
 public:
  explicit ClientRunner(const ClientConfig& config) : r_(config), server_(config.server_stats, config.target_pid) {}

  // Runs the experiment once and returns its record.
  ojson run() {
    run_.run_id = new_run_id();
    // The probe goes before the start line: the lab's clients then each meet an idle server, not one
    // that the first ramps have filled (a full mosquitto closes a new connection as it comes).
    ojson target;
    const std::string probe_failed = name_and_probe_target(r_, tls_, target);
    StartWait start = wait_to_start(r_.start_delay_ns, r_.start_file);
    run_.approach = r_.approach;
    run_.workers = r_.workers;
    run_.config = config_json(r_);
    run_.topology = topology_json(r_);
    run_.topology["target"] = target;
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

    if (!probe_failed.empty()) {
      finish_now("failed", probe_failed);
      return build_record();
    }

    auto quotas = split_evenly(r_.plan.connections, r_.workers);
    std::vector<uint64_t> firsts(r_.workers, 0);
    for (size_t i = 1; i < r_.workers; ++i) firsts[i] = firsts[i - 1] + quotas[i - 1];
    run_.ramp_start_ns = monotonic_ns();
    phases_.emplace(phase_rules(r_), run_.ramp_start_ns);
    ramp_ = open_window(run_.ramp_start_ns);
    series_.start(run_.ramp_start_ns, ramp_.machine, ramp_.client_cpu);
    target_before_ = server_.read_target();
    std::string err = pool_.spawn(r_.workers, [&](size_t i, int control_fd) {
      const auto nonce = static_cast<uint32_t>(run_.ramp_start_ns);
      return run_client_worker(
          worker_config(r_, static_cast<uint32_t>(i), firsts[i], quotas[i], control_fd, nonce, tls_.get()));
    });
    if (!err.empty()) {
      finish_now("failed", err);
      return build_record();
    }

    Supervisor sup(pool_, [this](uint32_t w, MessageType type, const void* p, size_t n) { on_message(w, type, p, n); });
    sup_ = &sup;
    server_.start(sup.loop().base());
    poll_server();
    sup.on_signal([this](int sig) {
      finish("interrupted", std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + " during the " + phase_name());
    });
    sup.on_worker_lost(
        [this](size_t w) { finish("failed", "client worker " + std::to_string(w) + " ended unexpectedly"); });
    sup.every({0, 100000}, [this] { step(); });
    sup.every({1, 0}, [this] { sample(); });
    sup.run();
    server_.stop();  // before the loop it runs on goes
    if (r_.server_stats) run_.server_stats_error = server_.error();
    sup_ = nullptr;
    return build_record();
  }

 private:
  Phase phase() const { return phases_ ? phases_->phase() : Phase::stopping; }
  const char* phase_name() const { return phases_ ? phases_->name() : "stop"; }

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

  // Every 100 ms: what the run sees, to RunPhases, and what it decides, done.
  void step() {
    if (phase() == Phase::stopping) return;
    ClientCounters t = totals();
    bool all_reported = std::all_of(latest_.begin(), latest_.end(),
                                    [](const ClientCounters& c) { return c.quota > 0 || c.settled_ns >= 0; });
    RunView v;
    v.now_ns = monotonic_ns();
    v.established = t.established;
    v.connected_total = t.connected_total;
    v.attempted = t.attempted;
    v.slo_over_s = slo_over_s_;
    v.errors = t.errors.total();
    v.settled = all_reported && t.settled_ns >= 0;
    v.quota_reached = t.quota_reached_ns >= 0;
    v.server_peak = server_.joint_peak();
    v.server_silent = server_.silent(v.now_ns);
    v.server_answered_ns = server_.answered_ns();
    v.server_error = server_.error();
    Decision d = phases_->step(v);
    // --find-limit: the workers stop connecting once the limit is found and all of them listen for it.
    if (!phases_->limit().empty() && !ramp_stopped_ && all_reported) {
      ramp_stopped_ = true;
      pool_.signal_all(SIGUSR2);
      std::fprintf(stderr, "c1m client: --find-limit: the ramp stops at %s held (%s)\n",
                   format_thousands(t.established).c_str(), phases_->limit().c_str());
    }
    if (d.entered_hold) {
      hold_ = open_window(v.now_ns);
      measure_ramp_cpu();
      if (auto held = server_.read_target(); held && target_before_)
        note_target_cost(r_.target_pid, *target_before_, *held, t.established, run_);
    }
    if (d.action == Decision::Action::go_live) return go_live(v.now_ns);
    if (d.action != Decision::Action::finish) return;
    std::string reason = d.reason;
    if (d.evidence == Decision::Evidence::stall) reason = stall_reason(reason);
    if (d.evidence == Decision::Evidence::shortfall)
      reason = reason.empty() ? shortfall() : reason + ": " + shortfall();
    finish(d.status, reason);
  }

  // Why the run stopped adding connections: what was seen, the silent limit that bit, the shortfall.
  std::string stall_reason(const std::string& what) const {
    std::string limit = silent_limit();
    return "stalled: " + what + (limit.empty() ? "" : "; " + limit) + "; " + shortfall();
  }

  // The silent limit that bit, read in each namespace (this one, and the server's from its /stats).
  std::string silent_limit() const {
    std::vector<NamespaceReading> readings;
    if (const auto& stats = server_.latest())
      readings.push_back({"the server's network namespace", stats->conntrack_count, stats->conntrack_max});
    auto own = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches);
    // Natively both ends share one namespace: name it once, as the server's.
    if (readings.empty() || !conntrack_full(readings[0]))
      readings.push_back({"this client's network namespace", own.conntrack_count, own.conntrack_max});
    return silent_limit_reached(readings);
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
    if (phase() == Phase::stopping) return;
    ClientCounters t = totals();
    const SeriesPoint& p = add_series_point(t);
    const auto p99_ns = static_cast<int64_t>(p.ping_rtt_us.quantile(0.99)) * 1000;
    if (r_.slo_p99_ns > 0)  // --slo-p99: this second's answers against the objective
      slo_over_s_ = p.ping_rtt_us.count() > 0 && p99_ns > r_.slo_p99_ns ? slo_over_s_ + 1 : 0;
    print_progress(p, t, false);
    write_status(p, t);
  }

  // What a watcher (lab-up's progress line) reads of this client: rewritten whole every second, and
  // once more with the outcome when the run ends.
  void write_status(const SeriesPoint& p, const ClientCounters& t) const {
    if (r_.status_file.empty()) return;
    ClientNow now{.phase = phases_ ? phases_->shown_name() : "stop",
                  .target = r_.plan.connections,
                  .in_flight = t.in_flight,
                  .errors = t.errors.total()};
    if (phase() == Phase::stopping) now.status = &run_.status, now.reason = run_.reason;
    ojson s = client_status_json(now, p);
    if (std::string e = write_file_atomically(r_.status_file, s.dump() + "\n", Durability::replaced);
        !e.empty() && !status_warned_) {
      std::fprintf(stderr, "c1m client: warning: status file: %s\n", e.c_str());
      status_warned_ = true;
    }
  }

  // A point of the series. finish() adds a last one, so the series ends when the run does: the lab's
  // merged ramp then shows every client up to its end, not to its last whole second.
  const SeriesPoint& add_series_point(const ClientCounters& t) {
    auto server_connections = poll_server();
    SeriesPoint p = series_.point(t, monotonic_ns(), pool_.cpu(), server_.cpu());
    p.server_connections = server_connections;
    run_.series.push_back(p);
    // Kernel memory and counters are read at the peak, not after connections have gone.
    if (series_.at_peak(t.established)) {
      series_.note_peak(t.established);
      run_.kernel_at_peak = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches);
    }
    return run_.series.back();
  }

  // Asks the server for its stats (answered later, on the loop) and takes in the latest answer.
  std::optional<uint64_t> poll_server() {
    std::optional<uint64_t> held = server_.poll();
    note_server_cpu();
    return held;
  }

  // The server's CPU over a window counts from its first answer within it, not an earlier one.
  void note_server_cpu() {
    CpuWindow* w = phase() == Phase::hold ? &hold_ : phase() == Phase::live ? &live_ : nullptr;
    if (auto cpu = server_.cpu(); w && !w->server && cpu && cpu->at_ns > w->start_ns) w->server = cpu;
  }

  void print_progress(const SeriesPoint& p, const ClientCounters& t, bool last) {
    std::string line = client_progress_line(
        {.phase = phase_name(), .target = r_.plan.connections, .in_flight = t.in_flight, .errors = t.errors.total()},
        p);
    if (r_.live_progress) {
      std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), last ? "\n" : "");
    } else if (r_.plain_progress && (last || run_.series.size() % 5 == 1)) {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  }

  CpuWindow open_window(int64_t now) const { return CpuWindow::open(now, pool_.cpu()); }
  WindowCores cores_since(const CpuWindow& w) const { return net::cores_since(w, pool_.cpu(), server_); }

  // The ramp's CPU, taken within 100 ms of its end (a step's period): the machine's, and this
  // client's processes'. The server measures its own (its /stats' ramp_cpu_seconds).
  void measure_ramp_cpu() {
    std::tie(run_.ramp_cpu_client_s, run_.ramp_cpu_client_user_s) = hold_.client_cpu.since(ramp_.client_cpu).seconds();
    run_.ramp_machine_cpu_start = ramp_.machine;
    run_.ramp_machine_cpu_end = hold_.machine;
  }

  // The idle hold is over: the workers start pinging (SIGUSR1), and the live hold's clocks start.
  void go_live(int64_t now) {
    measure_hold_cpu();
    live_ = open_window(now);
    live_pings_start_ = totals().pings_sent;
    pool_.signal_all(SIGUSR1);
  }

  // The live hold's figures: its length, the pings in it, CPU in cores on each side.
  void measure_live() {
    WindowCores c = cores_since(live_);
    if (c.seconds < 1.0) return;
    run_.live_hold_s = c.seconds;
    run_.live_pings = totals().pings_sent - live_pings_start_;
    run_.live_cpu_cores_client = c.client;
    if (!pool_.workers().empty()) run_.limits["live_sched_policy"] = sched_policy_name(pool_.workers()[0].pid);
    run_.live_machine_busy_cores = c.machine_busy;
    run_.live_machine_steal_cores = c.machine_steal;
    if (c.server) run_.live_cpu_cores_server = c.server;
  }

  // CPU per second of hold, on each side: the figure that says an idle million costs nothing.
  void measure_hold_cpu() {
    WindowCores c = cores_since(hold_);
    if (c.seconds < 1.0) return;  // too short to say anything
    run_.hold_cpu_cores_client = c.client;
    if (c.server) run_.hold_cpu_cores_server = c.server;
  }

  void finish(std::string status, std::string reason) {
    if (phase() == Phase::stopping) return;
    server_.final_reading(status != "complete");
    note_server_cpu();
    if (status == "complete")
      if (auto why =
              server_never_held(r_.plan.connections, server_.joint_peak(), server_.answered_ns(), monotonic_ns())) {
        status = "failed";
        reason = *why;
      }
    if (phase() == Phase::hold) measure_hold_cpu();
    if (phase() == Phase::live) measure_live();
    if (r_.find_limit) note_limit(status, reason);
    add_series_point(totals());
    if (series_.at_peak(totals().established)) run_.kernel_at_peak = procfs::take_kernel_snapshot();
    finish_now(status, reason);
    write_status(run_.series.back(), totals());
    if (r_.live_progress) std::fprintf(stderr, "\n");
    // The workers' final reports: each resets its connections first. 5 s was too little once, in a
    // lab run whose host lost 1.3-1.8 of its 2 cores to the hypervisor in the seconds before the stop:
    // every worker of all 20 clients was "lost" from a run that held 1M with 0 errors.
    if (sup_) sup_->stop(kFinalReportsGraceMs);
  }

  // --find-limit: what the target held as the run ends and what bound it, in the record and its reason.
  void note_limit(const std::string& status, std::string& reason) {
    ojson& target = run_.topology["target"];
    const std::string& ramp_limit = phases_->limit();
    LimitFound found =
        describe_limit(ramp_limit, totals().errors, totals().established, r_.plan.connections, target_called(target),
                       ramp_limit.starts_with("no connection") ? silent_limit() : "");
    target["limit"] = limit_json(found);
    run_.limit_connections = found.held;
    if (status == "complete") reason = found.line;
  }

  void finish_now(const std::string& status, const std::string& reason) {
    if (phases_) phases_->stop();
    run_.status = status;
    run_.reason = reason;
  }

  ojson build_record() {
    run_.ended_unix_ms = unix_ms();
    run_.server_stats = server_.latest();
    run_.server_connections_peak = server_.most_seen();
    run_.totals = totals();
    // Answers that came in while the workers stopped, after the last point: they belong to its second.
    if (!run_.series.empty())
      run_.series.back().ping_rtt_us.merge(run_.totals.rtt_us.since(series_.rtt_at_last_point()));
    for (const auto& h : histograms_) {
      run_.histograms.merge(h);
    }
    std::string lost = pool_.describe_lost();
    if (!lost.empty() && run_.status == "complete") run_.status = "failed";
    append_clause(run_.reason, lost);
    // Errors counted as the workers ended (a live hold's pings never answered) fail a run that was
    // complete when it stopped.
    if (run_.status == "complete" && run_.totals.errors.total() > 0 && !r_.find_limit) {
      run_.status = "failed";
      append_clause(run_.reason, shortfall());
    }
    if (run_.kernel_at_peak.sockstat.empty()) run_.kernel_at_peak = procfs::take_kernel_snapshot();
    return build_client_record(run_).to_json();
  }

  const ClientConfig& r_;
  tls::SslCtxPtr tls_;  // --tls: the workers inherit it
  ClientRun run_;
  WorkerPool pool_;
  Supervisor* sup_ = nullptr;
  std::vector<ClientCounters> latest_;
  std::vector<ClientHistograms> histograms_;
  std::optional<RunPhases> phases_;  // from the ramp's start
  CpuWindow ramp_, hold_, live_;
  uint64_t live_pings_start_ = 0;
  SeriesSampler series_;
  std::optional<TargetReading> target_before_;  // --target-pid: the server before the ramp
  bool ramp_stopped_ = false;                   // --find-limit: the workers were told to stop connecting
  uint32_t slo_over_s_ = 0;                     // --slo-p99: seconds in a row over it
  mutable bool status_warned_ = false;
  ServerWatch server_;
};

}  // namespace

ojson run_client_once(const ClientConfig& config) { return ClientRunner(config).run(); }

}  // namespace c1m::net
