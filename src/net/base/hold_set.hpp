// Where held connections live. An idle connection needs nothing from user space until its peer
// speaks or leaves, so rather than a 128-byte libevent event (and libevent's per-fd map entry) each,
// held fds sit in a kernel epoll set of their own, and libevent watches that set's fd as one event.
// User memory per held connection: none here; the kernel's epoll entry is counted in Slab.
#pragma once
#include <event2/event.h>

#include <cstdint>

#include "net/base/event_loop.hpp"

namespace c1m::net {

class HoldSet {
 public:
  // Called for each ready fd with its epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...).
  using OnReady = void (*)(void* owner, int fd, uint32_t events);

  HoldSet(event_base* base, OnReady on_ready, void* owner);
  bool ok() const { return static_cast<bool>(epoll_fd_) && static_cast<bool>(watch_); }
  // Starts watching fd (default: input, peer hang-up; errors always). False, errno set, if refused.
  bool add(int fd, uint32_t events = kHoldEvents);
  static constexpr uint32_t kHoldEvents = 0x001 | 0x2000;  // EPOLLIN | EPOLLRDHUP
  // A connecting socket, watched once for its whole life: EPOLLOUT | kHoldEvents | EPOLLET. Edge-
  // triggered, so the connect's EPOLLOUT is reported once and later reports are arrivals, with no
  // EPOLL_CTL_MOD to stop watching output; the owner reads all that a report announces.
  static constexpr uint32_t kConnectEvents = 0x004 | kHoldEvents | (1u << 31);
  // Closing a held fd removes it from the set; nothing else is needed.

 private:
  static void on_set_ready(evutil_socket_t, short, void* self);

  UniqueFd epoll_fd_;
  EventPtr watch_;
  OnReady on_ready_;
  void* owner_;
};

}  // namespace c1m::net
