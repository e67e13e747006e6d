// The run record as a type: what a client writes, what the collector merges, what compare and plot
// read. Its figures are listed once, in core/record/record_fields.cpp (key, kind and range, merge rule,
// compare direction, meaning): to_json() writes them in that order, from_json() reads and validates
// them (the one check every reader uses: a bad field is refused with its JSON path, never met later
// as a crash), and merge() makes one run of many clients by each row's rule (as memtier's
// run_stats::merge), with its own code for what no rule says. The sections that only describe
// (config, topology, host, limits, sysctls, the server's stats) stay JSON objects.
// To add a figure: its member here, its row in record_fields.cpp, where it is measured, a test.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/record/histogram.hpp"

namespace c1m {

using ojson = nlohmann::ordered_json;

// j[key] when it is a string, else the fallback. For documents from others: nlohmann's value() throws
// when the key is there with another type, and an uncaught throw ends the process (found by make fuzz).
inline std::string text_of(const ojson& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

inline constexpr int kSchemaVersion = 1;

// One sample a second of the ramp (the merged series has no errors or server count).
struct SeriesPoint {
  double t_s = 0;                  // since the ramp started
  uint64_t established = 0;        // open now
  double connect_rate_per_s = 0;   // successful connects in the last second
  std::optional<uint64_t> errors;  // cumulative
  std::optional<uint64_t> server_connections;
  CoarseHistogram ping_rtt_us;  // the pings answered since the previous point (a live hold)
  // The machine's busy cores and the hypervisor's steal since the previous point (/proc/stat).
  std::optional<double> machine_busy_cores, machine_steal_cores;
  // The client's own processes' cores and the server's (its /stats, or --target-pid's processes)
  // over the same second: a busy second beside them says whose CPU it was.
  std::optional<double> client_cores, server_cores;
};

struct RunResults {
  uint64_t established_peak_client = 0;              // the joint peak the client side counted
  std::optional<uint64_t> established_peak_server;   // the server's, from its /stats
  std::optional<uint64_t> kernel_tcp_inuse_at_peak;  // sockstat TCP inuse (a single client's namespace only)
  std::optional<int64_t> kernel_tcp_inuse_delta;     // its growth; merged: summed over the clients' namespaces
  uint64_t attempted = 0, connected_total = 0;
  std::optional<double> time_to_target_s;  // null: the target was never reached
  std::optional<double> ramp_duration_s;
  std::optional<double> connect_rate_per_s;
  Histogram connect_us, rtt_us;  // written as summaries (ms) and sparse histograms (us)
  Histogram tls_handshake_us;    // --tls: the same (null without TLS)
  uint64_t pings_sent = 0, pongs_received = 0, source_port_fallbacks = 0;
  // --protocol http: answers by status class (null for other protocols).
  std::optional<uint64_t> http_replies_2xx, http_replies_3xx, http_replies_4xx, http_replies_5xx;
  std::optional<uint64_t> limit_connections;  // --find-limit's capacity (topology.target.limit says what bound it)
  // --tls (null without): handshakes done, of them resumed, session tickets the server sent, and the
  // most the client's TLS library held at once (its handshakes in flight).
  std::optional<uint64_t> tls_handshakes, tls_resumed, tls_tickets, tls_library_peak_bytes_client;
  ojson tls_first_error;
  // --tls: each side's own CPU over the ramp per handshake (its TCP connects included: a plain run
  // beside it says their share), and handshakes a second over the time to target.
  std::optional<double> tls_ramp_cpu_us_per_handshake_client, tls_ramp_cpu_us_per_handshake_server,
      tls_handshakes_per_s;  // the first TLS failure in the library's words (or c1m's), null if none
  std::optional<double> hold_cpu_cores_client, hold_cpu_cores_server;
  // The ramp's CPU, as the floor probe measures its own: the machine's busy and steal seconds, busy
  // microseconds per connection made, each side's own processes' seconds.
  std::optional<double> ramp_cpu_busy_s, ramp_cpu_steal_s, ramp_cpu_busy_us_per_connection;
  // The machine's cumulative busy and steal seconds (since boot) at this client's ramp's start and
  // end: many clients on one machine merge to the union of their windows. Null in older records.
  ojson ramp_cpu_machine_counters;
  std::optional<double> ramp_cpu_client_s, ramp_cpu_client_user_s, ramp_cpu_server_s, ramp_cpu_server_user_s;
  // The live hold (--live): its length, pings a second, pings found still unanswered an interval
  // later, each side's CPU in cores and in cores per 1,000 pings a second, and the machine's busy and
  // steal cores over it (summed over machines: what the pings waited behind).
  std::optional<double> live_hold_s, live_pings_per_s;
  uint64_t pings_late = 0;
  std::optional<double> live_cpu_cores_client, live_cpu_cores_server;
  std::optional<double> live_cpu_machine_busy_cores, live_cpu_machine_steal_cores;
  std::optional<double> live_cpu_cores_per_1k_pings_per_s_client, live_cpu_cores_per_1k_pings_per_s_server;
  std::map<std::string, uint64_t> errors;  // by class
  uint64_t errors_total = 0;
  std::map<std::string, int64_t> tcpext_delta;  // the client side's namespace(s)
  std::optional<ojson> tcpext_delta_server;     // merged records: the server's namespace
  std::map<std::string, uint64_t> sockstat_before, sockstat_at_peak;
  ojson conntrack_at_peak;  // {count, max} of the client's namespace, or null
};

// The figures that follow from others: the ramp's busy microseconds per connection made, each
// side's ramp CPU per TLS handshake and handshakes a second, and each side's live-hold cores per
// 1,000 pings a second.
void derive_per_unit_figures(RunResults& x);

struct RunMemory {
  std::optional<int64_t> slab_delta_bytes;
  std::optional<double> kernel_bytes_per_socket;
  // The headroom: the host's MemAvailable while it held the peak (how much larger a run could go).
  std::optional<uint64_t> mem_available_at_peak_bytes;
  ojson slab_caches;       // per-cache deltas, or null
  ojson slab_caches_note;  // why they are null
  std::optional<double> user_bytes_per_connection_client, user_bytes_per_connection_server;
  std::optional<double> kernel_bytes_per_connection_server;  // a foreign server's cgroup (c1m meter)
  // --tls: the TLS library's heap a held connection, counted exactly (net/tls/tls_memory).
  std::optional<double> tls_library_bytes_per_connection_client, tls_library_bytes_per_connection_server;
};

struct RunRecord {
  std::string run_id;
  std::string status = "complete";  // complete | failed | interrupted
  std::optional<std::string> reason;
  std::vector<std::string> warnings;
  ojson tool;
  int64_t started_unix_ms = 0, ended_unix_ms = 0;
  std::string approach;  // multi-ip | multi-port | custom
  ojson config, topology, host, limits, sysctls;
  RunResults results;
  RunMemory memory;
  std::vector<SeriesPoint> series;
  ojson server;  // the server's stats at the end, or null
  std::optional<std::string> server_stats_error;
  ojson extra = ojson::object();  // other keys (participants, lab, repetitions, run, ...), kept as read

  ojson to_json() const;
  // The record, or std::nullopt with `error` naming the first field that cannot be used, as
  // "/json/path: what was expected". Counts are at most 1e12, times at most a year.
  static std::optional<RunRecord> from_json(const ojson& j, std::string& error);
};

// One run of many clients: sums, exact merged percentiles, a series on one wall-clock axis (each
// client counts once a second while it ran). The status is what the records say; the caller adds
// what it knows (missing participants, the server's report).
RunRecord merge(const std::vector<RunRecord>& clients);

// "2026-11-24T09:00:00.123Z" <-> unix ms (-1 if malformed).
std::string iso8601_utc(int64_t unix_ms);
int64_t parse_iso8601_ms(const std::string& text);

}  // namespace c1m
