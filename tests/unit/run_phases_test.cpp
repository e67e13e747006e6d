// Every way a client run moves between its phases or ends, as rows: what the run sees at each step,
// and what RunPhases decides.
#include "core/plan/run_phases.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace c1m {
namespace {

constexpr int64_t kS = 1'000'000'000;

PhaseRules rules() {
  PhaseRules r;
  r.target = 100;
  r.ramp_timeout_ns = 60 * kS;
  r.ramp_timeout_text = "60s";
  r.stall_timeout_ns = 10 * kS;
  r.hold_ns = 5 * kS;
  return r;
}

// One step: the time, what the run sees then, and what must be decided.
struct Step {
  double t_s;
  std::function<void(RunView&)> sees;
  std::string expect;  // "", "hold", "live", "complete", or "failed:<text in the reason>"
  Decision::Evidence evidence = Decision::Evidence::none;
  const char* shown = nullptr;  // the phase a watcher sees after the step, when checked
};

struct Row {
  const char* name;
  std::function<void(PhaseRules&)> rules;
  std::vector<Step> steps;
};

auto ramping(uint64_t established) {
  return [=](RunView& v) { v.established = v.connected_total = established; };
}
auto settled(uint64_t established, uint64_t errors = 0) {
  return [=](RunView& v) {
    v.established = v.connected_total = established;
    v.errors = errors;
    v.settled = true;
    v.quota_reached = established == 100;
  };
}
auto erring(uint64_t established, uint64_t errors) {
  return [=](RunView& v) {
    v.established = v.connected_total = established;
    v.attempted = established + errors;
    v.errors = errors;
  };
}
auto slo_over(uint64_t established, uint32_t seconds) {
  return [=](RunView& v) {
    ramping(established)(v);
    v.slo_over_s = seconds;
  };
}
auto server_at(uint64_t peak, bool silent = false) {
  return [=](RunView& v) {
    settled(100)(v);
    v.server_peak = peak;
    v.server_silent = silent;
    v.server_answered_ns = silent ? 0 : static_cast<int64_t>(v.now_ns);
    v.server_error = silent ? "connect: refused" : "";
  };
}
auto none = [](PhaseRules&) {};
using E = Decision::Evidence;

const std::vector<Row>& table() {
  static const std::vector<Row> rows = {
      {"a settled ramp is held for --hold, then complete",
       none,
       {{0, ramping(50), "", E::none, "ramp"},
        {1, settled(100), "hold", E::none, "hold"},
        {5.9, settled(100), ""},
        {6, settled(100), "complete", E::none}}},
      {"a ramp that adds nothing for the stall timeout stops with the stall's evidence",
       none,
       {{0, ramping(10), ""}, {9.9, ramping(10), ""}, {10, ramping(10), "failed:no connection added for", E::stall}}},
      {"progress restarts the stall clock",
       none,
       {{0, ramping(10), ""}, {9, ramping(20), ""}, {18.9, ramping(20), ""}, {19, ramping(20), "failed:", E::stall}}},
      {"a ramp that settles with nothing fails", none, {{1, settled(0), "failed:nothing to hold", E::shortfall}}},
      {"a ramp that never settles fails at the ramp timeout",
       [](PhaseRules& r) { r.stall_timeout_ns = 0; },
       {{0, ramping(10), ""},
        {60, ramping(10), ""},
        {60.1, ramping(10), "failed:did not settle within 60s", E::shortfall}}},
      {"errors in the hold fail it, with the shortfall",
       none,
       {{1, settled(100, 3), "hold"}, {6, settled(100, 3), "failed:", E::shortfall}}},
      {"a short share fails at the hold's end",
       none,
       {{1, settled(90), "hold"}, {6, settled(90), "failed:", E::shortfall}}},
      {"a complete hold goes live, then completes after --live",
       [](PhaseRules& r) { r.live_ns = 30 * kS; },
       {{1, settled(100), "hold"},
        {6, settled(100), "live", E::none, "live"},
        {35.9, settled(100), ""},
        {36, settled(100), "complete"}}},
      {"errors in the live hold fail it",
       [](PhaseRules& r) { r.live_ns = 30 * kS; },
       {{1, settled(100), "hold"}, {6, settled(100), "live"}, {36, settled(100, 1), "failed:", E::shortfall}}},
      {"the hold's clock waits for the server's whole target",
       [](PhaseRules& r) { r.hold_until_server = 1000; },
       {{1, server_at(500), "hold", E::none, "wait"},
        {3, server_at(1000), "", E::none, "hold"},
        {7.9, server_at(1000), ""},
        {8, server_at(1000), "complete"}}},
      {"a client that settled short: the server can never hold the target",
       [](PhaseRules& r) { r.hold_until_server = 1000; },
       {{1, settled(90), "failed:this client settled at 90 of its 100", E::stall}}},
      {"a server that adds none for the stall timeout",
       [](PhaseRules& r) { r.hold_until_server = 1000; },
       {{1, server_at(500), "hold"},
        {10.9, server_at(500), ""},
        {11, server_at(500), "failed:the server holds 500 of 1,000 and added none", E::stall}}},
      {"a server that grows keeps the wait alive",
       [](PhaseRules& r) { r.hold_until_server = 1000; },
       {{1, server_at(500), "hold"},
        {10, server_at(600), ""},
        {19.9, server_at(600), ""},
        {20, server_at(600), "failed:", E::stall}}},
      {"a silent server: three stall timeouts, and its error is said",
       [](PhaseRules& r) { r.hold_until_server = 1000; },
       {{1, server_at(0, true), "hold"},
        {30.9, server_at(0, true), ""},
        {31, server_at(0, true), "failed:(connect: refused), at 0 of 1,000", E::stall}}},
      {"with no stall timeout a silent server is bounded by the ramp timeout",
       [](PhaseRules& r) {
         r.hold_until_server = 1000;
         r.stall_timeout_ns = 0;
       },
       {{1, server_at(0, true), "hold"}, {60, server_at(0, true), ""}, {60.1, server_at(0, true), "complete"}}},
      {"--find-limit: sustained errors stop the ramp; what it reached is held, and complete",
       [](PhaseRules& r) { r.find_limit = true; },
       {{0, erring(40, 9), ""},  // 9 errors: below the 10 that are sustained
        {1, erring(40, 10), "stop_ramp"},
        {2, erring(40, 30), ""},  // more errors as the ramp winds down: found already
        {3, settled(40, 60), "hold"},
        {8, settled(40, 60), "complete"}}},
      {"--find-limit: a stall is the limit too, not a failure",
       [](PhaseRules& r) { r.find_limit = true; },
       {{0, ramping(70), ""},
        {10, ramping(70), "stop_ramp"},
        {11, settled(70), "hold"},
        {16, settled(70), "complete"}}},
      {"--find-limit: a ramp that reaches the target found no limit below it, and goes live",
       [](PhaseRules& r) {
         r.find_limit = true;
         r.live_ns = 10 * kS;
       },
       {{1, settled(100), "hold"}, {6, settled(100, 2), "live"}, {16, settled(100, 2), "complete"}}},
      {"--find-limit with --slo-p99: three seconds over it in a row stop the ramp",
       [](PhaseRules& r) {
         r.find_limit = true;
         r.slo_p99_ns = 50'000'000;
         r.slo_p99_text = "50ms";
       },
       {{0, slo_over(40, 2), ""},
        {1, slo_over(60, 3), "stop_ramp"},
        {2, settled(60), "hold"},
        {7, settled(60), "complete"}}},
      {"--find-limit: nothing held is still a failure",
       [](PhaseRules& r) { r.find_limit = true; },
       {{0, erring(0, 50), "stop_ramp"}, {1, settled(0, 100), "failed:nothing to hold", E::shortfall}}},
      {"--find-limit, one client of many: the others filled the server first, a finding with 0 held",
       [](PhaseRules& r) {
         r.find_limit = true;
         r.one_of_many = true;
       },
       {{0, erring(0, 50), "stop_ramp"}, {1, settled(0, 100), "hold"}, {6, settled(0, 100), "complete"}}},
      {"--find-limit, one client of many: nothing held and no limit found is still a failure",
       [](PhaseRules& r) {
         r.find_limit = true;
         r.one_of_many = true;
       },
       {{1, settled(0), "failed:nothing to hold", E::shortfall}}},
      {"--find-limit, one client of many: all connected, then all refused in the hold, is a limit found",
       [](PhaseRules& r) {
         r.find_limit = true;
         r.one_of_many = true;
       },
       {{1, settled(100), "hold"}, {2, settled(0, 100), ""}, {6, settled(0, 100), "complete"}}},
  };
  return rows;
}

std::string outcome(const Decision& d) {
  switch (d.action) {
    case Decision::Action::go_live:
      return "live";
    case Decision::Action::stop_ramp:
      return "stop_ramp";
    case Decision::Action::finish:
      return d.status == "complete" ? "complete" : "failed:" + d.reason;
    case Decision::Action::none:
      break;
  }
  return d.entered_hold ? "hold" : "";
}

}  // namespace

