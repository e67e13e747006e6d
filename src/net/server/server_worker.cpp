#include "net/server/server_worker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "core/host/host.hpp"
#include "core/host/procfs.hpp"
#include "core/plan/counters.hpp"
#include "net/base/event_loop.hpp"
#include "net/base/hold_set.hpp"
#include "net/base/sockaddr.hpp"
#include "net/base/worker_events.hpp"
#include "net/base/worker_pool.hpp"
#include "net/server/server_tls.hpp"
#include "net/tls/tls_memory.hpp"

namespace c1m::net {

int open_listener(const Endpoint& at, int backlog, bool reuse_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a = sockaddr_of(at);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, backlog) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

bool steer_by_source_port_block(int listener_fd, uint32_t slots) {
  if (slots == 0) return false;
  // Classic BPF, which needs no privilege. The packet's data starts past the TCP header here, so the
  // program reads the SYN's source port relative to the IP header (whose length it reads too).
  sock_filter code[] = {
      {BPF_LDX | BPF_B | BPF_MSH, 0, 0, static_cast<uint32_t>(SKF_NET_OFF)},  // x = IP header length
      {BPF_LD | BPF_H | BPF_IND, 0, 0, static_cast<uint32_t>(SKF_NET_OFF)},   // a = TCP source port
      {BPF_ALU | BPF_RSH | BPF_K, 0, 0, kSourcePortBlockBits},                // a = port block
      {BPF_ALU | BPF_MOD | BPF_K, 0, 0, slots},
      {BPF_RET | BPF_A, 0, 0, 0},
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return setsockopt(listener_fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) == 0;
}

namespace {

constexpr int kAcceptBatch = 512;  // accepts per wake-up, so one busy port cannot starve the others
// Counters go to the parent twice a second, and only when they changed: an idle hold wakes nothing.
constexpr timeval kReportEvery{0, 500000};

class ServerWorker {
 public:
  explicit ServerWorker(const ServerWorkerConfig& c) : cfg_(c) {}

  int run() {
    base_ = make_event_base();
    if (!base_) return fatal("cannot create an event base");
    held_ = std::make_unique<HoldSet>(base_.get(), &ServerWorker::on_held_ready, this);
    if (!held_->ok()) return fatal("cannot create the hold set");
    reserve_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!open_listeners()) return 1;
    counters_.rss_baseline_bytes = procfs::self_anon_rss_bytes();
    if (cfg_.tls != nullptr) {
      tls_ = std::make_unique<ServerTls>(cfg_.tls, cfg_.tls_keeps_library, cfg_.capacity + kDrainSpare + kFdSlack,
                                         counters_.tls);
      tls_meter_.emplace();
    }
    // Counted, not assumed: everything open now but the listeners (control, epoll, reserve, stdio,
    // whatever was inherited). Connections and listeners are then counted as they open and close.
    uint64_t open_now = procfs::self_open_fds();
    own_fds_ = open_now > counters_.listeners ? open_now - counters_.listeners : 0;

    WorkerEvents lifecycle(
        base_.get(), cfg_.control_fd, kReportEvery,
        [](void* self) { static_cast<ServerWorker*>(self)->send_counters(false); }, this);

    event_base_dispatch(base_.get());

    close_listeners();
    send_counters(true);
    return 0;
  }

  // Tells the parent why this worker stops (it prints the reason) and returns the exit status.
  int fatal(const char* what) {
    std::fprintf(stderr, "c1m server worker %u: %s: %s\n", cfg_.index, what, std::strerror(errno));
    send_message(cfg_.control_fd, MessageType::fatal, cfg_.index, what, std::strlen(what));
    return 1;
  }

 private:
  // Past capacity, a full worker's last drain may take this many more: worker_capacity() leaves 100
  // fds below the limit, of which the worker's own (listeners, control, epoll, reserve) use the rest.
  static constexpr uint64_t kDrainSpare = 48;
  // A full worker listens again only once this many connections have left, so it does not flap.
  static constexpr uint64_t kRelistenMargin = 64;
  static constexpr uint64_t kFdSlack = 128;  // the worker's own fds below its connections'

  bool open_listeners() {
    std::vector<int> given;
    given.swap(cfg_.first_listener_fds);  // only the first time; a relisten opens new ones
    for (size_t k = 0; k < cfg_.listen.size(); ++k) {
      const Endpoint& e = cfg_.listen[k];
      int fd = k < given.size() ? given[k] : open_listener(e, cfg_.backlog, true);
      if (fd < 0) {
        std::string what = "cannot listen on " + e.str();
        fatal(what.c_str());
        return false;
      }
      // The program belongs to the whole group; attaching it again (a relisten) replaces it in place.
      if (cfg_.spread_by_port_block && !steer_by_source_port_block(fd, cfg_.workers)) ++counters_.spread_fallbacks;
      listeners_.push_back(
          new_event(base_.get(), fd, EV_READ | EV_PERSIST, &ServerWorker::on_accept, this, "a listener"));
      add_event(listeners_.back().get(), nullptr, "a listener");
    }
    counters_.listeners = listeners_.size();
    return true;
  }

  void close_listeners() {
    for (auto& ev : listeners_) {
      int fd = event_get_fd(ev.get());
      ev.reset();
      ::close(fd);
    }
    listeners_.clear();
    counters_.listeners = 0;
  }

  static void on_accept(evutil_socket_t lfd, short, void* arg) { static_cast<ServerWorker*>(arg)->accept_batch(lfd); }

  void accept_batch(int lfd) {
    // Never past capacity: the fds above it are the worker's reserve, not spare room.
    uint64_t room = cfg_.capacity > counters_.connections ? cfg_.capacity - counters_.connections : 0;
    int budget = static_cast<int>(std::min<uint64_t>(kAcceptBatch, room));
    for (int i = 0; i < budget; ++i) {
      int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE)
          shed_one(lfd);
        else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
          counters_.errors.add(classify_errno(errno));
        if (errno != ECONNABORTED && errno != EINTR) break;
        continue;
      }
      hold(fd);
    }
    // Full: stop listening so the kernel sends new connections to workers that have room. Closing a
    // listener hands its queue to a sibling when net.ipv4.tcp_migrate_req=1 and resets it otherwise,
    // so first take a little of what waits, into the fds kept spare below the open-files limit.
    if (counters_.connections >= cfg_.capacity && !listeners_.empty()) {
      for (auto& ev : listeners_)
        for (int fd; counters_.connections < cfg_.capacity + kDrainSpare &&
                     (fd = accept4(event_get_fd(ev.get()), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;)
          hold(fd);
      close_listeners();
      ++counters_.accept_paused;
    }
  }

  // Out of file descriptors: free the reserve, take the waiting connection and close it at once, so
  // the client learns now instead of timing out and the level-triggered listener does not spin.
  void shed_one(int lfd) {
    counters_.errors.add(ErrorClass::emfile_enfile);
    ++counters_.accept_paused;
    reserve_fd_.reset();
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) ::close(fd);
    reserve_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  }

  void hold(int fd) {
    ++counters_.accepted_total;
    // A new connection acknowledges its first data at once (quick-ACK mode): a ping's first round
    // trip was four segments, an ACK then the echo, against three once the echo carries the ACK. A
    // live hold's first interval sent 133k segments/s at 1M against 100k/s after it.
    int zero = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
    // A TLS connection holding keys only leaves a part record in the kernel: edge-triggered, it wakes
    // the worker when more comes, not until then.
    uint32_t events = tls_ && tls_->holds_keys_only() ? HoldSet::kHoldEvents | EPOLLET : HoldSet::kHoldEvents;
    if (!held_->add(fd, events)) {  // fs.epoll.max_user_watches, or memory
      counters_.errors.add(classify_errno(errno));
      ::close(fd);
      return;
    }
    if (tls_ && !tls_->accept(fd)) {
      counters_.errors.add(ErrorClass::other);
      ::close(fd);
      return;
    }
    ++counters_.connections;
    if (counters_.connections > counters_.connections_peak) counters_.connections_peak = counters_.connections;
  }

  void drop(int fd) {
    if (tls_) tls_->forget(fd);
    ::close(fd);
    --counters_.connections;
    if (listeners_.empty() && counters_.connections + kRelistenMargin < cfg_.capacity) open_listeners();
  }

  static void on_held_ready(void* self, int fd, uint32_t) { static_cast<ServerWorker*>(self)->serve(fd); }

  // Echo whatever arrives. The frame is fixed-size and opaque: nothing in it is trusted or parsed.
  // A peer that does not read its echoes fills its socket buffer and is dropped, never buffered for.
  void serve(int fd) {
    if (tls_) return serve_tls(fd);
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      if (!cfg_.echo) return;
      if (!echoing_) start_echoing();
      ssize_t w = ::send(fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w == n) {
        counters_.echoed_bytes += static_cast<uint64_t>(n);
        return;
      }
      counters_.errors.add(w < 0 ? classify_errno(errno) : ErrorClass::other);
    } else if (n == 0) {
      ++counters_.closed_by_peer;
    } else if (errno == EAGAIN || errno == EINTR) {
      return;
    } else if (errno == ECONNRESET) {
      ++counters_.reset_by_peer;
    } else {
      counters_.errors.add(classify_errno(errno));
    }
    drop(fd);
  }

