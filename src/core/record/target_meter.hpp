// A server that is not c1m's, measured from outside it (c1m meter, in the lab from the host): its
// network namespace's count of established connections and its cgroup's memory and CPU, once a
// second. The account it gives is a ServerStats, as c1m's own server gives, so the collector merges
// it the same way: the server's peak, its CPU over the ramp, its user bytes a connection; and what
// only a cgroup says, its kernel bytes a connection. Pure: the samples are passed in.
#pragma once
#include <cstdint>
#include <optional>

#include "core/host/cgroup.hpp"
#include "core/record/server_stats.hpp"

namespace c1m {

struct TargetSample {
  int64_t mono_ns = 0;
  int64_t unix_ms = 0;       // the same moment on the wall clock, which the clients' records share
  uint64_t established = 0;  // the namespace's Tcp CurrEstab (/proc/PID/net/snmp)
  procfs::CgroupUsage usage;
};

class TargetMeter {
 public:
  // `expect`: the connections the run holds when all are in (the ramp ends there); 0: at the peak.
  explicit TargetMeter(uint64_t expect) : expect_(expect) {}
  void add(const TargetSample& s);
  bool empty() const { return !first_; }
  // The most it held (steady for a reading), above where it began; the transient peak where none was.
  uint64_t peak() const {
    const auto& at = held_ ? held_ : peak_;
    return at ? at->established - first_->established : 0;
  }

  // The account so far; `context` is kept beside the figures (listen, limits, where it was read).
  ServerStats report(const ojson& context) const;
  // {before, held, at_peak, now}: each reading's established count and cgroup figures, for the record.
  ojson readings() const;
  // [[unix_ms, cpu_s], ...] once a reading: the collector takes the live hold's CPU from it.
  const ojson& cpu_series() const { return cpu_series_; }

 private:
  uint64_t expect_;
  std::optional<TargetSample> first_, ramp_start_, ramp_end_, peak_, held_, last_;
  uint64_t plateau_top_ = 0;  // the highest steady count; held_ is the last reading near it
  ojson cpu_series_ = ojson::array();
};

}  // namespace c1m
