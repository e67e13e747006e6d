// What a worker counts, as a plain struct that crosses the worker->parent socket as bytes (both ends
// are the same binary, forked). The parent sums the latest snapshot of every worker.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "core/record/histogram.hpp"

namespace c1m {

// Why a connection failed or ended, by the errno behind it. The names are the JSON keys.
enum class ErrorClass : uint8_t {
  eaddrnotavail,   // no free source port for (source, target): range too small or too few pairs
  emfile_enfile,   // per-process or system file limit
  econnrefused,    // nobody listening, or the accept queue reset us
  etimedout,       // connect timeout: accept queue full, SYNs dropped, conntrack full
  econnreset,      // the peer reset an established connection
  peer_closed,     // the peer closed an established connection cleanly
  bad_echo,        // the peer echoed something other than what was sent
  no_answer,       // pinged, never answered by the end of the run (a live hold)
  bad_reply,       // the server answered what its protocol does not allow (redis, http)
  refused,         // the server said no in its protocol (a redis error reply: max clients reached)
  close_frame,     // the server ended the connection in its protocol (a WebSocket close frame)
  tls_handshake,   // the TLS handshake failed: the peer refused a version, group or cipher, or spoke no TLS
  tls_verify,      // --tls-verify: the server's certificate did not verify, or named another host
  tls_stalled,     // the TLS handshake did not end within the connect timeout
  tls_alert,       // the peer sent a TLS alert on an established connection (close_notify is peer_closed)
  tls_key_update,  // the peer asked for a TLS key update (the held state cannot follow one)
  other,
  count_
};
inline constexpr size_t kErrorClassCount = static_cast<size_t>(ErrorClass::count_);

const char* error_class_name(ErrorClass c);
ErrorClass classify_errno(int err);

struct ErrorCounts {
  std::array<uint64_t, kErrorClassCount> by_class{};
  void add(ErrorClass c, uint64_t n = 1) { by_class[static_cast<size_t>(c)] += n; }
  uint64_t operator[](ErrorClass c) const { return by_class[static_cast<size_t>(c)]; }
  uint64_t total() const;
  void merge(const ErrorCounts& o);
};

// A worker's TLS (all zero without --tls). The library's heap is counted exactly (net/tls/tls_memory).
struct TlsCounters {
  uint64_t handshakes = 0;                // completed
  uint64_t tickets = 0;                   // session tickets: the client read, the server sent
  uint64_t resumed = 0;                   // handshakes that resumed a session (a ticket's PSK)
  uint64_t library_bytes = 0;             // the library's heap now, above what it held at the worker's start
  uint64_t library_bytes_at_peak = 0;     // the same while the connections were at their peak
  uint64_t library_peak_bytes = 0;        // the most it ever held at once (handshakes in flight)
  uint64_t held_state_bytes = 0;          // client: c1m's own TLS state of its open connections
  std::array<char, 96> first_error = {};  // the first failure, in the library's words
  std::string first_error_text() const { return {first_error.data(), strnlen(first_error.data(), first_error.size())}; }
  void note_error(const std::string& words);  // kept if it is the first
  void merge(const TlsCounters& o);
};

// A client worker's counters. Times are CLOCK_MONOTONIC nanoseconds, comparable across processes.
struct ClientCounters {
  uint64_t quota = 0;        // connections this worker is to open
  uint64_t attempted = 0;    // connect() calls made
  uint64_t in_flight = 0;    // connecting now
  uint64_t established = 0;  // open now
  uint64_t established_peak = 0;
  uint64_t connected_total = 0;  // connects that succeeded, ever
  uint64_t pings_sent = 0;
  uint64_t pongs_received = 0;
  // A connection's ping was due while its last one was still unanswered: an interval it missed.
  uint64_t pings_late = 0;
  uint64_t source_port_fallbacks = 0;  // planned port taken; the kernel chose one instead
  // HTTP replies by status class: [2] 2xx .. [5] 5xx ([0], [1]: unused; 1xx is interim, never counted).
  std::array<uint64_t, 6> replies_by_class{};
  // Every answered ping's round trip, coarsely: the series takes what each second added to it.
  CoarseHistogram rtt_us;
  uint64_t rss_baseline_bytes = 0;
  uint64_t rss_bytes = 0;
  uint64_t rss_at_peak_bytes = 0;
  int64_t quota_reached_ns = -1;  // when established first reached quota; -1 never
  int64_t settled_ns = -1;        // when every attempt had succeeded or failed; -1 not yet
  ErrorCounts errors;
  TlsCounters tls;
  void merge(const ClientCounters& o);
};

// A server worker's counters.
struct ServerCounters {
  uint64_t connections = 0;  // held now
  uint64_t connections_peak = 0;
  uint64_t accepted_total = 0;
  uint64_t closed_by_peer = 0;  // FIN from the client
  uint64_t reset_by_peer = 0;   // RST from the client (it closed with data unread, or aborted)
  uint64_t echoed_bytes = 0;
  uint64_t listeners = 0;
  uint64_t open_fds = 0;  // connections + listeners + the worker's own, counted at its start
  uint64_t rss_baseline_bytes = 0;
  uint64_t rss_bytes = 0;
  uint64_t rss_at_peak_bytes = 0;
  uint64_t accept_paused = 0;     // times the listener was paused for lack of file descriptors
  uint64_t spread_fallbacks = 0;  // listeners left to the kernel's hash (the source-port steering was refused)
  ErrorCounts errors;
  TlsCounters tls;
  void merge(const ServerCounters& o);
};

// The latency histograms travel separately (16 KiB each), only in a worker's final report.
struct ClientHistograms {
  Histogram connect_us;
  Histogram rtt_us;
  Histogram tls_handshake_us;  // --tls: from the TCP connect's end to the keys in place
  void merge(const ClientHistograms& o);
};

static_assert(std::is_trivially_copyable_v<ClientCounters>);
static_assert(std::is_trivially_copyable_v<ServerCounters>);
static_assert(std::is_trivially_copyable_v<ClientHistograms>);

}  // namespace c1m

namespace c1m {
// Sum of per-worker counters. Starts from the first so that "reached at" times keep their meaning
// (-1 in any worker means the pool never reached it).
template <typename Counters, typename Range>
Counters sum_counters(const Range& all) {
  Counters total{};
  bool first = true;
  for (const Counters& c : all) {
    if (first)
      total = c;
    else
      total.merge(c);
    first = false;
  }
  return total;
}
}  // namespace c1m
