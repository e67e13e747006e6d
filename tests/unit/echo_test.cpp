// The echo protocol's frame: what a ping is, and which bytes may come back for it.
#include "core/proto/echo.hpp"

#include <gtest/gtest.h>

namespace c1m::proto {

TEST(Echo, OnlyThePingsOwnFrameMatchesInPiecesAsTheyCome) {
  unsigned char f[kEchoFrameSize];
  echo_frame(3, 42, 7, f);
  EXPECT_EQ(echo_match(3, 42, 7, 0, f, kEchoFrameSize), 16) << "the whole echo at once";
  EXPECT_EQ(echo_match(3, 42, 7, 0, f, 5), 5);
  EXPECT_EQ(echo_match(3, 42, 7, 5, f + 5, 11), 16) << "the rest of it later";
  EXPECT_EQ(echo_match(3, 42, 7, 5, f, 11), -1) << "the start again is not its next bytes";
  EXPECT_EQ(echo_match(3, 42, 8, 0, f, kEchoFrameSize), -1) << "an earlier ping's echo";
  EXPECT_EQ(echo_match(3, 43, 7, 0, f, kEchoFrameSize), -1) << "another connection's";
  EXPECT_EQ(echo_match(4, 42, 7, 0, f, kEchoFrameSize), -1) << "another worker's";
  unsigned char more[kEchoFrameSize + 1] = {};
  std::copy(f, f + kEchoFrameSize, more);
  EXPECT_EQ(echo_match(3, 42, 7, 0, more, sizeof more), -1) << "more than a frame is a bad echo";
}

}  // namespace c1m::proto
