// WebSocket (RFC 6455) as c1m's client speaks it on a held connection, for core/proto/reply: the
// upgrade request (the greeting, answered by the server's 101), masked ping frames whose 16-byte
// payload is the echo frame (core/proto/echo), so a pong is matched to its ping with no buffer, and
// the server's frames read as they come in ReplyState's 8 bytes: its pongs, its pings (the client
// answers them: a server that checks its clients, as python-websockets does every 20 s, would close
// one that does not), its close frame, and data frames, let go.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/proto/http_reply.hpp"
#include "core/proto/reply.hpp"

namespace c1m::proto {

// The upgrade request for a connection: GET of the path with a Sec-WebSocket-Key of its own (made
// from the run's nonce, the worker and the connection); its size, or 0 when cap is too small.
size_t make_ws_upgrade(const PingText& text, uint32_t nonce, uint32_t worker, uint32_t conn, unsigned char* out,
                       size_t cap);
inline constexpr size_t kWsPingSize = 2 + 4 + 16;  // header, mask key, the echo frame
size_t make_ws_ping(uint32_t worker, uint32_t conn, uint32_t seq, unsigned char out[kWsPingSize]);
// The pong that answers a server's ping: its payload (at most 125 bytes) sent back, masked.
size_t make_ws_pong(const unsigned char* payload, size_t len, unsigned char* out, size_t cap);

// The server's frames after its 101 (ReplyState phases from kHttpPhaseEnd). `answered`: a pong to
// ping `seq`; `server_ping`: a ping whose payload is whole in these bytes (at payload_at); `closed`: a
// close frame, its code in status when it came with it. A pong to another ping, a data frame, a ping
// split across reads: taken and let go.
Read read_ws_frames(ReplyState& s, uint32_t worker, uint32_t conn, uint32_t seq, const unsigned char* data, size_t n);
// The state a connection's frames start from, once its 101 is read.
ReplyState ws_frames_start();

}  // namespace c1m::proto
