// The client's configuration from its flags, on hosts made up for the test: resolve() reads nothing itself.
#include <gtest/gtest.h>

#include "core/plan/client_config.hpp"
#include "core/usage.hpp"

namespace c1m {
namespace {

HostProbe a_host() {
  HostProbe h;
  h.bind_error = [](Ipv4) { return std::string(); };
  h.route_source = [](const Endpoint&) { return std::optional<Ipv4>(Ipv4{0x7f000001}); };
  h.write_error = [](const std::string&) { return std::string(); };
  h.ephemeral_ports = PortRange{1024, 65535};
  h.nofile = 20000;
  h.random = 7;
  h.hostname = "client-3";
  return h;
}

std::string refusal(const ClientOptions& o, const HostProbe& h = a_host()) {
  try {
    resolve(o, h);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(ClientConfig, SizesWorkersFromTheOpenFilesLimitItIsGiven) {
  ClientOptions o;
  o.connections = "1m";
  o.source = "127.0.0.2-127.0.0.21";
  ClientConfig c = resolve(o, a_host());
  EXPECT_EQ(c.capacity, 19900u);
  EXPECT_EQ(c.workers, 51u);  // ceil(1,000,000 / 19,900)
  EXPECT_EQ(c.in_flight_per_worker, kDefaultInFlightPerWorker);
  EXPECT_EQ(c.approach, "multi-ip");  // 20 sources, the one default target
  HostProbe tight = a_host();
  tight.nofile = 1100;
  EXPECT_EQ(resolve(o, tight).workers, 1000u);
}

TEST(ClientConfig, TakesHostNamesAndGuardsWhatTheyResolveTo) {
  HostProbe h = a_host();
  h.resolve = [](const std::string& name) -> Parsed<Ipv4> {
    if (name == "server") return {Ipv4{0xC6120002u}};     // 198.18.0.2: the lab range
    if (name == "collector") return {Ipv4{0xC6120003u}};  // 198.18.0.3
    if (name == "elsewhere") return {Ipv4{0x0A000001u}};  // 10.0.0.1: not the lab's
    return {"host name '" + name + "' does not resolve to an IPv4 address: Name or service not known"};
  };
  ClientOptions o;
  o.connections = "100";
  o.target = "server:9000";
  o.server_stats = "server:9100";
  o.report_to = "collector:9200";
  o.run_id = "0123456789abcdef";
  ClientConfig c = resolve(o, h);
  EXPECT_EQ(c.plan.targets.at(0).str(), "198.18.0.2:9000");
  EXPECT_EQ(c.server_stats->str(), "198.18.0.2:9100");
  EXPECT_EQ(c.report_to->str(), "198.18.0.3:9200");

  o.target = "elsewhere:9000";
  EXPECT_EQ(refusal(o, h),
            "--target 10.0.0.1:9000 (resolved from 'elsewhere:9000'): not loopback (127.0.0.0/8) or the lab range "
            "(198.18.0.0/15); pass --allow-any-target to load a host you own");
  o.target = "nosuch:9000";
  EXPECT_EQ(
      refusal(o, h),
      "--target 'nosuch:9000': host name 'nosuch' does not resolve to an IPv4 address: Name or service not known");
}

TEST(ClientConfig, NamesTheApproachFromTheLayout) {
  ClientOptions o;
  o.source = "127.0.0.2-127.0.0.21";
  o.target = "127.0.0.1:9000";
  EXPECT_EQ(resolve(o, a_host()).approach, "multi-ip");
  o.source = "127.0.0.2";
  o.target = "127.0.0.1:9000-9019";
  EXPECT_EQ(resolve(o, a_host()).approach, "multi-port");
}

TEST(ClientConfig, RefusesWhatThisHostCannotDo) {
  ClientOptions o;
  HostProbe h = a_host();
  h.bind_error = [](Ipv4 ip) {
    return ip.str() == "127.0.0.9" ? std::string("Cannot assign requested address") : std::string();
  };
  o.source = "127.0.0.9";
  EXPECT_EQ(refusal(o, h), "--source 127.0.0.9: cannot bind to it here: Cannot assign requested address");
  o = {};
  o.json = "/records/{hostname}.json";
  h.write_error = [](const std::string& dir) {
    return dir == "/records" ? std::string("Permission denied") : std::string();
  };
  EXPECT_EQ(refusal(o, h), "--json /records/client-3.json: directory /records is not writable: Permission denied");
  o = {};
  o.connections = "100k";
  o.target = "127.0.0.1:9000";
  o.source = "127.0.0.2";
  h = a_host();
  h.ephemeral_ports = PortRange{32768, 60999};  // 28,232 ports for one pair
  EXPECT_NE(refusal(o, h).find("--connections 100k: "), std::string::npos) << refusal(o, h);
}

TEST(ClientConfig, RefusesBadFlagsWithTheFlagAndTheValue) {
  auto with = [](auto set) {
    ClientOptions o;
    set(o);
    return refusal(o);
  };
  EXPECT_EQ(with([](ClientOptions& o) { o.target = "10.0.0.1:80"; }),
            "--target 10.0.0.1:80: not loopback (127.0.0.0/8) or the lab range (198.18.0.0/15); pass "
            "--allow-any-target to load a host you own");
  EXPECT_EQ(with([](ClientOptions& o) { o.target = "127.0.0.1:9000,127.0.0.1:9000"; }),
            "--target lists 127.0.0.1:9000 twice");
  EXPECT_EQ(with([](ClientOptions& o) { o.connections = "0"; }), "--connections must be at least 1");
  EXPECT_EQ(with([](ClientOptions& o) { o.ping_interval = "5ms"; }),
            "--ping-interval '5ms': must be 0 (off) or at least 10ms");
  EXPECT_EQ(with([](ClientOptions& o) { o.ramp_timeout = "0"; }), "--ramp-timeout '0': must be at least 1s");
  EXPECT_EQ(with([](ClientOptions& o) { o.hold_until_server = "5"; }),
            "--hold-until-server needs --server-stats, to read the server's count");
  EXPECT_NE(with([](ClientOptions& o) { o.rate = "fast"; }).find("--rate 'fast'"), std::string::npos);
  EXPECT_EQ(with([](ClientOptions& o) { o.server_stats = "127.0.0.1:1-2"; }),
            "--server-stats '127.0.0.1:1-2': expected one ADDRESS:PORT, got 2");
}

TEST(ClientConfig, PlansPortsFromTheKernelsRangeOrLeavesThemToIt) {
  ClientOptions o;
  ClientConfig c = resolve(o, a_host());
  ASSERT_TRUE(c.port_range.has_value());
  EXPECT_TRUE(c.plan.explicit_ports);
  EXPECT_EQ(c.plan.port_offset, 7u);
  ASSERT_EQ(c.plan.sources.size(), 1u);  // the route's own address, bound explicitly
  EXPECT_EQ(c.plan.sources[0].str(), "127.0.0.1");
  HostProbe unknown = a_host();
  unknown.ephemeral_ports.reset();
  ClientConfig k = resolve(o, unknown);
  EXPECT_FALSE(k.port_range.has_value());
  EXPECT_FALSE(k.plan.explicit_ports);
}

TEST(ClientConfig, WarnsWhenConnectionTrackingHasNoRoom) {
  ClientOptions o;
  o.connections = "300k";
  o.source = "127.0.0.2-127.0.0.21";
  HostProbe h = a_host();
  h.conntrack_max = 262144;
  h.conntrack_count = 1000;
  ClientConfig c = resolve(o, h);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("room for 261144 more connections"), std::string::npos) << c.warnings[0];
  h.conntrack_max.reset();
  EXPECT_TRUE(resolve(o, h).warnings.empty());
}

}  // namespace
}  // namespace c1m
