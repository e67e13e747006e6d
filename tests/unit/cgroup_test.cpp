// c1m meter's readings: where /proc/PID/cgroup says a process is accounted in either cgroup version
// (and on a host with both), what memory.stat and its neighbours say in each, version 1's TCP
// accounting that counts nothing until a limit is set, and the meter's account of a run from its
// samples (its ramp, its peak, its bytes a connection).
#include "core/host/cgroup.hpp"

#include <gtest/gtest.h>

#include "core/record/target_meter.hpp"

namespace c1m {
namespace {

using procfs::CgroupFiles;
using procfs::parse_proc_cgroup;

TEST(Cgroup, VersionOneNamesTheMemoryAndCpuacctHierarchies) {
  auto at = parse_proc_cgroup(
      "12:pids:/docker/abc\n5:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n");
  ASSERT_TRUE(at);
  EXPECT_EQ(at->version, 1);
  EXPECT_EQ(at->path, "/docker/abc");
  EXPECT_EQ(at->memory_dir, "/sys/fs/cgroup/memory/docker/abc");
  EXPECT_EQ(at->cpu_dir, "/sys/fs/cgroup/cpu,cpuacct/docker/abc");
  // This machine's layout: cpuacct in a hierarchy of its own, the root's cgroup is "/".
  auto root = parse_proc_cgroup("4:memory:/\n2:cpuacct:/\n0::/\n", "/x");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->memory_dir, "/x/memory");
  EXPECT_EQ(root->cpu_dir, "/x/cpuacct");
}

TEST(Cgroup, VersionTwoIsTheUnifiedLineAlone) {
  auto at = parse_proc_cgroup("0::/system.slice/docker-abc.scope\n");
  ASSERT_TRUE(at);
  EXPECT_EQ(at->version, 2);
  EXPECT_EQ(at->memory_dir, "/sys/fs/cgroup/system.slice/docker-abc.scope");
  EXPECT_EQ(at->cpu_dir, at->memory_dir);
  EXPECT_FALSE(parse_proc_cgroup("garbage\n1:pids\n"));
  EXPECT_FALSE(parse_proc_cgroup(""));
}

// --target-pid natively: a server's cgroup measures it alone only where it is neither the host's
// root nor the client's own.
TEST(Cgroup, AServersCgroupIsItsOwnOnlyApartFromTheRootAndTheClient) {
  auto service = parse_proc_cgroup("0::/system.slice/nginx.service\n");
  auto shell = parse_proc_cgroup("0::/user.slice/user-0.slice/session-1.scope\n");
  ASSERT_TRUE(service && shell);
  EXPECT_EQ(procfs::cgroup_not_its_own(*service, shell), "");
  EXPECT_EQ(procfs::cgroup_not_its_own(*service, std::nullopt), "");
  EXPECT_NE(procfs::cgroup_not_its_own(*shell, shell).find("shares this client's cgroup"), std::string::npos);
  auto root = parse_proc_cgroup("4:memory:/\n2:cpuacct:/\n");
  ASSERT_TRUE(root);
  EXPECT_NE(procfs::cgroup_not_its_own(*root, shell).find("root cgroup"), std::string::npos);
  // The same path in the other version is another hierarchy, not the client's cgroup.
  auto v1 = parse_proc_cgroup("4:memory:/system.slice/nginx.service\n");
  ASSERT_TRUE(v1);
  EXPECT_EQ(procfs::cgroup_not_its_own(*v1, service), "");
}

TEST(Cgroup, VersionOneUserKernelAndCpu) {
  CgroupFiles f;
  f.memory_usage = "50000000\n";
  f.memory_stat = "cache 1000\nrss 4096000\nrss_huge 2097152\ntotal_rss 9\n";
  f.kmem_usage = "30000000\n";
  f.kmem_tcp_usage = "0\n";
  f.kmem_tcp_limit = "9223372036854771712\n";  // unlimited: TCP buffers not counted
  f.cpu_usage = "123456789\n";
  f.cpu_usage_user = "23456789\n";
  auto u = procfs::cgroup_usage_of(1, f);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->memory_bytes, 50000000u);
  EXPECT_EQ(u->user_bytes, 4096000u + 2097152u);
  EXPECT_EQ(u->kernel_bytes, 30000000u);
  EXPECT_FALSE(u->socket_bytes) << "a 0 that means 'not counted' must not read as 'none'";
  EXPECT_EQ(u->cpu.total_ns, 123456789u);
  EXPECT_EQ(u->cpu.user_ns, 23456789u);
  f.kmem_tcp_limit = "1073741824\n";
  f.kmem_tcp_usage = "65536\n";
  EXPECT_EQ(procfs::cgroup_usage_of(1, f)->socket_bytes, 65536u);
  f.cpu_usage_user.reset();
  EXPECT_FALSE(procfs::cgroup_usage_of(1, f)->cpu.user_ns) << "a kernel without cpuacct.usage_user: not split";
  f.memory_stat.reset();
  EXPECT_FALSE(procfs::cgroup_usage_of(1, f)) << "a cgroup that has gone";
}

