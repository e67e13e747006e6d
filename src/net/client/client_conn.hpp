// A client worker's table of its connections, indexed by fd: all the user memory a connection costs.
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/proto/reply.hpp"

namespace c1m::net {

enum class ConnState : uint8_t { free, connecting, handshaking, open };  // handshaking: --tls's, after the connect

// Trivial, so the table can come zeroed from calloc and its pages count only once connections use
// them. 24 bytes: what the client's memory a connection is made of (26-33 B measured at 1M with the
// 16-byte table before the protocols' 8 bytes of reply state came).
struct Conn {
  int64_t t_ns;  // connect start, then the outstanding ping's send time (0: none)
  uint32_t ping_seq;
  ConnState state;          // zero is ConnState::free
  uint8_t answered;         // 1 once a ping of it came back
  proto::ReplyState reply;  // where it is in the reply it waits for (core/proto/reply)
};
static_assert(std::is_trivial_v<Conn> && sizeof(Conn) == 24);

}  // namespace c1m::net
