// --find-limit's answer as a sentence: what the target held and what bound it, for each cause.
#include "core/plan/limit_found.hpp"

#include <gtest/gtest.h>

#include "core/plan/run_phases.hpp"

namespace c1m {
namespace {

ErrorCounts counts(std::initializer_list<std::pair<ErrorClass, uint64_t>> by) {
  ErrorCounts e;
  for (auto [c, n] : by) e.add(c, n);
  return e;
}

TEST(LimitFound, TheClassThatCountedMostIsWhatBound) {
  LimitFound f = describe_limit("errors", counts({{ErrorClass::refused, 200}, {ErrorClass::econnreset, 3}}), 100, 300,
                                "redis 7.0.15", "");
  EXPECT_EQ(f.bound_by, "refused");
  EXPECT_EQ(f.count, 200u);
  EXPECT_EQ(f.held, 100u);
  EXPECT_EQ(f.line,
            "redis 7.0.15 held 100 of the 300 asked: the server said no in its protocol (200 refused: a full "
            "server's error, a refusal code, an upgrade declined)");
  EXPECT_EQ(limit_json(f)["bound_by"], "refused");
}

TEST(LimitFound, AStallSaysTheSilentLimitItRead) {
  LimitFound f = describe_limit("no connection added for 10.00s", counts({}), 262144, 1000000, "127.0.0.1:9000",
                                "conntrack full in this client's network namespace");
  EXPECT_EQ(f.bound_by, "stall");
  EXPECT_NE(f.line.find("held 262,144 of the 1,000,000 asked: it stalled, no connection added for 10.00s; conntrack"),
            std::string::npos)
      << f.line;
}

TEST(LimitFound, TheClientsOwnLimitsAreNamedAsTheClients) {
  LimitFound f =
      describe_limit("errors", counts({{ErrorClass::eaddrnotavail, 5000}}), 28000, 100000, "nginx/1.22.1", "");
  EXPECT_NE(f.line.find("the limit found is the client's"), std::string::npos) << f.line;
}

TEST(LimitFound, TheLatencyObjectiveIsALimitOfItsOwn) {
  LimitFound f = describe_limit("ping p99 over 50.00ms for 3 s", counts({}), 42000, 100000, "nginx/1.22.1", "");
  EXPECT_EQ(f.bound_by, "slo");
  EXPECT_EQ(f.line,
            "nginx/1.22.1 held 42,000 of the 100,000 asked: the latency objective, ping p99 over 50.00ms for 3 s");
}

TEST(LimitFound, ReachingTheCeilingFindsNoLimitBelowIt) {
  LimitFound f = describe_limit("", counts({}), 300, 300, "nginx/1.22.1", "");
  EXPECT_EQ(f.bound_by, "none");
  EXPECT_NE(f.line.find("no limit below that"), std::string::npos);
  // Errors after the ramp (the server closing idle connections) still say what bound the hold.
  f = describe_limit("", counts({{ErrorClass::peer_closed, 120}}), 180, 300, "nginx/1.22.1", "");
  EXPECT_EQ(f.line, "nginx/1.22.1 held 180 of the 300 asked: the server closed 120 connections");
}

TEST(LimitFound, ErrorsAreSustainedAtOnePercentAndAtLeastTen) {
  EXPECT_EQ(sustained_errors(0), 10u);
  EXPECT_EQ(sustained_errors(999), 10u);
  EXPECT_EQ(sustained_errors(1'000'000), 10'000u);
}

}  // namespace
}  // namespace c1m
