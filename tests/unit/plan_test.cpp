#include "core/plan/plan.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace c1m {
namespace {
ConnectPlan plan_of(const char* sources, const char* targets, uint64_t n) {
  ConnectPlan p;
  if (*sources) p.sources = parse_address_list(sources).value();
  p.targets = parse_endpoint_list(targets).value();
  p.connections = n;
  return p;
}
}  // namespace

TEST(Workers, SizedFromTheRealLimit) {
  EXPECT_EQ(worker_capacity(20000), 19900u);
  EXPECT_EQ(workers_needed(1'000'000, worker_capacity(20000)), 51u);     // the design notes' "about 51"
  EXPECT_EQ(workers_needed(1'000'000, worker_capacity(1'048'576)), 1u);  // Docker's usual nofile
  EXPECT_EQ(workers_needed(1'000'000, 19900, 1.10), 56u);
  EXPECT_EQ(workers_needed(0, 19900), 1u);
  EXPECT_GE(worker_capacity(150), 1u);  // a tiny limit still gives a usable worker
}

TEST(SplitEvenly, SharesDifferByAtMostOne) {
  auto s = split_evenly(1'000'000, 51);
  uint64_t sum = 0;
  for (auto v : s) {
    sum += v;
    EXPECT_TRUE(v == 19607 || v == 19608);
  }
  EXPECT_EQ(sum, 1'000'000u);
}

// The ports a taken one falls back to: none that a connection is planned on, none that two workers
// share, every unplanned port of the range used, and 0 once a worker's are gone.
TEST(Plan, SparePortsAreTheUnplannedOnesEachWorkerItsOwn) {
  auto p = plan_of("127.0.0.2", "127.0.0.1:9000-9001", 1800);  // 900 a pair
  p.ports = PortRange{40000, 40999};
  p.port_offset = 777;
  std::set<uint16_t> planned, spares;
  for (uint64_t i = 0; i < p.connections; ++i) planned.insert(p.source_port_of(i));
  ASSERT_EQ(planned.size(), 900u);
  const uint32_t workers = 3;
  for (uint32_t w = 0; w < workers; ++w) {
    uint64_t k = 0;
    for (uint16_t port; (port = p.spare_port(w, workers, k)) != 0; ++k) {
      EXPECT_GE(port, 40000);
      EXPECT_LE(port, 40999);
      EXPECT_EQ(planned.count(port), 0u) << port;
      EXPECT_TRUE(spares.insert(port).second) << "worker " << w << " shares " << port;
    }
    EXPECT_GE(k, 33u);  // 100 spare ports over 3 workers
  }
  EXPECT_EQ(spares.size(), 100u);
  EXPECT_EQ(p.spare_port(0, workers, 1000), 0);
  p.explicit_ports = false;  // the kernel picks every port: nothing is planned, nothing spare
  EXPECT_EQ(p.spare_port(0, workers, 0), 0);
  auto full = plan_of("127.0.0.2", "127.0.0.1:9000", 1000);
  full.ports = PortRange{40000, 40999};  // every port planned
  EXPECT_EQ(full.spare_port(0, 1, 0), 0);
}

TEST(Plan, SpreadsEvenlyOverPairs) {
  auto p = plan_of("127.0.0.2-127.0.0.21", "127.0.0.1:9000", 1000);
  EXPECT_EQ(p.pair_count(), 20u);
  EXPECT_EQ(p.max_per_pair(), 50u);
  std::map<std::pair<long, size_t>, int> per_pair;
  for (uint64_t i = 0; i < 1000; ++i) per_pair[p.pair_of(i)]++;
  EXPECT_EQ(per_pair.size(), 20u);
  for (auto& [pair, count] : per_pair) EXPECT_EQ(count, 50);
}

TEST(Plan, NoSourceMeansTheKernelPicks) {
  auto p = plan_of("", "127.0.0.1:9000-9019", 40);
  EXPECT_EQ(p.pair_count(), 20u);
  EXPECT_EQ(p.pair_of(3).first, -1);
  EXPECT_EQ(p.pair_of(3).second, 3u);
}

TEST(Plan, PlannedSourcePortsAreUniquePerPair) {
  auto p = plan_of("127.0.0.2", "127.0.0.1:9000-9019", 60000);
  p.ports = {1024, 65535};
  p.port_offset = 64000;  // wraps around the end of the range
  std::set<std::pair<size_t, uint16_t>> seen;
  for (uint64_t i = 0; i < p.connections; ++i) {
    uint16_t port = p.source_port_of(i);
    ASSERT_GE(port, 1024);
    EXPECT_TRUE(seen.insert({p.pair_of(i).second, port}).second) << "port " << port << " reused for the same target";
  }
  p.explicit_ports = false;
  EXPECT_EQ(p.source_port_of(5), 0);
}

// With no server on the target, a source port that is the target's own, from its own address,
// connects the socket to itself: 5 client runs in 400 did so, to a refused port on 127.0.0.1.
TEST(Plan, APortThatIsTheTargetItselfIsNamed) {
  auto p = plan_of("127.0.0.1-127.0.0.2", "127.0.0.1:40000", 4);
  EXPECT_TRUE(p.is_target_itself(0, 0, 40000));
  EXPECT_FALSE(p.is_target_itself(0, 0, 40001));
  EXPECT_FALSE(p.is_target_itself(1, 0, 40000));  // another address
  EXPECT_TRUE(p.is_target_itself(-1, 0, 40000));  // the kernel's address may be the target's
  EXPECT_FALSE(p.is_target_itself(-1, 0, 0));     // port 0: the kernel's pick, not the plan's
}

TEST(Plan, PortCapacityRefusedUpFrontWithTheFix) {
  auto p = plan_of("127.0.0.2", "127.0.0.1:9000", 1'000'000);
  std::string why = check_port_capacity(p, {32768, 60999});
  EXPECT_NE(why.find("1000000 connections over 1"), std::string::npos) << why;
  EXPECT_NE(why.find("28232"), std::string::npos) << why;
  EXPECT_NE(why.find("--source"), std::string::npos) << why;
  auto ok = plan_of("127.0.0.2-127.0.0.21", "127.0.0.1:9000", 1'000'000);
  EXPECT_EQ(check_port_capacity(ok, {1024, 65535}), "");
  EXPECT_NE(check_port_capacity(ok, {32768, 60999}), "");  // 50,000 per pair > 28,232
}

TEST(Plan, PortRangeParsing) {
  EXPECT_EQ(parse_port_range("32768\t60999")->size(), 28232u);
  EXPECT_EQ(parse_port_range("1024 65535")->low, 1024u);
  EXPECT_FALSE(parse_port_range("60999 32768").has_value());
  EXPECT_FALSE(parse_port_range("junk").has_value());
}

}  // namespace c1m
