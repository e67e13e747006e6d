#include "core/plan/counters.hpp"

#include <algorithm>
#include <cerrno>

namespace c1m {

const char* error_class_name(ErrorClass c) {
  switch (c) {
    case ErrorClass::eaddrnotavail:
      return "eaddrnotavail";
    case ErrorClass::emfile_enfile:
      return "emfile_enfile";
    case ErrorClass::econnrefused:
      return "econnrefused";
    case ErrorClass::etimedout:
      return "etimedout";
    case ErrorClass::econnreset:
      return "econnreset";
    case ErrorClass::peer_closed:
      return "peer_closed";
    case ErrorClass::bad_echo:
      return "bad_echo";
    case ErrorClass::no_answer:
      return "no_answer";
    case ErrorClass::bad_reply:
      return "bad_reply";
    case ErrorClass::refused:
      return "refused";
    case ErrorClass::close_frame:
      return "close_frame";
    case ErrorClass::tls_handshake:
      return "tls_handshake";
    case ErrorClass::tls_verify:
      return "tls_verify";
    case ErrorClass::tls_stalled:
      return "tls_stalled";
    case ErrorClass::tls_alert:
      return "tls_alert";
    case ErrorClass::tls_key_update:
      return "tls_key_update";
    case ErrorClass::other:
      return "other";
    case ErrorClass::count_:
      break;
  }
  return "other";
}

ErrorClass classify_errno(int err) {
  switch (err) {
    case EADDRNOTAVAIL:
      return ErrorClass::eaddrnotavail;
    case EMFILE:
    case ENFILE:
      return ErrorClass::emfile_enfile;
    case ECONNREFUSED:
      return ErrorClass::econnrefused;
    case ETIMEDOUT:
      return ErrorClass::etimedout;
    case ECONNRESET:
    case EPIPE:
      return ErrorClass::econnreset;
    default:
      return ErrorClass::other;
  }
}

uint64_t ErrorCounts::total() const {
  uint64_t t = 0;
  for (auto n : by_class) t += n;
  return t;
}

void ErrorCounts::merge(const ErrorCounts& o) {
  for (size_t i = 0; i < kErrorClassCount; ++i) by_class[i] += o.by_class[i];
}

void ClientCounters::merge(const ClientCounters& o) {
  quota += o.quota;
  attempted += o.attempted;
  in_flight += o.in_flight;
  established += o.established;
  established_peak += o.established_peak;  // an upper bound; the parent tracks the true joint peak
  connected_total += o.connected_total;
  pings_sent += o.pings_sent;
  pongs_received += o.pongs_received;
  pings_late += o.pings_late;
  source_port_fallbacks += o.source_port_fallbacks;
  for (size_t k = 0; k < replies_by_class.size(); ++k) replies_by_class[k] += o.replies_by_class[k];
  rtt_us.merge(o.rtt_us);
  rss_baseline_bytes += o.rss_baseline_bytes;
  rss_bytes += o.rss_bytes;
  rss_at_peak_bytes += o.rss_at_peak_bytes;
  // The whole pool reached its quota when the last worker did; -1 if any never did.
  quota_reached_ns =
      (quota_reached_ns < 0 || o.quota_reached_ns < 0) ? -1 : std::max(quota_reached_ns, o.quota_reached_ns);
  settled_ns = (settled_ns < 0 || o.settled_ns < 0) ? -1 : std::max(settled_ns, o.settled_ns);
  errors.merge(o.errors);
  tls.merge(o.tls);
}

void ServerCounters::merge(const ServerCounters& o) {
  connections += o.connections;
  connections_peak += o.connections_peak;
  accepted_total += o.accepted_total;
  closed_by_peer += o.closed_by_peer;
  reset_by_peer += o.reset_by_peer;
  echoed_bytes += o.echoed_bytes;
  listeners += o.listeners;
  open_fds += o.open_fds;
  rss_baseline_bytes += o.rss_baseline_bytes;
  rss_bytes += o.rss_bytes;
  rss_at_peak_bytes += o.rss_at_peak_bytes;
  accept_paused += o.accept_paused;
  spread_fallbacks += o.spread_fallbacks;
  errors.merge(o.errors);
  tls.merge(o.tls);
}

void ClientHistograms::merge(const ClientHistograms& o) {
  connect_us.merge(o.connect_us);
  rtt_us.merge(o.rtt_us);
  tls_handshake_us.merge(o.tls_handshake_us);
}

void TlsCounters::note_error(const std::string& words) {
  if (first_error[0] == 0 && !words.empty())
    std::memcpy(first_error.data(), words.data(), std::min(words.size(), first_error.size() - 1));
}

void TlsCounters::merge(const TlsCounters& o) {
  handshakes += o.handshakes;
  tickets += o.tickets;
  resumed += o.resumed;
  library_bytes += o.library_bytes;
  library_bytes_at_peak += o.library_bytes_at_peak;
  library_peak_bytes += o.library_peak_bytes;  // an upper bound: the workers' peaks need not coincide
  held_state_bytes += o.held_state_bytes;
  if (first_error[0] == 0) first_error = o.first_error;
}

}  // namespace c1m
