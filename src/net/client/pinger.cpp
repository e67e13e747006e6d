#include "net/client/pinger.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/host/clock.hpp"
#include "core/proto/echo.hpp"

namespace c1m::net {

void Pinger::ping_some(int64_t elapsed_ns) {
  double share = static_cast<double>(elapsed_ns) / static_cast<double>(interval_ns_);
  budget_ = std::min(budget_ + share * static_cast<double>(slots_), static_cast<double>(slots_));
  while (budget_ >= 1.0) {
    budget_ -= 1.0;
    int fd = static_cast<int>(cursor_);
    cursor_ = (cursor_ + 1) % slots_;
    Conn& c = conns_[fd];
    if (c.state != ConnState::open) continue;
    if (c.t_ns != 0) {  // its last ping is not back an interval later: counted, not sent again
      ++counters_.pings_late;
      continue;
    }
    unsigned char frame[proto::kEchoFrameSize];
    proto::echo_frame(worker_, static_cast<uint32_t>(fd), ++c.ping_seq, frame);
    c.t_ns = monotonic_ns();
    ssize_t w = ::send(fd, frame, sizeof frame, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w != static_cast<ssize_t>(sizeof frame)) {
      close_open(fd, w < 0 ? classify_errno(errno) : ErrorClass::other);
      continue;
    }
    ++counters_.pings_sent;
  }
}

void Pinger::readable(int fd, uint32_t events) {
  bool hung_up = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  do {
    if (!read_some(fd, events)) return;
  } while (hung_up);
}

// One recv takes all an echo may be, more being a bad echo.
bool Pinger::read_some(int fd, uint32_t events) {
  unsigned char buf[256];
  ssize_t n;
  do n = ::recv(fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n == 0)
      close_open(fd, (events & EPOLLERR) ? ErrorClass::econnreset : ErrorClass::peer_closed);
    else if (errno != EAGAIN)
      close_open(fd, classify_errno(errno));
    return false;
  }
  Conn& c = conns_[fd];
  // Only our own frame may come back, and only while a ping is outstanding.
  int matched = c.t_ns == 0 ? -1
                            : proto::echo_match(worker_, static_cast<uint32_t>(fd), c.ping_seq, c.echo_received, buf,
                                                static_cast<size_t>(n));
  if (matched < 0) {
    close_open(fd, ErrorClass::bad_echo);
    return false;
  }
  c.echo_received = static_cast<uint8_t>(matched);
  if (c.echo_received == proto::kEchoFrameSize) {
    auto rtt_us = static_cast<uint64_t>((monotonic_ns() - c.t_ns) / 1000);
    histograms_.rtt_us.record(rtt_us);
    counters_.rtt_us.record(rtt_us);
    ++counters_.pongs_received;
    c.answered = 1;
    c.t_ns = 0;
    c.echo_received = 0;
  }
  return true;
}

void Pinger::close_open(int fd, ErrorClass why) {
  ::close(fd);  // also leaves the hold set
  conns_[fd].state = ConnState::free;
  --counters_.established;
  counters_.errors.add(why);
}

void Pinger::count_unanswered() {
  if (interval_ns_ <= 0) return;
  int64_t now = monotonic_ns();
  for (size_t fd = 0; fd < slots_; ++fd) {
    const Conn& c = conns_[fd];
    if (c.state != ConnState::open || c.ping_seq == 0) continue;
    bool recent = c.t_ns != 0 && now - c.t_ns < 1'000'000'000;
    if (!c.answered && !recent) counters_.errors.add(ErrorClass::no_answer);
    if (c.t_ns != 0 && now - c.t_ns >= interval_ns_) ++counters_.pings_late;
  }
}

}  // namespace c1m::net
