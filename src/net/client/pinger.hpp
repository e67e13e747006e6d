// A client worker's live side: pings a share of its held connections each tick, so that each is
// pinged once an interval, reads what comes back in the run's protocol (core/proto/reply), and counts
// the round trips, the replies' status classes, the late pings and the connections that end. It shares the worker's
// table of connections (net/client/client_conn) and its counters; the worker opens connections, the pinger talks on
// them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/plan/counters.hpp"
#include "core/proto/reply.hpp"
#include "net/client/client_conn.hpp"
#include "net/client/client_tls.hpp"

namespace c1m::net {

class Pinger {
 public:
  Pinger(uint32_t worker, int64_t interval_ns, proto::Protocol protocol, const proto::PingText* text, Conn* conns,
         size_t slots, ClientCounters& counters, ClientHistograms& histograms)
      : worker_(worker),
        interval_ns_(interval_ns),
        protocol_(protocol),
        text_(text),
        conns_(conns),
        slots_(slots),
        counters_(counters),
        histograms_(histograms) {}

  // A connection is up: what the protocol says first (MQTT's CONNECT), its answer awaited as ping 0.
  void greet(int fd, uint32_t nonce);
  // Pings the slots due in elapsed_ns of an interval, from where the last call stopped.
  void ping_some(int64_t elapsed_ns);
  // --tls: every byte goes through the connection's record layer.
  void use_tls(ClientTls* tls) { tls_ = tls; }
  // From the first slot again, with nothing due (the live hold begins).
  void restart() { budget_ = 0, cursor_ = 0; }
  // Reads all that an epoll report announced on an open connection (edge-triggered: it is not
  // reported again); a report with the peer's hang-up reads on to its end.
  void readable(int fd, uint32_t events);
  // At the end: a connection pinged and never answered is an error of its own class, and a ping out
  // for longer than an interval missed one. A ping sent in the last second may still be on its way.
  void count_unanswered();

 private:
  bool read_some(int fd, uint32_t events);    // false once nothing more waits, or the connection closed
  bool read_record(int fd, uint32_t events);  // the same over TLS: one record's data
  void read_ended(int fd, uint32_t events);   // the server ended the connection (read its end)
  // Sends all of data (in a TLS record, with --tls); false when it could not and the connection was closed.
  bool send_all(int fd, const unsigned char* data, size_t len);
  // Bytes that came: the reply to the outstanding ping, or (none outstanding) the server speaking
  // unasked. False when they closed the connection.
  bool take(int fd, const unsigned char* data, size_t n);
  void answered(Conn& c, uint16_t status);
  bool pong(int fd, const unsigned char* payload, size_t len);  // answers the server's ping; false: closed
  void close_open(int fd, ErrorClass why);

  uint32_t worker_;
  int64_t interval_ns_;
  proto::Protocol protocol_;
  const proto::PingText* text_;
  Conn* conns_;
  size_t slots_;
  ClientCounters& counters_;
  ClientHistograms& histograms_;
  ClientTls* tls_ = nullptr;
  double budget_ = 0;  // slots due and not yet visited
  size_t cursor_ = 0;  // the next slot to visit
};

}  // namespace c1m::net
