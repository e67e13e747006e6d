#include "net/client/client_worker.hpp"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <type_traits>

#include "core/host/clock.hpp"
#include "core/host/host.hpp"
#include "core/host/procfs.hpp"
#include "core/plan/counters.hpp"
#include "core/plan/tick_grid.hpp"
#include "net/base/event_loop.hpp"
#include "net/base/hold_set.hpp"
#include "net/base/worker_events.hpp"
#include "net/base/worker_pool.hpp"
#include "net/client/client_conn.hpp"
#include "net/client/connect_socket.hpp"
#include "net/client/pinger.hpp"
#include "net/tls/tls_memory.hpp"

namespace c1m::net {
namespace {

// Counters go to the parent twice a second, and only when they changed: an idle hold wakes nothing.
constexpr timeval kReportEvery{0, 500000};
constexpr int64_t kRateTickNs = 5'000'000;  // connect-rate pacing granularity
// Pings go out in a burst a worker every 20 ms (a tenth of the interval when that is shorter). Each
// burst wakes the worker and the server workers it reaches; at 1M and 33k pings/s natively a 5 ms tick
// cost 0.620 client and 0.548 server cores, 20 ms 0.492 and 0.455 (one run each, 12:53 UTC 2026-11-25).
constexpr int64_t kPingTickNs = 20'000'000;
constexpr timeval kTimeoutScanEvery{0, 50000};  // connect-timeout resolution, while connects are in flight

timeval to_timeval(int64_t ns) {
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<suseconds_t>(ns % 1'000'000'000 / 1000)};
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// A connect in flight, in start order. Every connect has the same timeout, so start order is also
// expiry order and the oldest entry is the only one to check.
struct PendingConnect {
  int fd;
  int64_t started_ns;
};

class ClientWorker {
 public:
  explicit ClientWorker(const ClientWorkerConfig& c)
      : cfg_(c),
        slots_(static_cast<size_t>(c.quota + kFdSlack)),
        conns_(static_cast<Conn*>(std::calloc(slots_, sizeof(Conn)))) {}

  int run() {
    base_ = make_event_base();
    if (!base_ || !conns_) {
      std::fprintf(stderr, "c1m client worker %u: out of memory for %zu connection slots\n", cfg_.index, slots_);
      return 1;
    }
    // Connecting and open sockets alike live in the hold set; libevent watches the set as one event.
    held_ = std::make_unique<HoldSet>(base_.get(), &ClientWorker::on_ready, this);
    if (!held_->ok()) return 1;
    counters_.quota = cfg_.quota;
    counters_.rss_baseline_bytes = procfs::self_anon_rss_bytes();
    if (cfg_.tls != nullptr) {
      tls_ = std::make_unique<ClientTls>(cfg_.tls, *cfg_.tls_settings, slots_, counters_.tls);
      if (!tls_->ok()) return 1;
      pinger_.use_tls(tls_.get());
      tls_meter_.emplace();
    }
    if (cfg_.quota == 0) counters_.quota_reached_ns = counters_.settled_ns = monotonic_ns();

    WorkerEvents lifecycle(
        base_.get(), cfg_.control_fd, kReportEvery,
        [](void* self) { static_cast<ClientWorker*>(self)->send_report(false); }, this);
    timeout_scan_ =
        new_event(base_.get(), -1, EV_PERSIST, &ClientWorker::on_timeout_scan, this, "the connect-timeout scan");
    if (cfg_.ping_interval_ns > 0 && !cfg_.ping_after_signal) start_pinging();
    if (cfg_.ping_after_signal) {
      go_live_ = new_event(base_.get(), SIGUSR1, EV_SIGNAL | EV_PERSIST, &ClientWorker::on_go_live, this, "SIGUSR1");
      add_event(go_live_.get(), nullptr, "SIGUSR1");
    }
    if (cfg_.stop_on_signal) {
      stop_ramp_ =
          new_event(base_.get(), SIGUSR2, EV_SIGNAL | EV_PERSIST, &ClientWorker::on_stop_ramp, this, "SIGUSR2");
      add_event(stop_ramp_.get(), nullptr, "SIGUSR2");
    }
    if (cfg_.rate_per_s > 0 || cfg_.ping_interval_ns > 0)
      tick_ = new_event(base_.get(), -1, 0, &ClientWorker::on_tick, this, "the rate and ping tick");
    last_tick_ns_ = monotonic_ns();
    arm_tick();
    tokens_ = cfg_.rate_per_s > 0 ? 1.0 : 0.0;
    launch();

    event_base_dispatch(base_.get());
    pinger_.count_unanswered();

    // Arm the resets before the final report: once the parent has that report it may kill us, and
    // the kernel then closes every socket with RST only if SO_LINGER is already set.
    reset_all();
    send_report(true);
    return 0;
  }

 private:
  static constexpr uint64_t kFdSlack = 64;  // the worker's own fds below its connections

  // Opens connections while the quota, the in-flight bound and (if set) the rate allow.
  void launch() {
    bool limited = cfg_.rate_per_s > 0;
    while (counters_.attempted < cfg_.quota && counters_.in_flight < cfg_.max_in_flight &&
           (!limited || tokens_ >= 1.0)) {
      if (limited) tokens_ -= 1.0;
      open_one(cfg_.first + counters_.attempted);
      ++counters_.attempted;
    }
    if (counters_.in_flight > 0 && !event_pending(timeout_scan_.get(), EV_TIMEOUT, nullptr))
      add_event(timeout_scan_.get(), &kTimeoutScanEvery, "the connect-timeout scan");
    check_settled();
  }

  void open_one(uint64_t index) {
    auto [source, target_index] = cfg_.plan.pair_of(index);
    const Ipv4* src = source >= 0 ? &cfg_.plan.sources[static_cast<size_t>(source)] : nullptr;
    const Endpoint& target = cfg_.plan.targets[target_index];
    uint16_t port = cfg_.plan.source_port_of(index);
    int fd = -1;
    // A port that is the target itself counts as taken: connected to itself, it would pass for a server.
    auto connect_from = [&](uint16_t p) {
      return cfg_.plan.is_target_itself(source, target_index, p) ? EADDRINUSE
                                                                 : start_connect(src, p, target, slots_, fd);
    };
    int err = connect_from(port);
    if (port != 0 && (err == EADDRINUSE || err == EADDRNOTAVAIL)) {
      // The planned port is taken for this target (another program, or a TIME_WAIT): a spare port of
      // this worker's, one no connection is planned on, and the kernel's pick once those are gone.
      ++counters_.source_port_fallbacks;
      do {
        port = cfg_.plan.spare_port(cfg_.index, cfg_.workers, spares_used_++);
        err = connect_from(port);
      } while (port != 0 && (err == EADDRINUSE || err == EADDRNOTAVAIL));
    }
    if (err == 0 && !held_->add(fd, HoldSet::kConnectEvents)) {
      err = errno;
      ::close(fd);
    }
    if (err != 0) {
      counters_.errors.add(classify_errno(err));
      return;
    }
    int64_t t = monotonic_ns();
    conns_[fd] = Conn{t, 0, ConnState::connecting, 0, {}};
    pending_.push_back({fd, t});
    ++counters_.in_flight;
  }

  static void on_ready(void* self, int fd, uint32_t events) {
    auto* w = static_cast<ClientWorker*>(self);
    if (w->conns_[fd].state == ConnState::connecting)
      w->connect_done(fd, events);
    else if (w->conns_[fd].state == ConnState::handshaking)
      w->handshake_step(fd, w->tls_->advance(fd));
    else if (w->conns_[fd].state == ConnState::open && (events & ~static_cast<uint32_t>(EPOLLOUT)) != 0)
      w->pinger_.readable(fd, events);
  }

  void connect_done(int fd, uint32_t events) {
    Conn& c = conns_[fd];
    int err = 0;
    // A failed connect shows as EPOLLERR or EPOLLHUP, so only those need SO_ERROR's reason: one
    // syscall a connection less in a ramp (the floor probe asks every connection).
    if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
      socklen_t len = sizeof err;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err == 0) err = ECONNRESET;  // hung up with its reason already read
    }
    if (err != 0) {
      --counters_.in_flight;
      c.state = ConnState::free;
      ::close(fd);
      counters_.errors.add(classify_errno(err));
    } else {
      histograms_.connect_us.record(static_cast<uint64_t>((monotonic_ns() - c.t_ns) / 1000));
      if (tls_) {  // in flight (and under the connect timeout) until its handshake ends too
        c.state = ConnState::handshaking;
        return handshake_step(fd, tls_->start(fd));
      }
      --counters_.in_flight;
      opened(fd, events);
    }
    launch();
  }

  void handshake_step(int fd, ClientTls::Step step) {
    if (step.kind == ClientTls::Step::more) return;
    --counters_.in_flight;
    if (step.kind == ClientTls::Step::failed) {
      conns_[fd].state = ConnState::free;
      ::close(fd);
      counters_.errors.add(step.why);
    } else {
      histograms_.tls_handshake_us.record(static_cast<uint64_t>(step.took_ns / 1000));
      // What came after the server's last handshake record (session tickets, an early reply) was in
      // the report the handshake read; edge-triggered, it is not reported again: read it now.
      opened(fd, EPOLLIN);
    }
    launch();
  }

  // A connection is up (and, with --tls, its handshake done): counted, greeted, read.
  void opened(int fd, uint32_t events) {
    Conn& c = conns_[fd];
    int64_t t = monotonic_ns();
    c = Conn{0, 0, ConnState::open, 0, {}};
    ++counters_.connected_total;
    ++counters_.established;
    if (counters_.established > counters_.established_peak) counters_.established_peak = counters_.established;
    if (counters_.established == cfg_.quota && counters_.quota_reached_ns < 0) counters_.quota_reached_ns = t;
    pinger_.greet(fd, cfg_.nonce);  // what the protocol says first, if anything (MQTT's CONNECT)
    // Edge-triggered: what arrived with the connect (a peer's bytes, its hang-up) is not reported again.
    if (c.state == ConnState::open && (events & (EPOLLIN | EPOLLRDHUP)) != 0) pinger_.readable(fd, events);
  }

  // Drops finished connects from the front of the queue and times out the expired ones.
  static void on_timeout_scan(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<ClientWorker*>(arg);
    int64_t now = monotonic_ns();
    auto& q = self->pending_;
    while (!q.empty()) {
      const PendingConnect p = q.front();
      Conn& c = self->conns_[p.fd];
      bool still_this_connect =
          (c.state == ConnState::connecting || c.state == ConnState::handshaking) && c.t_ns == p.started_ns;
      if (still_this_connect && now - p.started_ns < self->cfg_.connect_timeout_ns) break;
      q.pop_front();
      if (still_this_connect) {
        --self->counters_.in_flight;
        bool handshaking = c.state == ConnState::handshaking;
        if (handshaking) self->tls_->stalled(p.fd);
        c.state = ConnState::free;
        ::close(p.fd);
        self->counters_.errors.add(handshaking ? ErrorClass::tls_stalled : ErrorClass::etimedout);
      }
    }
    if (self->counters_.in_flight == 0) event_del(self->timeout_scan_.get());
    self->launch();
  }

  void check_settled() {
    if (counters_.settled_ns < 0 && counters_.attempted == cfg_.quota && counters_.in_flight == 0) {
      counters_.settled_ns = monotonic_ns();
      // The handshakes' heap goes back to the system: what stays resident is what the held connections
      // keep (results.tls_library_peak_bytes_client says what the handshakes took meanwhile).
      if (tls_) malloc_trim(0);
    }
  }

  static void on_tick(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<ClientWorker*>(arg);
    int64_t t = monotonic_ns();
    int64_t elapsed = t - self->last_tick_ns_;
    self->last_tick_ns_ = t;
    if (self->cfg_.rate_per_s > 0) {
      // Burst at most one tick's worth plus one, so a stalled loop does not fire a flood afterwards.
      double cap = self->cfg_.rate_per_s * kRateTickNs / 1e9 + 1.0;
      self->tokens_ = std::min(cap, self->tokens_ + self->cfg_.rate_per_s * static_cast<double>(elapsed) / 1e9);
      self->launch();
    }
    if (self->pinging_ && self->counters_.established > 0) self->pinger_.ping_some(elapsed);
    self->arm_tick();
  }

  // The tick runs only while it has work: pacing a rate-limited ramp, then pinging. An idle hold
  // wakes nothing (a 5 ms tick there cost 0.11 client cores at 1M).
  int64_t tick_period_ns() const {
    if (cfg_.rate_per_s > 0 && counters_.attempted < cfg_.quota) return kRateTickNs;
    if (pinging_) return std::max<int64_t>(1'000'000, std::min(kPingTickNs, cfg_.ping_interval_ns / 10));
    return 0;
  }

  // Each worker ticks on a grid of its own phase (core/tick_grid): with one shared phase every
  // worker's burst of pings left in the same instant and woke every server worker at once.
  void arm_tick() {
    if (!tick_) return;
    int64_t period = tick_period_ns();
    int64_t now = monotonic_ns();
    if (period != tick_period_ns_) {
      tick_period_ns_ = period;
      tick_grid_ns_ = now + static_cast<int64_t>(tick_phase(cfg_.index) * static_cast<double>(period));
    }
    if (period == 0) {
      event_del(tick_.get());
      return;
    }
    timeval tv = to_timeval(ns_to_next_tick(now, tick_grid_ns_, period));
    add_event(tick_.get(), &tv, "the rate and ping tick");
  }

  // From the first ping on, a ping's round trip is what is measured, and a worker woken by an echo
  // that waits behind others adds to it: the live policy (normal by default) lets it preempt.
  void start_pinging() {
    pinging_ = true;
    if (std::string why = set_sched_policy(cfg_.live_sched); !why.empty())
      std::fprintf(stderr, "c1m client worker %u: warning: %s\n", cfg_.index, why.c_str());
  }

  // --find-limit found the limit: no more connects; those in flight end (or time out), and the worker
  // settles with what it holds.
  static void on_stop_ramp(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<ClientWorker*>(arg);
    self->cfg_.quota = std::min(self->cfg_.quota, self->counters_.attempted);
    self->check_settled();
  }

  // The live hold begins: every connection is pinged once an interval from now on, starting afresh.
  static void on_go_live(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<ClientWorker*>(arg);
    if (self->pinging_) return;
    self->start_pinging();
    self->pinger_.restart();
    self->last_tick_ns_ = monotonic_ns();
    self->arm_tick();
  }

  void send_report(bool final) {
    if (!final && std::memcmp(&counters_, &last_sent_, sizeof counters_) == 0) return;
    counters_.rss_bytes = procfs::self_anon_rss_bytes();
    bool at_peak = counters_.established == counters_.established_peak;
    if (at_peak) counters_.rss_at_peak_bytes = counters_.rss_bytes;
    if (tls_meter_) tls_meter_->read_into(counters_.tls, at_peak);
    send_message(cfg_.control_fd, MessageType::client_counters, cfg_.index, &counters_, sizeof counters_);
    last_sent_ = counters_;
    if (!final) return;
    send_message(cfg_.control_fd, MessageType::client_histograms, cfg_.index, &histograms_, sizeof histograms_);
    send_message(cfg_.control_fd, MessageType::final_done, cfg_.index, nullptr, 0);
  }

  // Every connection ends with RST when the worker exits (connect_socket's reset_on_close).
  void reset_all() {
    for (size_t fd = 0; fd < slots_; ++fd)
      if (conns_[fd].state != ConnState::free) reset_on_close(static_cast<int>(fd));
  }

  ClientWorkerConfig cfg_;
  size_t slots_;
  std::unique_ptr<Conn[], FreeDeleter> conns_;
  std::deque<PendingConnect> pending_;
  EventBasePtr base_;
  std::unique_ptr<HoldSet> held_;
  std::unique_ptr<ClientTls> tls_;  // --tls
  std::optional<tls::LibraryMeter> tls_meter_;
  EventPtr timeout_scan_;
  EventPtr tick_;
  EventPtr go_live_;
  EventPtr stop_ramp_;
  bool pinging_ = false;
  int64_t last_tick_ns_ = 0;
  int64_t tick_period_ns_ = 0;  // 0: the tick is not armed
  int64_t tick_grid_ns_ = 0;    // a point of this worker's tick grid
  double tokens_ = 0;
  uint64_t spares_used_ = 0;  // spare ports tried (ConnectPlan::spare_port)
  ClientCounters counters_;
  ClientCounters last_sent_;
  ClientHistograms histograms_;
  Pinger pinger_{cfg_.index, cfg_.ping_interval_ns, cfg_.protocol, cfg_.ping_text, conns_.get(), slots_, counters_,
                 histograms_};
};

}  // namespace

int run_client_worker(const ClientWorkerConfig& config) {
  try {
    return ClientWorker(config).run();
  } catch (const std::exception& e) {  // an event it could not set up: the parent counts a lost worker
    std::fprintf(stderr, "c1m client worker %u: %s\n", config.index, e.what());
    return 1;
  }
}

}  // namespace c1m::net
