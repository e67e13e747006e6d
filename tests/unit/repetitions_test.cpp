// --repeat's one record from many repetitions.
#include <gtest/gtest.h>

#include "core/record/repetitions.hpp"

namespace c1m {
namespace {

using ojson = nlohmann::ordered_json;

ojson repetition(const char* status, double ttt, ojson reason = nullptr) {
  return {{"status", status},
          {"reason", reason},
          {"started_at", "2026-11-25T03:00:00.000Z"},
          {"config", {{"connections", 1000}}},
          {"results", {{"time_to_target_s", ttt}, {"connect_rate_per_s", 1000 / ttt}}}};
}

TEST(Repetitions, OneIsTheRecordItself) {
  ojson r = repetition("complete", 2.0);
  EXPECT_EQ(merge_repetitions({r}, 1, false), r);
  EXPECT_TRUE(merge_repetitions({}, 3, false).is_null());
}

TEST(Repetitions, KeepsEveryRepetitionsComparedFigures) {
  ojson m = merge_repetitions({repetition("complete", 2.0), repetition("complete", 3.0), repetition("complete", 4.0)},
                              3, false);
  EXPECT_EQ(m["status"], "complete");
  EXPECT_TRUE(m["reason"].is_null());
  EXPECT_EQ(m["config"]["repeat"], 3);
  ASSERT_EQ(m["repetitions"].size(), 3u);
  EXPECT_EQ(m["repetitions"][1]["repetition"], 2);
  EXPECT_EQ(m["repetitions"][1]["time_to_target_s"], 3.0);
  EXPECT_EQ(m["results"]["time_to_target_s"], 4.0);  // the last repetition's record carries them
}

TEST(Repetitions, TheWorstStatusWinsAndSaysWhich) {
  // A failed repetition with no reason (null) is named by its status.
  ojson m = merge_repetitions(
      {repetition("complete", 2.0), repetition("failed", 3.0), repetition("failed", 3.0, "3 errors")}, 3, false);
  EXPECT_EQ(m["status"], "failed");
  EXPECT_EQ(m["reason"], "repetition 2: failed; repetition 3: 3 errors");
  ojson i = merge_repetitions(
      {repetition("failed", 2.0, "x"), repetition("interrupted", 3.0, "SIGINT during the ramp")}, 3, false);
  EXPECT_EQ(i["status"], "interrupted");
  EXPECT_EQ(i["reason"], "repetition 1: x; repetition 2: SIGINT during the ramp; 2 of 3 repetitions ran");
}

TEST(Repetitions, AStopBetweenRepetitionsIsAnInterruptedSeries) {
  ojson m = merge_repetitions({repetition("complete", 2.0)}, 3, true);
  EXPECT_EQ(m["status"], "interrupted");
  EXPECT_EQ(m["reason"], "1 of 3 repetitions ran");
}

}  // namespace
}  // namespace c1m
