#include "core/plan/tick_grid.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace c1m {
namespace {

// However many workers there are, their phases leave no gap wider than 2 / workers of the period:
// no two crowd into one instant and none is left alone for long.
TEST(TickGrid, PhasesSpreadEvenlyForAnyNumberOfWorkers) {
  for (uint32_t workers : {2u, 3u, 7u, 20u, 51u, 52u, 77u, 128u, 300u}) {
    std::vector<double> phases;
    for (uint32_t i = 0; i < workers; ++i) {
      double p = tick_phase(i);
      ASSERT_GE(p, 0.0);
      ASSERT_LT(p, 1.0);
      phases.push_back(p);
    }
    std::sort(phases.begin(), phases.end());
    double widest = 1.0 - phases.back() + phases.front();
    for (size_t k = 1; k < phases.size(); ++k) widest = std::max(widest, phases[k] - phases[k - 1]);
    EXPECT_LT(widest, 2.0 / workers) << workers << " workers";
  }
}

TEST(TickGrid, NextTickIsOnTheGridAndNeverNow) {
  const int64_t period = 20;
  EXPECT_EQ(ns_to_next_tick(100, 105, period), 5);   // the grid's first point is still ahead
  EXPECT_EQ(ns_to_next_tick(105, 105, period), 20);  // due now: it has just run
  EXPECT_EQ(ns_to_next_tick(106, 105, period), 19);
  EXPECT_EQ(ns_to_next_tick(125, 105, period), 20);
  EXPECT_EQ(ns_to_next_tick(85, 105, period), 20);  // a whole period before the grid point
  EXPECT_EQ(ns_to_next_tick(84, 105, period), 1);
  // A late wake-up does not drift the grid: the next tick is back on it.
  for (int64_t now = 105; now < 300; now += 7) EXPECT_EQ((now + ns_to_next_tick(now, 105, period) - 105) % period, 0);
}

}  // namespace
}  // namespace c1m
