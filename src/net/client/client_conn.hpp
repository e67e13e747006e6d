// A client worker's table of its connections, indexed by fd: all the user memory a connection costs.
#pragma once
#include <cstdint>
#include <type_traits>

namespace c1m::net {

enum class ConnState : uint8_t { free, connecting, open };

// Trivial, so the table can come zeroed from calloc and its pages count only once connections use
// them. 16 bytes: what the client's memory a connection (14-36 B measured) is made of.
struct Conn {
  int64_t t_ns;  // connect start, then the outstanding ping's send time (0: none)
  uint32_t ping_seq;
  ConnState state;        // zero is ConnState::free
  uint8_t echo_received;  // bytes of the current echo seen so far
  uint8_t answered;       // 1 once a ping of it came back
};
static_assert(std::is_trivial_v<Conn> && sizeof(Conn) == 16);

}  // namespace c1m::net
