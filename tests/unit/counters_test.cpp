#include "core/plan/counters.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

namespace c1m {

TEST(ErrorClass, FromErrno) {
  EXPECT_EQ(classify_errno(EADDRNOTAVAIL), ErrorClass::eaddrnotavail);
  EXPECT_EQ(classify_errno(EMFILE), ErrorClass::emfile_enfile);
  EXPECT_EQ(classify_errno(ENFILE), ErrorClass::emfile_enfile);
  EXPECT_EQ(classify_errno(ECONNREFUSED), ErrorClass::econnrefused);
  EXPECT_EQ(classify_errno(ETIMEDOUT), ErrorClass::etimedout);
  EXPECT_EQ(classify_errno(ECONNRESET), ErrorClass::econnreset);
  EXPECT_EQ(classify_errno(EPIPE), ErrorClass::econnreset);
  EXPECT_EQ(classify_errno(EHOSTUNREACH), ErrorClass::other);
  EXPECT_STREQ(error_class_name(ErrorClass::emfile_enfile), "emfile_enfile");
}

TEST(ClientCounters, SumKeepsTheLastTimeAndNeverInventsOne) {
  ClientCounters a, b;
  a.quota = b.quota = 10;
  a.established = 10;
  b.established = 7;
  a.quota_reached_ns = 100;
  a.settled_ns = 100;
  b.settled_ns = 300;
  a.errors.add(ErrorClass::etimedout, 3);
  std::vector<ClientCounters> both{a, b};
  ClientCounters t = sum_counters<ClientCounters>(both);
  EXPECT_EQ(t.quota, 20u);
  EXPECT_EQ(t.established, 17u);
  EXPECT_EQ(t.quota_reached_ns, -1);  // b never reached its quota
  EXPECT_EQ(t.settled_ns, 300);       // the pool settled when its last worker did
  EXPECT_EQ(t.errors[ErrorClass::etimedout], 3u);
  EXPECT_EQ(t.errors.total(), 3u);
  b.quota_reached_ns = 250;
  both = {a, b};
  EXPECT_EQ(sum_counters<ClientCounters>(both).quota_reached_ns, 250);
}

TEST(ServerCounters, Sum) {
  ServerCounters a, b;
  a.connections = 5;
  b.connections = 6;
  b.errors.add(ErrorClass::emfile_enfile);
  std::vector<ServerCounters> both{a, b};
  auto t = sum_counters<ServerCounters>(both);
  EXPECT_EQ(t.connections, 11u);
  EXPECT_EQ(t.errors[ErrorClass::emfile_enfile], 1u);
  EXPECT_EQ(sum_counters<ServerCounters>(std::vector<ServerCounters>{}).connections, 0u);
}

}  // namespace c1m
