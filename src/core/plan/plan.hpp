// How a run is laid out before anything is opened: how many worker processes the file limit asks for,
// how connections are spread over (source, target) pairs, and whether the ephemeral port range can
// give that many. A plan that cannot work is refused up front, with the reason, instead of ending in
// a flood of EADDRNOTAVAIL.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/plan/endpoints.hpp"

namespace c1m {

// File descriptors a worker keeps for itself: listeners, control socket, epoll, a reserve, stdio.
inline constexpr uint64_t kWorkerReservedFds = 100;
inline constexpr size_t kMaxWorkers = 4096;

// Connections one worker may hold under its open-files limit.
uint64_t worker_capacity(uint64_t nofile_limit);

// Workers needed to hold `connections` at `capacity` each. `headroom` > 1 leaves slack for uneven
// spreading (the kernel hashes server connections over the workers' SO_REUSEPORT listeners).
size_t workers_needed(uint64_t connections, uint64_t capacity, double headroom = 1.0);

// `total` into `parts` shares that differ by at most one.
std::vector<uint64_t> split_evenly(uint64_t total, size_t parts);

struct PortRange {
  uint32_t low = 32768;
  uint32_t high = 60999;
  uint64_t size() const { return high >= low ? uint64_t{high} - low + 1 : 0; }
};
// "32768\t60999" as in /proc/sys/net/ipv4/ip_local_port_range.
std::optional<PortRange> parse_port_range(const std::string& text);

struct ConnectPlan {
  std::vector<Ipv4> sources;  // empty: the kernel picks the source address
  std::vector<Endpoint> targets;
  uint64_t connections = 0;
  // Source ports. The kernel's own search (connect() without a port) scans the even half of the
  // range first, so once a (source, target) pair carries more connections than that half, every
  // further connect scans tens of thousands of ports. The client therefore names each port itself:
  // connection i takes the (i / pairs)-th port of the range, rotated by a per-run offset.
  bool explicit_ports = true;
  PortRange ports;
  uint32_t port_offset = 0;

  size_t pair_count() const { return (sources.empty() ? 1 : sources.size()) * targets.size(); }
  // The most connections any one (source, target) pair carries.
  uint64_t max_per_pair() const;
  // Connection i's pair: source index (or -1 for "any") and target index. Round-robin over pairs.
  std::pair<long, size_t> pair_of(uint64_t i) const;
  // Connection i's source port, or 0 to let the kernel choose.
  uint16_t source_port_of(uint64_t i) const;
  // For a connection whose planned port is taken (by another program, a TIME_WAIT): the k-th of the
  // ports no connection is planned on (the range less max_per_pair()), worker `worker` of `workers`
  // each its own; 0 once that worker's are used up. The kernel's own pick would be a port planned for
  // a later connection of the same pair, which then fell back in turn: 618,400 fallbacks at 1.5M.
  uint16_t spare_port(uint32_t worker, uint32_t workers, uint64_t k) const;
  // Whether source `source` (-1: the kernel's pick) at `port` could be target `target` itself. A
  // socket bound there connects to itself (TCP's simultaneous open) when nothing listens: a
  // connection established with no server. The client takes such a port as taken.
  bool is_target_itself(long source, size_t target, uint16_t port) const;
};

// Empty if the plan fits the port range; otherwise one line saying why and what to change.
std::string check_port_capacity(const ConnectPlan& plan, const PortRange& range);

}  // namespace c1m
