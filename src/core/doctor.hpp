// The preflight: can this host hold N connections, and if not, what stops it? Each requirement is
// checked against what the host really has (read from /proc, never assumed) and the verdict names
// the largest run the host can hold and what limits it. Pure: facts in, findings out.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/plan.hpp"

namespace c1m {

struct HostFacts {
  uint64_t mem_available_bytes = 0;
  uint64_t file_max = 0;
  uint64_t files_allocated = 0;  // first field of /proc/sys/fs/file-nr
  uint64_t nofile_hard = 0;
  std::optional<uint64_t> nr_open;
  std::optional<uint64_t> conntrack_max;    // absent: no connection tracking loaded
  std::optional<uint64_t> conntrack_count;
  std::optional<uint64_t> conntrack_buckets;  // the tracking hash table's size (hashsize)
  std::optional<uint64_t> epoll_max_user_watches;
  std::optional<PortRange> port_range;
  std::optional<uint64_t> somaxconn;
  std::optional<uint64_t> tcp_max_syn_backlog;
  std::optional<uint64_t> tcp_migrate_req;
};

HostFacts read_host_facts();

struct Finding {
  std::string name;      // "memory", "net.netfilter.nf_conntrack_max", ...
  std::string have;
  std::string need;
  bool ok = true;
  bool limits = false;   // caps the connection count (rather than being advice)
  std::string fix;       // what to change, when not ok
};

struct DoctorReport {
  std::vector<Finding> findings;
  uint64_t max_connections = 0;  // the most this host can hold, by the tightest limit
  std::string limited_by;
  bool ready = false;            // every check passed for the asked count
};

// Kernel memory per socket used for the estimate: the Slab growth measured on kernel 6.18.
inline constexpr uint64_t kEstimatedKernelBytesPerSocket = 5300;
// Connections per (source, target) pair in the default experiments (1M over 20 pairs).
inline constexpr uint64_t kDefaultPairs = 20;

// `both_ends_here`: client and server share this kernel (loopback, or the lab on one host), so
// every connection costs two sockets.
DoctorReport diagnose(const HostFacts& facts, uint64_t connections, bool both_ends_here);

// The host settings a run of `connections` needs, as sysctl name -> value, for host-tune.
std::vector<std::pair<std::string, std::string>> tuning_for(const HostFacts& facts, uint64_t connections, bool both_ends_here);

}  // namespace c1m