TEST(RunPhases, EveryRowDecidesAsItSays) {
  for (const Row& row : table()) {
    SCOPED_TRACE(row.name);
    PhaseRules r = rules();
    row.rules(r);
    RunPhases phases(r, 0);
    for (const Step& s : row.steps) {
      SCOPED_TRACE("at " + std::to_string(s.t_s) + " s");
      RunView v;
      v.now_ns = static_cast<int64_t>(s.t_s * kS);
      s.sees(v);
      Decision d = phases.step(v);
      std::string got = outcome(d);
      if (s.expect.starts_with("failed:")) {
        ASSERT_TRUE(got.starts_with("failed:")) << got;
        EXPECT_NE(got.find(s.expect.substr(7)), std::string::npos) << got;
      } else {
        ASSERT_EQ(got, s.expect);
      }
      EXPECT_EQ(d.evidence, s.evidence);
      if (s.shown) {
        EXPECT_STREQ(phases.shown_name(), s.shown);
      }
      if (d.action == Decision::Action::finish) phases.stop();
    }
    EXPECT_EQ(phases.phase(), Phase::stopping) << "every row ends its run";
  }
}

TEST(RunPhases, FindLimitSaysWhatEndedTheRamp) {
  PhaseRules r = rules();
  r.find_limit = true;
  RunPhases by_errors(r, 0);
  RunView v;
  v.now_ns = kS;
  v.established = v.connected_total = 40, v.attempted = 60, v.errors = 20;
  EXPECT_EQ(by_errors.step(v).action, Decision::Action::stop_ramp);
  EXPECT_EQ(by_errors.limit(), "errors");
  RunPhases by_stall(r, 0);
  v.errors = 0;
  v.now_ns = 0;
  by_stall.step(v);  // 40 added by now; none in the 10 s to come
  v.now_ns = 10 * kS;
  EXPECT_EQ(by_stall.step(v).action, Decision::Action::stop_ramp);
  EXPECT_EQ(by_stall.limit(), "no connection added for 10.00s");
  r.find_limit = false;
  RunPhases without(r, 0);
  v.errors = 20, v.now_ns = kS;
  EXPECT_EQ(without.step(v).action, Decision::Action::none);
  EXPECT_EQ(without.limit(), "");
}

TEST(RunPhases, AStoppedRunDecidesNothing) {
  RunPhases phases(rules(), 0);
  phases.stop();
  RunView v;
  v.now_ns = 100 * kS;
  settled(0)(v);
  Decision d = phases.step(v);
  EXPECT_EQ(d.action, Decision::Action::none);
  EXPECT_STREQ(phases.name(), "stop");
}

TEST(RunPhases, TheServerMustHaveHeldTheClientsShareByItsOwnCount) {
  EXPECT_FALSE(server_never_held(100, 100, 5 * kS, 6 * kS));
  EXPECT_FALSE(server_never_held(100, 0, 0, 6 * kS)) << "a server that never answered says nothing";
  auto why = server_never_held(100, 40, 5 * kS, 6 * kS);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("never reached this client's 100 (its peak: 40, in its last answer 1.00s ago)"),
            std::string::npos)
      << *why;
}

}  // namespace c1m
