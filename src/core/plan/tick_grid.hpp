// A worker's periodic tick on a grid of its own phase. Workers that start together (the live hold
// begins on one signal to all of them) would otherwise tick together, and their bursts land on the
// peer at once. Pure: times are arguments.
#pragma once
#include <cmath>
#include <cstdint>

namespace c1m {

// Worker `index`'s phase, as a fraction of the period in [0, 1): the index times the golden ratio,
// mod 1. For any number of workers the phases spread out evenly, the widest gap under 2 / workers.
inline double tick_phase(uint32_t index) { return std::fmod(static_cast<double>(index) * 0.6180339887498949, 1.0); }

// Time from `now` to the next tick of the grid `grid_ns + k * period_ns`; a tick due exactly now is
// a whole period away (it has just run). period_ns > 0.
inline int64_t ns_to_next_tick(int64_t now_ns, int64_t grid_ns, int64_t period_ns) {
  int64_t into = ((now_ns - grid_ns) % period_ns + period_ns) % period_ns;  // where now is in its period
  return period_ns - into;
}

}  // namespace c1m