  // The same over TLS: the library reads the records, finishes the handshake, seals the echo.
  void serve_tls(int fd) {
    ServerTls::Served r = tls_->serve(fd, cfg_.echo);
    counters_.echoed_bytes += r.echoed;
    if (r.echoed > 0 && !echoing_) start_echoing();
    switch (r.kind) {
      case ServerTls::Served::open:
        return;
      case ServerTls::Served::closed:
        ++counters_.closed_by_peer;
        break;
      case ServerTls::Served::reset:
        ++counters_.reset_by_peer;
        break;
      case ServerTls::Served::failed:
        counters_.errors.add(r.why);
        break;
    }
    drop(fd);
  }

  // The first ping of a live hold: from now on this worker's wake-ups are in a ping's round trip.
  void start_echoing() {
    echoing_ = true;
    if (std::string why = set_sched_policy(cfg_.live_sched); !why.empty())
      std::fprintf(stderr, "c1m server worker %u: warning: %s\n", cfg_.index, why.c_str());
  }

  void send_counters(bool final) {
    if (!final && std::memcmp(&counters_, &last_sent_, sizeof counters_) == 0) return;
    // Handshakes stopped since the last report: their heap goes back to the system, so what stays
    // resident is what the held connections keep (a client worker does so once its ramp settles).
    if (tls_ && counters_.tls.handshakes == last_sent_.tls.handshakes && counters_.tls.handshakes > trimmed_at_) {
      malloc_trim(0);
      trimmed_at_ = counters_.tls.handshakes;
    }
    counters_.rss_bytes = procfs::self_anon_rss_bytes();
    if (counters_.connections == counters_.connections_peak) counters_.rss_at_peak_bytes = counters_.rss_bytes;
    counters_.open_fds = counters_.connections + counters_.listeners + own_fds_;
    if (tls_meter_) tls_meter_->read_into(counters_.tls, counters_.connections == counters_.connections_peak);
    send_message(cfg_.control_fd, MessageType::server_counters, cfg_.index, &counters_, sizeof counters_);
    last_sent_ = counters_;
    if (final) send_message(cfg_.control_fd, MessageType::final_done, cfg_.index, nullptr, 0);
  }

  ServerWorkerConfig cfg_;
  EventBasePtr base_;
  std::unique_ptr<HoldSet> held_;
  std::vector<EventPtr> listeners_;
  UniqueFd reserve_fd_;
  uint64_t own_fds_ = 0;            // open at start, listeners apart: see run()
  bool echoing_ = false;            // has echoed a ping: runs under the live policy
  std::unique_ptr<ServerTls> tls_;  // --tls
  std::optional<tls::LibraryMeter> tls_meter_;
  uint64_t trimmed_at_ = 0;  // handshakes done when the heap was last given back
  ServerCounters counters_;
  ServerCounters last_sent_;
};

}  // namespace

int run_server_worker(const ServerWorkerConfig& config) {
  ServerWorker worker(config);
  try {
    return worker.run();
  } catch (const std::exception& e) {  // an event it could not set up
    return worker.fatal(e.what());
  }
}

}  // namespace c1m::net
