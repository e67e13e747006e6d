#include "core/doctor.hpp"

#include <gtest/gtest.h>

namespace c1m {
namespace {
HostFacts roomy_host() {
  HostFacts f;
  f.mem_available_bytes = 24ull << 30;
  f.file_max = 2'466'170;
  f.files_allocated = 2'000;
  f.nofile_hard = 20'000;
  f.conntrack_max = 4'194'304;
  f.conntrack_count = 0;
  f.conntrack_buckets = 2'000'384;
  f.epoll_max_user_watches = 5'491'511;
  f.port_range = PortRange{1024, 65535};
  f.somaxconn = 65535;
  f.tcp_max_syn_backlog = 65535;
  f.tcp_migrate_req = 1;
  return f;
}
const Finding* find(const DoctorReport& r, const std::string& name) {
  for (const auto& f : r.findings)
    if (f.name == name) return &f;
  return nullptr;
}
}  // namespace

TEST(Doctor, ARoomyHostIsReadyAndSaysWhatLimitsIt) {
  auto r = diagnose(roomy_host(), 1'000'000, true);
  EXPECT_TRUE(r.ready);
  EXPECT_GE(r.max_connections, 1'000'000u);
  EXPECT_EQ(r.limited_by, "fs.file-max");  // (2,466,170 - 2,000) / 2 sockets
  EXPECT_EQ(r.max_connections, 1'232'085u);
}

TEST(Doctor, ConntrackFullIsAFailWithItsFix) {
  HostFacts f = roomy_host();
  f.conntrack_max = 262'144;
  auto r = diagnose(f, 1'000'000, true);
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.limited_by, "net.netfilter.nf_conntrack_max");
  EXPECT_EQ(r.max_connections, 262'144u);
  const Finding* c = find(r, "net.netfilter.nf_conntrack_max");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->ok);
  EXPECT_NE(c->fix.find("sysctl -w net.netfilter.nf_conntrack_max="), std::string::npos);
}

TEST(Doctor, MemoryLimitsASmallHost) {
  HostFacts f = roomy_host();
  f.mem_available_bytes = 4ull << 30;
  auto r = diagnose(f, 1'000'000, true);
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.limited_by, "memory");
  EXPECT_LT(r.max_connections, 400'000u);
  // One side only costs half: the same host holds twice as many.
  EXPECT_EQ(diagnose(f, 1'000'000, false).max_connections, r.max_connections * 2);
}

TEST(Doctor, AdviceNeverBlocks) {
  HostFacts f = roomy_host();
  f.somaxconn = 4096;
  f.tcp_migrate_req = 0;
  auto r = diagnose(f, 1'000'000, true);
  EXPECT_TRUE(r.ready);
  EXPECT_FALSE(find(r, "net.core.somaxconn")->ok);
  EXPECT_FALSE(find(r, "net.ipv4.tcp_migrate_req")->limits);
}

TEST(Doctor, TuningAsksOnlyForWhatIsShort) {
  HostFacts f = roomy_host();
  f.conntrack_max = 262'144;
  f.somaxconn = 4096;
  f.port_range = PortRange{32768, 60999};
  auto t = tuning_for(f, 1'000'000, true);
  std::map<std::string, std::string> m(t.begin(), t.end());
  EXPECT_EQ(m["net.netfilter.nf_conntrack_max"], "1200000");
  EXPECT_EQ(m["net.core.somaxconn"], "65535");
  EXPECT_EQ(m["net.ipv4.ip_local_port_range"], "1024 65535");
  EXPECT_FALSE(m.count("fs.file-max"));
  EXPECT_FALSE(m.count("net.ipv4.tcp_migrate_req"));
  EXPECT_FALSE(m.count("net.netfilter.nf_conntrack_buckets"));
}

// The kernel's default table (262,144 buckets) holds 1M tracked connections, but as chains of 4-8
// that every SYN walks: advice, and host-tune sizes it.
TEST(Doctor, ASmallConntrackTableIsAdviceAndTuned) {
  HostFacts f = roomy_host();
  f.conntrack_buckets = 262'144;
  auto r = diagnose(f, 1'000'000, true);
  EXPECT_TRUE(r.ready);
  const Finding* b = find(r, "net.netfilter.nf_conntrack_buckets");
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(b->ok);
  EXPECT_FALSE(b->limits);
  auto t = tuning_for(f, 1'000'000, true);
  std::map<std::string, std::string> m(t.begin(), t.end());
  EXPECT_EQ(m["net.netfilter.nf_conntrack_buckets"], "2000000");
  auto one_side = tuning_for(f, 1'000'000, false);
  std::map<std::string, std::string> m1(one_side.begin(), one_side.end());
  EXPECT_EQ(m1["net.netfilter.nf_conntrack_buckets"], "1000000");
}

}  // namespace c1m
