// The project's clocks, in one place. Pure code (core's merge, compare, plan) never reads them: it
// takes times as arguments, so a test can give any time.
#pragma once
#include <time.h>

#include <cstdint>

namespace c1m {

// CLOCK_MONOTONIC in ns: durations, and the workers' and the parent's shared timeline.
inline int64_t monotonic_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1'000'000'000LL + t.tv_nsec;
}

// Wall-clock time in ms since the epoch: what a record's started_at and ended_at say.
inline int64_t unix_ms() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1'000'000;
}

inline double seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace c1m
