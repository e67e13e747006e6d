#include "core/plan/endpoints.hpp"

#include <gtest/gtest.h>

namespace c1m {

TEST(Ipv4, ParsesDottedQuads) {
  EXPECT_EQ(parse_ipv4("127.0.0.1").value().host_order, 0x7f000001u);
  EXPECT_EQ(parse_ipv4("198.18.0.2").value().str(), "198.18.0.2");
  EXPECT_EQ(parse_ipv4("255.255.255.255").value().host_order, 0xffffffffu);
}

TEST(Ipv4, RejectsNamesAndJunk) {
  for (const char* bad :
       {"", "localhost", "127.0.0", "127.0.0.1.1", "256.0.0.1", "1.2.3.-4", "1.2.3.4 ", "01234.1.1.1", "::1"})
    EXPECT_FALSE(parse_ipv4(bad).ok()) << bad;
}

TEST(AddressList, RangesAndLists) {
  auto r = parse_address_list("127.0.0.2-127.0.0.21");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().size(), 20u);
  EXPECT_EQ(r.value().front().str(), "127.0.0.2");
  EXPECT_EQ(r.value().back().str(), "127.0.0.21");
  auto l = parse_address_list("127.0.0.2,127.0.0.5-127.0.0.6");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l.value().size(), 3u);
  auto cross = parse_address_list("127.0.0.255-127.0.1.1");
  ASSERT_TRUE(cross.ok());
  EXPECT_EQ(cross.value().size(), 3u);
}

TEST(AddressList, RejectsReversedEmptyAndHuge) {
  EXPECT_NE(parse_address_list("127.0.0.21-127.0.0.2").error().find("reversed"), std::string::npos);
  EXPECT_FALSE(parse_address_list("").ok());
  EXPECT_FALSE(parse_address_list("127.0.0.1,").ok());
  EXPECT_FALSE(parse_address_list("10.0.0.0-10.255.255.255").ok());
}

TEST(EndpointList, PortRangesAddressRangesAndLists) {
  auto r = parse_endpoint_list("127.0.0.1:9000-9019");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().size(), 20u);
  EXPECT_EQ(r.value()[19].str(), "127.0.0.1:9019");
  auto m = parse_endpoint_list("198.18.0.2-198.18.0.3:9000,127.0.0.1:1");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m.value().size(), 3u);
  EXPECT_EQ(m.value()[1].str(), "198.18.0.3:9000");
}

TEST(EndpointList, RejectsBadPorts) {
  EXPECT_NE(parse_endpoint_list("127.0.0.1").error().find("no port"), std::string::npos);
  EXPECT_NE(parse_endpoint_list("127.0.0.1:70000").error().find("outside 1-65535"), std::string::npos);
  EXPECT_NE(parse_endpoint_list("127.0.0.1:0").error().find("outside"), std::string::npos);
  EXPECT_NE(parse_endpoint_list("127.0.0.1:9019-9000").error().find("reversed"), std::string::npos);
  EXPECT_NE(parse_endpoint_list("127.0.0.1:http").error().find("not a number"), std::string::npos);
  EXPECT_FALSE(parse_endpoint_list("127.0.0.1:").ok());
  EXPECT_FALSE(parse_endpoint_list("127.0.0.1:1-65535,127.0.0.2:1-65535").ok());  // > 65536 endpoints
}

TEST(HostNames, AreToldFromAddressesAndRanges) {
  for (const char* name : {"server", "client-1", "c1m_server.1", "localhost", "a", "db2.lab.example"})
    EXPECT_TRUE(is_host_name(name)) << name;
  for (const char* not_name : {"", "127.0.0.1", "127.0.0.2-127.0.0.21", "1-2", "serv er", "srv:9000", "héte"})
    EXPECT_FALSE(is_host_name(not_name)) << not_name;
}

TEST(HostNames, AreResolvedOnlyThroughTheResolverGiven) {
  // Without a resolver a name is refused, saying so: parsing alone never touches the network.
  EXPECT_NE(parse_endpoint_list("server:9000").error().find("is a host name"), std::string::npos);
  int lookups = 0;
  NameResolver fake = [&lookups](const std::string& name) -> Parsed<Ipv4> {
    ++lookups;
    if (name == "server") return {Ipv4{0xC6120002u}};  // 198.18.0.2
    return {"host name '" + name + "' does not resolve"};
  };
  auto eps = parse_endpoint_list("server:9000-9001,127.0.0.1:7", fake);
  ASSERT_TRUE(eps.ok()) << eps.error();
  ASSERT_EQ(eps.value().size(), 3u);
  EXPECT_EQ(eps.value()[0].str(), "198.18.0.2:9000");
  EXPECT_EQ(eps.value()[1].str(), "198.18.0.2:9001");
  EXPECT_EQ(eps.value()[2].str(), "127.0.0.1:7");
  EXPECT_EQ(lookups, 1);  // once a name, not once a port
  EXPECT_NE(parse_endpoint_list("nosuch:1", fake).error().find("'nosuch' does not resolve"), std::string::npos);
  EXPECT_EQ(parse_address_list("server,127.0.0.3", fake).value().size(), 2u);
}

TEST(LabAddress, LoopbackAndBenchmarkRangeOnly) {
  EXPECT_TRUE(is_lab_address(parse_ipv4("127.0.0.1").value()));
  EXPECT_TRUE(is_lab_address(parse_ipv4("127.255.0.9").value()));
  EXPECT_TRUE(is_lab_address(parse_ipv4("198.18.0.1").value()));
  EXPECT_TRUE(is_lab_address(parse_ipv4("198.19.255.254").value()));
  EXPECT_FALSE(is_lab_address(parse_ipv4("198.20.0.1").value()));
  EXPECT_FALSE(is_lab_address(parse_ipv4("198.17.255.255").value()));
  EXPECT_FALSE(is_lab_address(parse_ipv4("10.0.0.1").value()));
  EXPECT_FALSE(is_lab_address(parse_ipv4("8.8.8.8").value()));
}

}  // namespace c1m
