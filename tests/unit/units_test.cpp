#include "core/units.hpp"

#include <gtest/gtest.h>

namespace c1m {

TEST(ParseCount, PlainAndSuffixed) {
  EXPECT_EQ(parse_count("1000000").value(), 1000000u);
  EXPECT_EQ(parse_count("50k").value(), 50000u);
  EXPECT_EQ(parse_count("1m").value(), 1000000u);
  EXPECT_EQ(parse_count("1.5M").value(), 1500000u);
  EXPECT_EQ(parse_count("2g").value(), 2000000000u);
  EXPECT_EQ(parse_count("0").value(), 0u);
}

TEST(ParseCount, RejectsJunkWithAReason) {
  for (const char* bad : {"", "k", "-5", "5x", "1.5", "1e6", "10 k", "0x10", "1..2"}) {
    auto r = parse_count(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_FALSE(r.error().empty()) << bad;
    }
  }
  EXPECT_NE(parse_count("5x").error().find("suffix"), std::string::npos);
  EXPECT_FALSE(parse_count("999999999g").ok());
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(parse_duration_ns("30s").value(), 30'000'000'000);
  EXPECT_EQ(parse_duration_ns("30").value(), 30'000'000'000);
  EXPECT_EQ(parse_duration_ns("500ms").value(), 500'000'000);
  EXPECT_EQ(parse_duration_ns("2m").value(), 120'000'000'000);
  EXPECT_EQ(parse_duration_ns("1h").value(), 3600'000'000'000);
  EXPECT_EQ(parse_duration_ns("1.5s").value(), 1'500'000'000);
  EXPECT_EQ(parse_duration_ns("0").value(), 0);
}

TEST(ParseDuration, Rejects) {
  for (const char* bad : {"", "s", "3q", "-1s", "1d", "100000h"}) EXPECT_FALSE(parse_duration_ns(bad).ok()) << bad;
}

TEST(ParseFraction, PercentAndPlain) {
  EXPECT_DOUBLE_EQ(parse_fraction("10%").value(), 0.10);
  EXPECT_DOUBLE_EQ(parse_fraction("0.25").value(), 0.25);
  EXPECT_FALSE(parse_fraction("ten").ok());
  EXPECT_FALSE(parse_fraction("10%%").ok());
}

TEST(Format, PeopleUnits) {
  EXPECT_EQ(format_count(1234567), "1.23M");
  EXPECT_EQ(format_count(50000), "50.0k");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_duration_ns(1'500'000'000), "1.50s");
  EXPECT_EQ(format_duration_ns(2'500'000), "2.5ms");
}

}  // namespace c1m
