// The preflight: can this host hold N connections, and if not, what stops it? Each requirement is
// checked against what the host really has (read from /proc, never assumed) and the verdict names
// the largest run the host can hold and what limits it. Pure: facts in, findings out.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/plan/plan.hpp"

namespace c1m {

struct HostFacts {
  uint64_t mem_available_bytes = 0;
  uint64_t file_max = 0;
  uint64_t files_allocated = 0;  // first field of /proc/sys/fs/file-nr
  uint64_t nofile_hard = 0;
  std::optional<uint64_t> nr_open;
  std::optional<uint64_t> conntrack_max;  // absent: no connection tracking loaded
  std::optional<uint64_t> conntrack_count;
  std::optional<uint64_t> conntrack_buckets;  // the tracking hash table's size (hashsize)
  std::optional<uint64_t> epoll_max_user_watches;
  std::optional<PortRange> port_range;
  std::optional<uint64_t> somaxconn;
  std::optional<uint64_t> tcp_max_syn_backlog;
  std::optional<uint64_t> tcp_migrate_req;
  // TCP's lookup table of established sockets: the host's (set at boot) and the size each network
  // namespace created from now on gets of its own (0: it shares the host's; absent: kernel < 6.1).
  std::optional<uint64_t> tcp_ehash_entries, tcp_child_ehash_entries;
};

struct Finding {
  std::string name;  // "memory", "net.netfilter.nf_conntrack_max", ...
  std::string have;
  std::string need;
  bool ok = true;
  bool limits = false;  // caps the connection count (rather than being advice)
  std::string fix;      // what to change, when not ok
};

struct DoctorReport {
  std::vector<Finding> findings;
  uint64_t max_connections = 0;  // the most this host can hold, by the tightest limit
  std::string limited_by;
  bool ready = false;  // every check passed for the asked count
};

// Buckets of its own TCP lookup table that a namespace holding n sockets should have: the next power
// of two (the kernel rounds up to one), at most the kernel's 16M.
uint64_t child_ehash_entries_for(uint64_t n);

// Kernel memory per socket used for the estimate: the Slab growth measured on kernel 6.18.
inline constexpr uint64_t kEstimatedKernelBytesPerSocket = 5300;
// What --tls adds to a connection's memory, measured at 19,000 on this machine (docs/benchmarks.md):
// a side holding keys only (c1m's client; its server by default) ~200 B of user memory; a server
// keeping the library's object (--tls-held library) ~14 KB.
inline constexpr uint64_t kTlsKeysBytesPerSide = 200;
inline constexpr uint64_t kTlsLibraryServerBytes = 14000;
// Connections per (source, target) pair in the default experiments (1M over 20 pairs).
inline constexpr uint64_t kDefaultPairs = 20;
// Every limit keeps this share free for what the run does not control (other processes, the
// engine's own traffic, kernel slack): the largest run the doctor names is 98% of what a limit allows.
inline constexpr double kMarginShare = 0.02;
// Tracked connections the lab's own tooling may add in the server's namespace beside the data and
// the stats polls: lab-up's progress polls through Docker's port publishing, a collector.
inline constexpr uint64_t kAdminConntrackEntries = 64;

// Where a run's connections land: what each limit counts depends on it.
struct RunShape {
  uint64_t connections = 0;
  // Client and server share this kernel (loopback, or the lab on one host): two sockets a connection.
  bool both_ends_here = false;
  // Each side in its own network namespace (the lab's containers). Connection tracking counts per
  // namespace, so the server's holds every connection; the host's own entries are elsewhere.
  bool in_containers = false;
  uint64_t pairs = kDefaultPairs;  // (source, target) pairs the plan spreads over
  // The clients' ephemeral range where they set their own (the lab's containers); else this host's.
  std::optional<PortRange> client_port_range;
  // Processes that poll the server's /stats: each keeps one connection open, and may leave one
  // behind in TIME_WAIT if it has to open another.
  uint64_t stats_pollers = 1;
  // The lab's namespaces track none of its connections (C1M_CONNTRACK=off: a NOTRACK rule in each).
  bool untracked = false;
  // --tls: "keys" (both sides hold keys only), "library" (the server keeps the library's object); "": none.
  std::string tls;
};

// Each limit against the run's shape; the verdict is the largest run every limit allows.
DoctorReport diagnose(const HostFacts& facts, const RunShape& shape);
inline DoctorReport diagnose(const HostFacts& facts, uint64_t connections, bool both_ends_here) {
  RunShape shape;
  shape.connections = connections;
  shape.both_ends_here = both_ends_here;
  return diagnose(facts, shape);
}

// Tracked connections beside the data ones in the fullest namespace: the stats pollers' and the
// lab's own admin traffic.
uint64_t conntrack_overhead(const RunShape& shape);

// The host settings a run of `connections` needs, as sysctl name -> value, for host-tune.
std::vector<std::pair<std::string, std::string>> tuning_for(const HostFacts& facts, uint64_t connections,
                                                            bool both_ends_here);

}  // namespace c1m
