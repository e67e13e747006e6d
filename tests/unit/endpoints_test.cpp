#include "core/endpoints.hpp"

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
