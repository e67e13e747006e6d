// The echo protocol as c1m's client speaks it on a held connection: a ping is a 16-byte frame (a
// magic, the worker, the connection and a sequence number) and the server sends it back unchanged.
// The client keeps only the sequence number and how many bytes of the echo it has matched; what it
// expects is made again from those, so a connection costs no buffer.
#pragma once
#include <cstddef>
#include <cstdint>

namespace c1m::proto {

inline constexpr size_t kEchoFrameSize = 16;

void echo_frame(uint32_t worker, uint32_t conn, uint32_t seq, unsigned char out[kEchoFrameSize]);

// Bytes of an echo as they come, `seen` of the expected frame matched before them: the count matched
// now (kEchoFrameSize: the whole echo is back), or -1 when they are not the frame's next bytes.
int echo_match(uint32_t worker, uint32_t conn, uint32_t seq, uint8_t seen, const unsigned char* got, size_t n);

}  // namespace c1m::proto
