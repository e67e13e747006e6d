#include "core/host/doctor.hpp"

#include <gtest/gtest.h>

#include <algorithm>

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
RunShape native_pairs(uint64_t n, uint64_t pairs) {
  RunShape s;
  s.connections = n;
  s.both_ends_here = true;
  s.pairs = pairs;
  return s;
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
  EXPECT_EQ(r.limited_by, "fs.file-max");  // (2,466,170 - 2,000) / 2 sockets, less the 2% margin
  EXPECT_EQ(r.max_connections, 1'207'443u);
}

TEST(Doctor, ConntrackFullIsAFailWithItsFix) {
  HostFacts f = roomy_host();
  f.conntrack_max = 262'144;
  auto r = diagnose(f, 1'000'000, true);
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.limited_by, "net.netfilter.nf_conntrack_max");
  // 262,144 less one stats poller's connection (and one it may leave in TIME_WAIT) and 64 for admin, less 2%.
  EXPECT_EQ(r.max_connections, static_cast<uint64_t>((262'144 - 2 - 64) * 0.98));
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
  EXPECT_NEAR(static_cast<double>(diagnose(f, 1'000'000, false).max_connections),
              static_cast<double>(r.max_connections * 2), 1.0);
}

TEST(Doctor, TlsAddsItsStateToEachConnectionsMemory) {
  HostFacts f = roomy_host();
  f.mem_available_bytes = 24ull << 30;
  RunShape plain = native_pairs(2'000'000, 1000), keys = plain, library = plain;
  keys.tls = "keys";
  library.tls = "library";
  auto held = [&](const RunShape& s) { return diagnose(f, s).findings; };
  auto memory_need = [&](const RunShape& s) {
    for (const auto& x : held(s))
      if (x.name == "memory") return x.need;
    return std::string();
  };
  EXPECT_NE(memory_need(plain).find("(10600 B kernel memory per connection)"), std::string::npos) << memory_need(plain);
  EXPECT_NE(memory_need(keys).find("11000 B a connection: kernel memory and 400 B of TLS state"), std::string::npos)
      << memory_need(keys);
  EXPECT_NE(memory_need(library).find("24800 B a connection: kernel memory and 14200 B of TLS state"),
            std::string::npos)
      << memory_need(library);
  // A server keeping the library's object holds fewer on the same memory.
  EXPECT_LT(diagnose(f, library).max_connections, diagnose(f, keys).max_connections);
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

// Sharing the host's TCP table (262,144 buckets, set at boot), a 1M lab's two million sockets make
// chains of 8 that every packet walks: advice for the lab, tuned for a namespace of its own each.
TEST(Doctor, TheLabsContainersGetTcpTablesOfTheirOwn) {
  HostFacts f = roomy_host();
  f.tcp_ehash_entries = 262'144;
  f.tcp_child_ehash_entries = 0;
  RunShape lab = native_pairs(1'000'000, 20);
  lab.in_containers = true;
  auto r = diagnose(f, lab);
  EXPECT_TRUE(r.ready);
  const Finding* e = find(r, "net.ipv4.tcp_child_ehash_entries");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->ok);
  EXPECT_FALSE(e->limits);
  EXPECT_EQ(e->have, "0 (the containers share the host's 262144 buckets)");
  EXPECT_EQ(e->fix, "sysctl -w net.ipv4.tcp_child_ehash_entries=1048576");
  EXPECT_EQ(find(diagnose(f, native_pairs(1'000'000, 20)), "net.ipv4.tcp_child_ehash_entries"), nullptr)
      << "natively no namespace is made: nothing to say";
  auto t = tuning_for(f, 1'000'000, true);
  std::map<std::string, std::string> m(t.begin(), t.end());
  EXPECT_EQ(m["net.ipv4.tcp_child_ehash_entries"], "1048576");
  f.tcp_child_ehash_entries.reset();  // a kernel before 6.1: no such setting, nothing asked
  EXPECT_EQ(find(diagnose(f, lab), "net.ipv4.tcp_child_ehash_entries"), nullptr);
  std::vector<std::pair<std::string, std::string>> old = tuning_for(f, 1'000'000, true);
  EXPECT_TRUE(
      std::none_of(old.begin(), old.end(), [](const auto& c) { return c.first.find("ehash") != std::string::npos; }));
  EXPECT_EQ(child_ehash_entries_for(250'000), 262'144u);
  EXPECT_EQ(child_ehash_entries_for(1), 128u);
  EXPECT_EQ(child_ehash_entries_for(uint64_t{1} << 30), uint64_t{1} << 24);
}

// The stock host of the first-contact issue: lab-up asked for 262,140 (the whole table) and the
// server's namespace filled, for the stats polls and admin traffic share it (each poll was a new
// connection then). The lab's shape counts them: 20 pollers, 64 for admin, then the 2% margin.
TEST(Doctor, TheLabOnAStockHostLeavesRoomForPollsAndAMargin) {
  HostFacts f = roomy_host();
  f.conntrack_max = 262'144;
  f.conntrack_count = 900;  // the host's own entries: in the lab they are in another namespace
  f.port_range = PortRange{32768, 60999};
  RunShape lab{1'000'000, true, true, 20, PortRange{1024, 65535}, 20, false, ""};
  auto r = diagnose(f, lab);
  EXPECT_EQ(r.limited_by, "net.netfilter.nf_conntrack_max");
  EXPECT_EQ(r.max_connections, static_cast<uint64_t>((262'144 - 20 * 2 - 64) * 0.98));
  EXPECT_LT(r.max_connections, 262'144u - 5'000);
  // The host's own range is not the clients': each container sets 1024-65535 for itself.
  EXPECT_TRUE(find(r, "net.ipv4.ip_local_port_range")->ok);
  // So are the accept and SYN queues: compose sets them in the server's container.
  EXPECT_EQ(find(r, "net.core.somaxconn"), nullptr);
  // Natively the host's entries share the namespace, and one poller.
  RunShape native{1'000'000, true, false, 20, std::nullopt, 1, false, ""};
  EXPECT_EQ(diagnose(f, native).max_connections, static_cast<uint64_t>((262'144 - 900 - 2 - 64) * 0.98));
}

// C1M_CONNTRACK=off: the lab's namespaces track nothing, so the table's size limits nothing.
TEST(Doctor, AnUntrackedLabIsNotLimitedByTheConntrackTable) {
  HostFacts f = roomy_host();
  f.conntrack_max = 262'144;
  f.conntrack_buckets = 262'144;
  RunShape lab{1'000'000, true, true, 20, PortRange{1024, 65535}, 20, true, ""};
  auto r = diagnose(f, lab);
  EXPECT_NE(r.limited_by, "net.netfilter.nf_conntrack_max");
  EXPECT_GT(r.max_connections, 1'000'000u);
  EXPECT_TRUE(r.ready);
  EXPECT_TRUE(find(r, "net.netfilter.nf_conntrack_max")->ok);
  EXPECT_EQ(find(r, "net.netfilter.nf_conntrack_buckets"), nullptr);  // no advice on a table nobody uses
}

TEST(Doctor, PortsCountThePlansPairsNotAlwaysTwenty) {
  HostFacts f = roomy_host();
  f.port_range = PortRange{32768, 60999};  // 28,232 ports
  auto one_pair = diagnose(f, native_pairs(100'000, 1));
  EXPECT_EQ(one_pair.limited_by, "net.ipv4.ip_local_port_range");
  EXPECT_EQ(one_pair.max_connections, static_cast<uint64_t>(28'232 * 0.98));
  EXPECT_FALSE(one_pair.ready);
  auto twenty = diagnose(f, native_pairs(100'000, 20));
  EXPECT_TRUE(twenty.ready);
  EXPECT_NE(find(twenty, "net.ipv4.ip_local_port_range")->need.find("over 20 pairs"), std::string::npos);
}

}  // namespace c1m
