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

// A callback every `interval`, for as long as the Timer lives.
class Timer {
 public:
  Timer(event_base* base, std::function<void()> fn) : fn_(std::move(fn)), ev_(event_new(base, -1, EV_PERSIST, &Timer::fire, this)) {
    if (!ev_) throw std::runtime_error("event_new failed for a timer");
  }
  void every(timeval interval) {
    if (event_add(ev_.get(), &interval) != 0) throw std::runtime_error("event_add failed for a timer");
  }

 private:
  static void fire(evutil_socket_t, short, void* self) { static_cast<Timer*>(self)->fn_(); }
  std::function<void()> fn_;
  EventPtr ev_;
};

// SIGINT and SIGTERM as events of the loop, for as long as the handler lives.
class SignalHandler {
 public:
  SignalHandler(event_base* base, std::function<void(int)> fn) : fn_(std::move(fn)) {
    for (int sig : {SIGINT, SIGTERM}) {
      events_.emplace_back(evsignal_new(base, sig, &SignalHandler::fire, this));
      if (!events_.back() || event_add(events_.back().get(), nullptr) != 0) throw std::runtime_error("cannot watch a signal");
    }
  }

 private:
  static void fire(evutil_socket_t sig, short, void* self) { static_cast<SignalHandler*>(self)->fn_(static_cast<int>(sig)); }
  std::function<void(int)> fn_;
  std::vector<EventPtr> events_;
};

}  // namespace c1m::net
