// The server's account of itself (kind server_stats): what its GET /stats answers, what it prints
// when it stops and reports to the collector, and what a client's record keeps of it. One type for
// all of them: the server builds it, the client's poller, the collector's merge and the record read
// it with server_stats_from_json, so each figure has one key and one meaning.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/host/procfs.hpp"
#include "core/plan/counters.hpp"
#include "core/record/run_record.hpp"

namespace c1m {

struct ServerStats {
  // The workers' sums now, and the supervisor's joint peak (the most held at once).
  uint64_t connections = 0;
  uint64_t connections_peak = 0;
  uint64_t accepted_total = 0;
  uint64_t closed_by_peer = 0;  // FIN from a client
  uint64_t reset_by_peer = 0;   // RST from a client
  uint64_t echoed_bytes = 0;
  ErrorCounts errors;
  uint64_t accept_paused = 0;     // times a listener paused for lack of file descriptors
  uint64_t spread_fallbacks = 0;  // listeners left to the kernel's hash
  uint64_t workers = 0;
  uint64_t workers_alive = 0;
  uint64_t listeners = 0;
  uint64_t open_fds = 0;
  double cpu_seconds = 0;                       // its processes' CPU since it started
  std::optional<double> ramp_cpu_seconds;       // from its first accept to holding all it expects
  std::optional<double> ramp_cpu_user_seconds;  // of that, in user mode (its own code); null: not split
  uint64_t rss_bytes = 0;
  uint64_t rss_baseline_bytes = 0;
  std::optional<double> user_bytes_per_connection;
  // Kernel memory a held connection, as a cgroup charged it (c1m meter, for a server not c1m's); null
  // where nothing read a cgroup.
  std::optional<double> kernel_bytes_per_connection;
  // --tls: handshakes completed, of them resumed, session tickets sent, and the TLS library's heap a
  // held connection at the peak (counted exactly, net/tls/tls_memory); null without TLS.
  std::optional<uint64_t> tls_handshakes, tls_resumed, tls_tickets_sent;
  std::optional<double> tls_library_bytes_per_connection;
  std::optional<std::string> tls_first_error;  // the first TLS failure, in the library's words
  ojson tcpext_since_start = ojson::object();  // its namespace's TcpExt counters since it started
  // Its namespace's conntrack table: where a lab's server fills first. Null where tracking is not loaded.
  std::optional<uint64_t> conntrack_count, conntrack_max;
  // What does not change while it runs: listen, limits, host, sysctls, spread, sched, live_sched.
  ojson context = ojson::object();
  ojson workers_lost = ojson::array();  // [{worker, connections_lost}]
  std::optional<std::string> workers_sched_policy;
  bool stopped = false;                            // its final stats, printed as it stops:
  std::optional<std::string> workers_lost_reason;  // then how the lost ones ended (null: none lost)
  std::optional<std::string> ended_because;        // its report to the collector: why now
  std::string version, git_sha;                    // of the server's build

  // The ramp CPU, if it is a plausible number of seconds; its user part, if no more than that.
  std::optional<double> ramp_cpu() const;
  std::optional<double> ramp_cpu_user() const;
};

// The server's CPU: since it started, and over the ramp (null until it first held all it expects).
struct ServerCpu {
  double total_s = 0;
  std::optional<double> ramp_s, ramp_user_s;
};

// The stats from the workers' summed counters, the joint peak, and what the supervisor knows.
// `context` is built once (server_context_json); `kernel_now` is read in the server's namespace.
ServerStats server_stats_of(const ServerCounters& total, uint64_t connections_peak, size_t workers,
                            size_t workers_alive, const ServerCpu& cpu, const ojson& context,
                            const procfs::KernelSnapshot& kernel_at_start, const procfs::KernelSnapshot& kernel_now);
ojson server_context_json(const ojson& listen, const ojson& limits, const ojson& host, const ojson& sysctls);

ojson to_json(const ServerStats& s);
// A server's stats document, checked: null with `why` when it is not one (connections and
// connections_peak are required, every other key is typed when present).
std::optional<ServerStats> server_stats_from_json(const ojson& j, std::string* why = nullptr);

// Its Prometheus rendering (GET /metrics).
std::string server_metrics_text(const ServerStats& s);

}  // namespace c1m
