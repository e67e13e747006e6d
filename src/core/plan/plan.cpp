#include "core/plan/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace c1m {

uint64_t worker_capacity(uint64_t nofile) {
  return nofile > kWorkerReservedFds * 2 ? nofile - kWorkerReservedFds : std::max<uint64_t>(nofile / 2, 1);
}

size_t workers_needed(uint64_t connections, uint64_t capacity, double headroom) {
  uint64_t cap = std::max<uint64_t>(capacity, 1);
  double want = std::ceil(static_cast<double>(connections) * std::max(headroom, 1.0) / static_cast<double>(cap));
  return std::max<size_t>(1, static_cast<size_t>(want));
}

std::vector<uint64_t> split_evenly(uint64_t total, size_t parts) {
  std::vector<uint64_t> out(parts, parts ? total / parts : 0);
  for (size_t i = 0; parts && i < total % parts; ++i) ++out[i];
  return out;
}

std::optional<PortRange> parse_port_range(const std::string& text) {
  unsigned lo = 0, hi = 0;
  if (std::sscanf(text.c_str(), "%u %u", &lo, &hi) != 2 || lo > 65535 || hi > 65535 || lo > hi) return std::nullopt;
  return PortRange{lo, hi};
}

uint64_t ConnectPlan::max_per_pair() const {
  size_t pairs = pair_count();
  return pairs ? (connections + pairs - 1) / pairs : connections;
}

std::pair<long, size_t> ConnectPlan::pair_of(uint64_t i) const {
  size_t pair = static_cast<size_t>(i % pair_count());
  long source = sources.empty() ? -1 : static_cast<long>(pair / targets.size());
  return {source, pair % targets.size()};
}

uint16_t ConnectPlan::source_port_of(uint64_t i) const {
  uint64_t size = ports.size();
  if (!explicit_ports || size == 0) return 0;
  uint64_t ordinal = i / pair_count();
  return static_cast<uint16_t>(ports.low + (ordinal + port_offset) % size);
}

uint16_t ConnectPlan::spare_port(uint32_t worker, uint32_t workers, uint64_t k) const {
  uint64_t size = ports.size(), planned = max_per_pair();
  if (!explicit_ports || workers == 0 || worker >= workers || size <= planned) return 0;
  uint64_t ordinal = planned + worker + k * workers;
  if (ordinal >= size) return 0;
  return static_cast<uint16_t>(ports.low + (ordinal + port_offset) % size);
}

bool ConnectPlan::is_target_itself(long source, size_t target, uint16_t port) const {
  const Endpoint& t = targets[target];
  return port != 0 && port == t.port && (source < 0 || sources[static_cast<size_t>(source)] == t.ip);
}

std::string check_port_capacity(const ConnectPlan& plan, const PortRange& range) {
  uint64_t need = plan.max_per_pair();
  if (need <= range.size()) return {};
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%llu connections over %zu (source, target) pairs need %llu source ports per pair, but "
                "net.ipv4.ip_local_port_range %u-%u gives %llu: widen the range (e.g. 1024 65535) or add "
                "source addresses (--source) or target ports (--target)",
                static_cast<unsigned long long>(plan.connections), plan.pair_count(),
                static_cast<unsigned long long>(need), range.low, range.high,
                static_cast<unsigned long long>(range.size()));
  return buf;
}

}  // namespace c1m
