#include "core/host/shortfall.hpp"

#include <gtest/gtest.h>

namespace c1m {
namespace {

TEST(Record, ShortfallNamesErrorsAndKernelHints) {
  ClientCounters t;
  t.quota = 100;
  t.established_peak = 60;
  t.errors.add(ErrorClass::etimedout, 40);
  std::string why = explain_shortfall(t, {{"ListenOverflows", 12}, {"SyncookiesSent", 0}});
  EXPECT_NE(why.find("60 of 100 established"), std::string::npos) << why;
  EXPECT_NE(why.find("40 etimedout"), std::string::npos) << why;
  EXPECT_NE(why.find("ListenOverflows +12"), std::string::npos) << why;
  EXPECT_EQ(why.find("Syncookies"), std::string::npos) << why;
}

TEST(Shortfall, AFullConntrackTableIsNamedWithWhereAndTheNumbers) {
  // The stock host of the first-contact issue: the server's namespace full, the client's not.
  std::vector<NamespaceReading> r = {{"the server's network namespace", 262144, 262144},
                                     {"this client's network namespace", 13107, 262144}};
  std::string why = silent_limit_reached(r);
  EXPECT_NE(why.find("conntrack table of the server's network namespace full: 262,144 of 262,144"), std::string::npos)
      << why;
  EXPECT_NE(why.find("make host-tune"), std::string::npos) << why;
  EXPECT_EQ(why.find("client"), std::string::npos) << why;
}

TEST(Shortfall, ATableJustUnderItsCapIsFullAndOneWithRoomIsNot) {
  EXPECT_TRUE(conntrack_full({"x", 261000, 262144}));  // entries time out and are taken again at once
  EXPECT_FALSE(conntrack_full({"x", 250000, 262144}));
  EXPECT_FALSE(conntrack_full({"x", std::nullopt, 262144}));  // not readable: not a verdict
  EXPECT_FALSE(conntrack_full({"x", 0, 0}));
  EXPECT_EQ(silent_limit_reached({{"x", 100, 262144}}), "");
}

}  // namespace
}  // namespace c1m
