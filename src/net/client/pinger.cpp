#include "net/client/pinger.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/host/clock.hpp"
#include "core/proto/reply.hpp"

namespace c1m::net {

void Pinger::greet(int fd, uint32_t nonce) {
  static const proto::PingText kNoText;
  unsigned char hello[proto::kMaxPingBytes];
  size_t len = proto::make_greeting(protocol_, text_ ? *text_ : kNoText, nonce, worker_, static_cast<uint32_t>(fd),
                                    hello, sizeof hello);
  if (len == 0) return;
  Conn& c = conns_[fd];
  c.ping_seq = 0;  // the greeting's answer is ping 0's
  c.t_ns = monotonic_ns();
  c.reply = {};
  send_all(fd, hello, len);
}

bool Pinger::send_all(int fd, const unsigned char* data, size_t len) {
  ssize_t w = tls_ ? tls_->keys().send(fd, data, len) : ::send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w == static_cast<ssize_t>(len)) return true;
  close_open(fd, w < 0 ? classify_errno(errno) : ErrorClass::other);
  return false;
}

void Pinger::ping_some(int64_t elapsed_ns) {
  if (!proto::pingable(protocol_)) return;
  static const proto::PingText kNoText;
  double share = static_cast<double>(elapsed_ns) / static_cast<double>(interval_ns_);
  budget_ = std::min(budget_ + share * static_cast<double>(slots_), static_cast<double>(slots_));
  unsigned char ping[proto::kMaxPingBytes];
  while (budget_ >= 1.0) {
    budget_ -= 1.0;
    int fd = static_cast<int>(cursor_);
    cursor_ = (cursor_ + 1) % slots_;
    Conn& c = conns_[fd];
    if (c.state != ConnState::open) continue;
    if (c.t_ns != 0 && c.ping_seq == 0) continue;  // its greeting is not answered yet: not a ping's lateness
    if (c.t_ns != 0) {  // its last ping is not back an interval later: counted, not sent again
      ++counters_.pings_late;
      continue;
    }
    size_t len = proto::make_ping(protocol_, text_ ? *text_ : kNoText, worker_, static_cast<uint32_t>(fd), ++c.ping_seq,
                                  ping, sizeof ping);
    c.t_ns = monotonic_ns();  // the reply state is at a reply's start: the last one's reading left it so
    if (send_all(fd, ping, len)) ++counters_.pings_sent;
  }
}

void Pinger::readable(int fd, uint32_t events) {
  bool hung_up = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  do {
    if (!read_some(fd, events)) return;
  } while (hung_up);
}

bool Pinger::read_some(int fd, uint32_t events) {
  if (tls_) return read_record(fd, events);
  unsigned char buf[4096];
  ssize_t n;
  do n = ::recv(fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n > 0) return take(fd, buf, static_cast<size_t>(n));
  if (n == 0)
    read_ended(fd, events);
  else if (errno != EAGAIN)
    close_open(fd, classify_errno(errno));
  return false;
}

// Every whole record waiting: its edge is reported once, and one read may not take them all.
bool Pinger::read_record(int fd, uint32_t events) {
  static unsigned char buf[tls::kMaxRecordSize];  // a worker is one thread; too big for its stack's taste
  for (;;) {
    tls::HeldKeys::Received r = tls_->keys().receive(fd, buf);
    switch (r.kind) {
      case tls::HeldKeys::Received::data:
        if (!take(fd, r.at, r.size)) return false;
        continue;
      case tls::HeldKeys::Received::nothing_yet:
        // A part record and the peer gone: the rest never comes.
        if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) read_ended(fd, events);
        return false;
      case tls::HeldKeys::Received::closed:
        read_ended(fd, events);
        return false;
      case tls::HeldKeys::Received::failed:
        close_open(fd, r.why);
        return false;
    }
  }
}

void Pinger::read_ended(int fd, uint32_t events) {
  // A body read to the connection's end is answered by the end; the close itself is the server's.
  Conn& c = conns_[fd];
  if (c.t_ns != 0 && proto::end_is_answer(protocol_, c.reply)) answered(c, c.reply.status & 0x3ff);
  close_open(fd, (events & EPOLLERR) ? ErrorClass::econnreset : ErrorClass::peer_closed);
}

bool Pinger::take(int fd, const unsigned char* data, size_t n) {
  using Verdict = proto::Read::Verdict;
  if (protocol_ == proto::Protocol::raw) return true;  // it speaks: let go
  Conn& c = conns_[fd];
  const ErrorClass bad = protocol_ == proto::Protocol::echo ? ErrorClass::bad_echo : ErrorClass::bad_reply;
  while (n > 0) {
    if (c.t_ns == 0 && !proto::server_speaks_unasked(protocol_)) {  // nothing asked (redis says so why it refuses)
      close_open(fd, protocol_ == proto::Protocol::redis && data[0] == '-' ? ErrorClass::refused : bad);
      return false;
    }
    proto::Read r = proto::read_reply(protocol_, c.reply, worker_, static_cast<uint32_t>(fd), c.ping_seq, data, n);
    switch (r.verdict) {
      case Verdict::more:
        break;
      case Verdict::answered:
        if (c.t_ns != 0) answered(c, r.status);
        break;
      case Verdict::server_ping:
        if (!pong(fd, data + r.payload_at, r.payload_len)) return false;
        break;
      case Verdict::refused:
        if (r.status >= 200 && r.status < 600) ++counters_.replies_by_class[r.status / 100];  // a refused upgrade's
        close_open(fd, ErrorClass::refused);
        return false;
      case Verdict::closed:
        close_open(fd, ErrorClass::close_frame);
        return false;
      case Verdict::bad:
        close_open(fd, bad);
        return false;
    }
    data += r.used, n -= r.used;
  }
  return true;
}

bool Pinger::pong(int fd, const unsigned char* payload, size_t len) {
  unsigned char out[2 + 4 + 125];
  size_t size = proto::make_pong(protocol_, payload, len, out, sizeof out);
  return send_all(fd, out, size);
}

void Pinger::answered(Conn& c, uint16_t status) {
  if (c.ping_seq == 0) {  // the greeting's answer: the connection is ready to be pinged, no round trip yet
    c.t_ns = 0;
    return;
  }
  auto rtt_us = static_cast<uint64_t>((monotonic_ns() - c.t_ns) / 1000);
  histograms_.rtt_us.record(rtt_us);
  counters_.rtt_us.record(rtt_us);
  ++counters_.pongs_received;
  if (status >= 200 && status < 600) ++counters_.replies_by_class[status / 100];
  c.answered = 1;
  c.t_ns = 0;
}

void Pinger::close_open(int fd, ErrorClass why) {
  if (tls_) tls_->forget(fd);
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
