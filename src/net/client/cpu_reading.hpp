// The server's CPU as the client learns it: its seconds, and when they were read. They come when the
// server answers (its /stats) or when --target-pid's tree is read, not when the caller's interval
// starts or ends, so its cores are taken over the time between two readings, not the caller's.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>

namespace c1m::net {

struct CpuReading {
  double cpu_s = 0;
  int64_t at_ns = 0;  // monotonic
};

// The cores from one reading to a later one; nullopt when less than min_ns lies between them. A
// count that went back (a restarted server) is 0 cores, not a negative figure.
inline std::optional<double> cores_between(const CpuReading& from, const CpuReading& to, int64_t min_ns) {
  if (to.at_ns - from.at_ns < std::max<int64_t>(min_ns, 1)) return std::nullopt;
  return std::max(0.0, to.cpu_s - from.cpu_s) / (static_cast<double>(to.at_ns - from.at_ns) / 1e9);
}

}  // namespace c1m::net
