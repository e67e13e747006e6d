// HTTP/1.1 responses read a byte at a time in ReplyState's 8 bytes, for core/proto/reply: the
// answer to an http ping, and the answer to a WebSocket upgrade (its 101, or the status that
// refused it).
#pragma once
#include <cstddef>

#include "core/proto/reply.hpp"

namespace c1m::proto {

// The ReplyState phases of an HTTP response all lie below this; a protocol that reads something
// else after one (WebSocket's frames) numbers its own phases from here.
inline constexpr uint8_t kHttpPhaseEnd = 32;

// `upgrade`: the response to a WebSocket upgrade. It ends with its headers: a 101 is answered, any
// other status is the server saying no (refused, with the status).
Read read_http(ReplyState& s, bool upgrade, const unsigned char* data, size_t n);
// Whether the response being read has no length and so ends with the connection.
bool http_reads_to_close(const ReplyState& s);

// What a reader returns when `used` bytes were not a reply its protocol allows.
inline Read bad_at(size_t used) { return Read{Read::Verdict::bad, used, 0, false}; }

}  // namespace c1m::proto
