#include "core/host/procfs.hpp"

#include <gtest/gtest.h>

namespace c1m::procfs {
namespace {
std::string fixture(const std::string& name) {
  auto t = read_text(std::string(C1M_FIXTURES) + "/proc/" + name);
  if (!t) ADD_FAILURE() << "missing fixture " << name;
  return t.value_or("");
}
}  // namespace

// The fixtures were copied from a 2-core VM (kernel 6.18) holding about 180,000 loopback connections.
TEST(Procfs, SlabinfoHasTheSocketCaches) {
  auto caches = parse_slabinfo(fixture("slabinfo"));
  ASSERT_TRUE(caches.count("TCP"));
  EXPECT_EQ(caches["TCP"].active_objs, 365378u);
  EXPECT_EQ(caches["TCP"].objsize_bytes, 2368u);
  EXPECT_EQ(caches["sock_inode_cache"].objsize_bytes, 832u);
  EXPECT_EQ(caches["eventpoll_epi"].objsize_bytes, 128u);
  EXPECT_EQ(caches["filp"].num_objs, 365421u);
  EXPECT_FALSE(caches.count("slabinfo"));
  EXPECT_FALSE(caches.count("#"));
}

TEST(Procfs, SockstatCountsTcp) {
  auto s = parse_sockstat(fixture("sockstat"));
  EXPECT_EQ(s["TCP.inuse"], 372458u);
  EXPECT_EQ(s["TCP.alloc"], 372473u);
  EXPECT_EQ(s["TCP.tw"], 0u);
  EXPECT_EQ(s["sockets.used"], 372496u);
  EXPECT_EQ(s["FRAG.memory"], 0u);
}

TEST(Procfs, NetstatPairsHeadersWithValues) {
  auto n = parse_netstat(fixture("netstat"));
  for (const char* key : {"TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPSynRetrans",
                          "TcpExt.SyncookiesSent", "TcpExt.TCPAbortOnMemory", "IpExt.InOctets"})
    EXPECT_TRUE(n.count(key)) << key;
}

TEST(Procfs, NetstatIgnoresMismatchedLines) {
  auto n = parse_netstat("TcpExt: A B\nTcpExt: 1\nIpExt: C\nIpExt: 7\n");
  EXPECT_FALSE(n.count("TcpExt.A"));
  EXPECT_EQ(n["IpExt.C"], 7u);
}

TEST(Procfs, MeminfoInBytes) {
  auto m = parse_meminfo(fixture("meminfo"));
  ASSERT_TRUE(m.count("Slab"));
  EXPECT_GT(m["Slab"], 1000000000u);  // about 1.9 GB while holding the connections
  EXPECT_GT(m["MemTotal"], 20ull << 30);
  EXPECT_EQ(parse_meminfo("HugePages_Total:       0\n")["HugePages_Total"], 0u);  // no unit: not scaled
}

TEST(Procfs, StatmRss) {
  EXPECT_EQ(parse_statm_rss_bytes(fixture("statm"), 4096).value(), 440u * 4096);
  EXPECT_FALSE(parse_statm_rss_bytes("", 4096).has_value());
  EXPECT_EQ(parse_statm_anon_bytes(fixture("statm"), 4096).value(), (440u - 411u) * 4096);
  EXPECT_FALSE(parse_statm_anon_bytes("765 440", 4096).has_value());
}

TEST(Procfs, StatCpuSurvivesParenthesesInTheName) {
  std::string stat = "123 (c1m (worker) x) S 1 1 1 0 -1 4194304 0 0 0 0 150 50 0 0 20 0 1 0 100 0 0";
  auto cpu = parse_stat_cpu(stat, 100);
  ASSERT_TRUE(cpu.has_value());
  EXPECT_EQ(cpu->total_ns, 2'000'000'000u);  // (150 + 50) / 100 s
  EXPECT_EQ(cpu->user_ns, 1'500'000'000u);   // utime alone
  EXPECT_FALSE(parse_stat_cpu("garbage", 100).has_value());
}

TEST(Procfs, CpuTimeDifferencesKeepTheUserPartOnlyWhereBothReadingsHaveIt) {
  CpuTime later{5'000, 2'000}, earlier{1'000, 500};
  CpuTime d = later.since(earlier);
  EXPECT_EQ(d.total_ns, 4'000u);
  EXPECT_EQ(d.user_ns, 1'500u);
  EXPECT_FALSE(later.since(CpuTime{1'000, std::nullopt}).user_ns.has_value());
  EXPECT_EQ(earlier.since(later).total_ns, 0u);  // a reading that went back (a process gone) is no time
  CpuTime sum{1, 1};
  sum += CpuTime{2, std::nullopt};
  EXPECT_EQ(sum.total_ns, 3u);
  EXPECT_FALSE(sum.user_ns.has_value());  // part of the sum is unsplit: its user part is unknown
}

TEST(Procfs, MachineCpuAsTheFloorProbeReadsIt) {
  // user nice system idle iowait irq softirq steal guest guest_nice, in ticks of 1/100 s
  auto cpu = parse_machine_cpu("cpu  1000 20 300 90000 50 6 70 800 0 0\ncpu0 500 10 150 45000 25 3 35 400 0 0\n", 100);
  ASSERT_TRUE(cpu.has_value());
  EXPECT_EQ(cpu->busy_ns, 13'960'000'000u);  // (1000 + 20 + 300 + 6 + 70) / 100 s: idle and iowait apart
  EXPECT_EQ(cpu->steal_ns, 8'000'000'000u);
  EXPECT_FALSE(parse_machine_cpu("cpu0 1 2 3 4 5 6 7 8\n", 100).has_value());  // not the all-cores line
  EXPECT_FALSE(parse_machine_cpu("cpu 1 2 3\n", 100).has_value());
  EXPECT_FALSE(parse_machine_cpu("", 100).has_value());
  EXPECT_EQ(cpu->idle_ns, 900'500'000'000u);  // idle and iowait
  EXPECT_EQ(cpu->cpus, 1u);
  EXPECT_TRUE(machine_cpu().has_value());  // this host's
}

// Busy cores over a window as wall time less idle and steal, which the kernel keeps exactly, where
// the busy fields are charged a tick at a time and miss short wake-ups; but the ticks where idle and
// steal overlap and leave less than they charged.
TEST(Procfs, BusyCoresCountWhatTheTicksMissAndNoLessThanTheyCharged) {
  MachineCpu a{100'000'000'000, 1'000'000'000, 500'000'000'000, 2};
  // 10 s of two cores: 4 s idle, 1 s stolen, so 1.5 cores busy, where the busy fields say 0.8.
  MachineCpu b{a.busy_ns + 8'000'000'000, a.steal_ns + 1'000'000'000, a.idle_ns + 4'000'000'000, 2};
  EXPECT_DOUBLE_EQ(busy_cores(a, b, 10.0), 1.5);
  // 19.5 s idle and 1 s stolen in 20 s of cores, 0.3 s charged busy: wall less both is nothing, the
  // ticks say 0.03 cores.
  MachineCpu overlapping{a.busy_ns + 300'000'000, a.steal_ns + 1'000'000'000, a.idle_ns + 19'500'000'000, 2};
  EXPECT_DOUBLE_EQ(busy_cores(a, overlapping, 10.0), 0.03);
  MachineCpu all_idle{a.busy_ns, a.steal_ns, a.idle_ns + 25'000'000'000, 2};  // more idle than wall: 0, not less
  EXPECT_DOUBLE_EQ(busy_cores(a, all_idle, 10.0), 0.0);
  EXPECT_DOUBLE_EQ(busy_cores(b, a, 10.0), 0.0);  // readings out of order: nothing, not a wrap
  MachineCpu saturated{a.busy_ns + 30'000'000'000, a.steal_ns, a.idle_ns, 2};  // never more than every core
  EXPECT_DOUBLE_EQ(busy_cores(a, saturated, 10.0), 2.0);
  EXPECT_DOUBLE_EQ(busy_cores(a, b, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(steal_cores(a, b, 10.0), 0.1);
  EXPECT_DOUBLE_EQ(steal_cores(b, a, 10.0), 0.0);  // readings out of order: nothing, not a wrap
  EXPECT_DOUBLE_EQ(steal_cores(a, b, 0.0), 0.0);
  auto two = parse_machine_cpu("cpu  1 2 3 4 5 6 7 8\ncpu0 1 1 1 1 1 1 1 1\ncpu1 0 1 2 3 4 5 6 7\nintr 5\n", 100);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->cpus, 2u);
}

TEST(Procfs, SnapshotOfAFixtureTree) {
  // A /proc laid out like the real one, from the fixtures.
  std::string root = std::string(C1M_FIXTURES) + "/proc-tree";
  auto s = take_kernel_snapshot(SlabDetail::with_caches, root);
  ASSERT_TRUE(s.slab_bytes.has_value());
  EXPECT_TRUE(s.slabinfo_readable);
  EXPECT_EQ(s.caches.size(), 5u);
  EXPECT_EQ(s.sockstat["TCP.inuse"], 372458u);
  EXPECT_EQ(s.tcpext.size(), 5u);
  // A full table, as a stock host's server namespace had it (the issue's first-contact run).
  EXPECT_EQ(s.conntrack_count, 262144u);
  EXPECT_EQ(s.conntrack_max, 262144u);
  auto light = take_kernel_snapshot(SlabDetail::without_caches, root);
  EXPECT_TRUE(light.caches.empty());
  EXPECT_FALSE(light.slabinfo_readable);
}

TEST(Procfs, NoConnectionTrackingMeansNoConntrackFigures) {
  // /proc/sys/net/netfilter is absent where the module is not loaded: not measured, not zero.
  auto s = take_kernel_snapshot(SlabDetail::without_caches, std::string(C1M_FIXTURES) + "/proc");
  EXPECT_FALSE(s.conntrack_count.has_value());
  EXPECT_FALSE(s.conntrack_max.has_value());
}

}  // namespace c1m::procfs