TEST(Cgroup, VersionTwoKernelFromItsOwnLineOrItsParts) {
  CgroupFiles f;
  f.memory_usage = "80000000";
  f.memory_stat = "anon 5000000\nfile 10\nkernel 7000000\nslab 1\nsock 4096\n";
  f.cpu_usage = "usage_usec 2500000\nuser_usec 1\nsystem_usec 2499999\n";
  auto u = procfs::cgroup_usage_of(2, f);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user_bytes, 5000000u);
  EXPECT_EQ(u->kernel_bytes, 7000000u);
  EXPECT_EQ(u->socket_bytes, 4096u);
  EXPECT_EQ(u->cpu.total_ns, 2500000000u);
  EXPECT_EQ(u->cpu.user_ns, 1000u);
  // Before 5.18 there is no "kernel" line: its parts are added.
  f.memory_stat = "anon 5000000\nslab 3000\nsock 100\nkernel_stack 20\npagetables 4\n";
  EXPECT_EQ(procfs::cgroup_usage_of(2, f)->kernel_bytes, 3124u);
}

TargetSample sample(int64_t s, uint64_t established, uint64_t user, uint64_t kernel, double cpu_s) {
  TargetSample t;
  t.mono_ns = s * 1'000'000'000;
  t.established = established;
  t.usage.user_bytes = user;
  t.usage.kernel_bytes = kernel;
  t.usage.cpu = {static_cast<uint64_t>(cpu_s * 1e9), static_cast<uint64_t>(cpu_s * 1e8)};  // a tenth in user mode
  return t;
}

TEST(TargetMeter, TheRampTheHoldAndTheBytesAConnection) {
  TargetMeter m(1000);
  m.add(sample(0, 2, 1'000'000, 5'000'000, 1.0));  // before: 2 of the host's own connections
  m.add(sample(1, 2, 1'000'000, 5'000'000, 1.1));  // the ramp starts after this one
  m.add(sample(2, 500, 1'200'000, 6'000'000, 1.6));
  m.add(sample(3, 1002, 1'500'000, 8'000'000, 2.1));  // all 1,000 in: the ramp ends
  m.add(sample(4, 1002, 1'500'000, 8'000'000, 2.2));
  m.add(sample(5, 2, 1'100'000, 5'100'000, 2.5));  // gone
  ServerStats r = m.report({{"listen", {"198.18.0.2:6379"}}});
  EXPECT_EQ(r.connections_peak, 1000u);
  EXPECT_EQ(r.connections, 0u);
  ASSERT_TRUE(r.ramp_cpu_seconds);
  EXPECT_NEAR(*r.ramp_cpu_seconds, 1.0, 1e-9);  // 2.1 - 1.1
  EXPECT_NEAR(r.ramp_cpu_user_seconds.value_or(-1), 0.1, 1e-9);
  EXPECT_NEAR(r.cpu_seconds, 1.5, 1e-9);
  ASSERT_TRUE(r.user_bytes_per_connection);
  EXPECT_DOUBLE_EQ(*r.user_bytes_per_connection, 500.0);
  ASSERT_TRUE(r.kernel_bytes_per_connection);
  EXPECT_DOUBLE_EQ(*r.kernel_bytes_per_connection, 3000.0);
  EXPECT_EQ(r.context["listen"][0], "198.18.0.2:6379");
  // It reads back as a server's stats, kernel bytes and all.
  auto back = server_stats_from_json(to_json(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kernel_bytes_per_connection, r.kernel_bytes_per_connection);
  EXPECT_EQ(back->ramp_cpu_user_seconds, r.ramp_cpu_user_seconds);
  EXPECT_EQ(m.readings()["at_peak"]["established"], 1002u);
}

TEST(TargetMeter, WithNothingExpectedTheRampEndsAtThePeak) {
  TargetMeter m(0);
  m.add(sample(0, 0, 100, 100, 0));
  m.add(sample(1, 40, 200, 100, 0.5));
  m.add(sample(2, 80, 300, 100, 0.9));
  m.add(sample(3, 60, 300, 100, 1.0));
  ServerStats r = m.report(nullptr);
  EXPECT_EQ(r.connections_peak, 80u);
  EXPECT_NEAR(r.ramp_cpu_seconds.value_or(-1), 0.9, 1e-9);
  EXPECT_DOUBLE_EQ(r.kernel_bytes_per_connection.value_or(-1), 0.0);
  TargetMeter none(0);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.report(nullptr).connections_peak, 0u);
  EXPECT_TRUE(none.readings().is_null());
}

}  // namespace
}  // namespace c1m

