// Why a run fell short, said with the numbers read where it bit. Pure: counters and readings in, one
// line out, so every wording is tested against fixtures rather than against a broken host.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/plan/counters.hpp"

namespace c1m {

// What one network namespace showed, read by the participant that lives in it (in the lab, the
// client cannot read the server's namespace: the server's /stats carries its reading).
struct NamespaceReading {
  std::string whose;                        // "the server's network namespace", "this network namespace"
  std::optional<uint64_t> conntrack_count;  // entries in this namespace's table
  std::optional<uint64_t> conntrack_max;    // the host-wide cap on each namespace's count
};

// Errors by class, then the kernel counters that explain them
// ("12 etimedout; TcpExt ListenOverflows +40: the server's accept queue overflowed").
std::string explain_shortfall(const ClientCounters& totals, const std::map<std::string, int64_t>& tcpext_delta);

// A table is full once it is within 1% of its cap: entries leave only as they time out, and each
// freed slot is taken by the next SYN, so a full table hovers just under the cap.
bool conntrack_full(const NamespaceReading& r);

// The silent limit that stopped new connections, with where and the numbers, and the fix:
// "conntrack table of the server's network namespace full: 262,144 of 262,144 entries (...)".
// Empty when no reading shows one. (The loud limits, ports and files, fail connect() with an errno
// and are named by explain_shortfall.)
std::string silent_limit_reached(const std::vector<NamespaceReading>& readings);

}  // namespace c1m
