// RAII around the libevent objects and file descriptors the workers use.
#pragma once
#include <event2/event.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace c1m::net {

struct EventBaseFree {
  void operator()(event_base* b) const { event_base_free(b); }
};
using EventBasePtr = std::unique_ptr<event_base, EventBaseFree>;

struct EventFree {
  void operator()(event* e) const { event_free(e); }
};
using EventPtr = std::unique_ptr<event, EventFree>;

// A lock-free, epoll-backed base: every worker is one single-threaded process.
inline EventBasePtr make_event_base() {
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  event_config_avoid_method(cfg, "select");
  event_config_avoid_method(cfg, "poll");
  EventBasePtr base(event_base_new_with_config(cfg));
  event_config_free(cfg);
  return base;
}

// event_new (evsignal_new for EV_SIGNAL) and event_add, checked: a process that cannot watch what it
// must stops with why (std::runtime_error naming what the event was for), never runs on without it.
EventPtr new_event(event_base* base, evutil_socket_t fd, short what, event_callback_fn cb, void* arg,
                   const char* what_for);
void add_event(event* ev, const timeval* timeout, const char* what_for);

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// The loop a parent process runs (the client's and server's supervisors, the collector): timers,
// signals and readable descriptors as callbacks, every libevent allocation checked (a failure
// throws, never a null event used later). Callbacks live as long as the loop.
class EventLoop {
 public:
  EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  event_base* base() const { return base_.get(); }

  // fn every `period`, from now until the loop ends.
  void every(timeval period, std::function<void()> fn);
  // fn once, `delay` from now.
  void after(timeval delay, std::function<void()> fn);
  // fn(signal) on SIGINT or SIGTERM.
  void on_signal(std::function<void(int)> fn);
  // fn each time `fd` is readable; returns a handle for stop_watching.
  size_t on_readable(int fd, std::function<void()> fn);
  void stop_watching(size_t handle);

  // Runs until break_loop() or until nothing is left to wait for.
  void run();
  // Ends run() once the current callback returns.
  void break_loop();

 private:
  struct Callback {
    std::function<void()> fn;
    std::function<void(int)> signal_fn;
    EventPtr ev;
  };
  Callback& add(std::unique_ptr<Callback> cb, int fd, short what, const timeval* when, const char* what_for);
  static void fire(evutil_socket_t fd, short, void* arg);

  EventBasePtr base_;
  std::vector<std::unique_ptr<Callback>> callbacks_;  // stable addresses: libevent holds them
};

}  // namespace c1m::net
