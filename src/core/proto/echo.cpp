#include "core/proto/echo.hpp"

#include <cstring>

namespace c1m::proto {

void echo_frame(uint32_t worker, uint32_t conn, uint32_t seq, unsigned char out[kEchoFrameSize]) {
  uint32_t words[4] = {0x314d3143u /* "C1M1" */, worker, conn, seq};
  std::memcpy(out, words, kEchoFrameSize);
}

int echo_match(uint32_t worker, uint32_t conn, uint32_t seq, uint8_t seen, const unsigned char* got, size_t n) {
  if (seen + n > kEchoFrameSize) return -1;
  unsigned char expected[kEchoFrameSize];
  echo_frame(worker, conn, seq, expected);
  if (std::memcmp(got, expected + seen, n) != 0) return -1;
  return static_cast<int>(seen + n);
}

}  // namespace c1m::proto