namespace c1m {
namespace {
// redis past maxclients: the refused are in its namespace's count between the kernel's handshake and
// redis's close, so the transient peak (31,517) is not what it held (19,968, steady).
TEST(TargetMeter, WhatItHeldIsTheSteadyCountNotTheTransientPeak) {
  TargetMeter m(40000);
  m.add(sample(0, 0, 1'000'000, 1'000'000, 0));
  m.add(sample(1, 31517, 9'000'000, 9'000'000, 0.5));
  m.add(sample(2, 19968, 5'992'000, 4'000'000, 0.6));
  m.add(sample(3, 19968, 5'992'000, 4'000'000, 0.6));
  m.add(sample(4, 0, 1'500'000, 1'100'000, 0.7));
  ServerStats r = m.report(nullptr);
  EXPECT_EQ(r.connections_peak, 19968u);
  EXPECT_DOUBLE_EQ(r.user_bytes_per_connection.value_or(-1), 250.0);
  EXPECT_NEAR(r.kernel_bytes_per_connection.value_or(-1), 150.24, 0.01);
  EXPECT_EQ(m.readings()["at_peak"]["established"], 31517u);
  EXPECT_EQ(m.readings()["held"]["established"], 19968u);
}
}  // namespace
}  // namespace c1m

namespace c1m {
namespace {
// nginx at 1M: the kernel's count is steady before its workers have accepted them all; the last
// reading of the plateau has what it keeps a connection. A plateau that wears away slowly does not
// carry the reading with it.
TEST(TargetMeter, TheLastReadingOfThePlateauIsWhatItHeld) {
  TargetMeter m(0);
  m.add(sample(0, 0, 0, 0, 0));
  m.add(sample(1, 10000, 0, 5'000'000, 1));
  m.add(sample(2, 10000, 0, 9'000'000, 2));   // steady: not yet all accepted
  m.add(sample(3, 10000, 0, 13'000'000, 3));  // all accepted: 1,300 B a connection
  m.add(sample(4, 9950, 0, 13'000'000, 4));   // still on the plateau
  ServerStats r = m.report(nullptr);
  EXPECT_EQ(r.connections_peak, 9950u);
  EXPECT_NEAR(r.kernel_bytes_per_connection.value_or(-1), 13'000'000.0 / 9950, 1e-6);
  for (uint64_t n = 9900, t = 5; n > 9000; n -= 90, ++t) m.add(sample(static_cast<int64_t>(t), n, 0, 13'000'000, 5));
  EXPECT_GE(m.report(nullptr).connections_peak, 9800u) << "a slow decline is not the plateau";
}
}  // namespace
}  // namespace c1m
