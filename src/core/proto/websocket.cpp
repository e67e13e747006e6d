#include "core/proto/websocket.hpp"

#include <algorithm>
#include <cstring>

#include "core/proto/echo.hpp"

namespace c1m::proto {
namespace {

using Verdict = Read::Verdict;

enum Phase : uint8_t {
  head0 = kHttpPhaseEnd,  // FIN, RSV, opcode
  head1,                  // MASK, the 7-bit length
  ext_length,             // 2 or 8 bytes of length to come (aux)
  payload,                // `left` bytes
};
enum Opcode : uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };
// status: the frame's opcode in the low 4 bits; whether a pong's payload still matches the echo frame.
constexpr uint16_t kOpcodeMask = 0xf, kPongMatches = 1u << 4;

// A mask key a frame of its own: the RFC asks for unpredictable keys against proxies that cache what
// a browser's page sends; a load generator's frames need only differ.
uint32_t mask_key(uint32_t worker, uint32_t conn, uint32_t seq) {
  uint32_t x = worker * 0x9e3779b9u ^ conn * 0x85ebca6bu ^ seq * 0xc2b2ae35u;
  x ^= x >> 16;
  return x | 1u;  // never all zeros
}

size_t put_masked(unsigned char* out, const unsigned char* payload, size_t len, uint32_t key) {
  const unsigned char k[4] = {static_cast<unsigned char>(key >> 24), static_cast<unsigned char>(key >> 16),
                              static_cast<unsigned char>(key >> 8), static_cast<unsigned char>(key)};
  std::memcpy(out, k, 4);
  for (size_t i = 0; i < len; ++i) out[4 + i] = payload[i] ^ k[i % 4];
  return 4 + len;
}

size_t base64(const unsigned char* in, size_t n, char* out) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = static_cast<uint32_t>(in[i]) << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[o++] = kAlphabet[v >> 18 & 63];
    out[o++] = kAlphabet[v >> 12 & 63];
    out[o++] = i + 1 < n ? kAlphabet[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? kAlphabet[v & 63] : '=';
  }
  return o;
}

Read at(Verdict v, size_t used, uint16_t status = 0) { return Read{v, used, status, v == Verdict::closed}; }

// The header is read: what its payload is, and what can be said before reading it.
enum class Start { read_payload, frame_done, said };
Start start_payload(ReplyState& s, const unsigned char* data, size_t i, size_t n, Read& said) {
  const uint8_t op = s.status & kOpcodeMask;
  if (op == close) {  // the server ends the connection: its code, when it came with the header
    uint16_t code = s.left >= 2 && n - i >= 2 ? static_cast<uint16_t>(data[i] << 8 | data[i + 1]) : 0;
    said = at(Verdict::closed, n, code);
    return Start::said;
  }
  if (op == ping && n - i >= s.left) {  // whole here: the caller sends it back in a pong
    said = at(Verdict::server_ping, i + s.left);
    said.payload_at = i;
    said.payload_len = static_cast<uint8_t>(s.left);
    s = ws_frames_start();
    return Start::said;
  }
  if (op == pong && s.left == kEchoFrameSize) s.status |= kPongMatches;
  s.aux = 0;
  if (s.left == 0) return Start::frame_done;
  s.phase = payload;
  return Start::read_payload;
}

}  // namespace

ReplyState ws_frames_start() { return ReplyState{0, 0, head0, 0}; }

size_t make_ws_upgrade(const PingText& text, uint32_t nonce, uint32_t worker, uint32_t conn, unsigned char* out,
                       size_t cap) {
  unsigned char key[16] = {'c', '1', 'm', ' '};
  for (int b = 0; b < 4; ++b) {
    key[4 + b] = static_cast<unsigned char>(nonce >> (8 * b));
    key[8 + b] = static_cast<unsigned char>(worker >> (8 * b));
    key[12 + b] = static_cast<unsigned char>(conn >> (8 * b));
  }
  char encoded[24];
  base64(key, sizeof key, encoded);
  const std::string& head = text.ws_upgrade_head;  // ends with "Sec-WebSocket-Key: "
  const size_t size = head.size() + sizeof encoded + 4;
  if (head.empty() || cap < size) return 0;
  std::memcpy(out, head.data(), head.size());
  std::memcpy(out + head.size(), encoded, sizeof encoded);
  std::memcpy(out + head.size() + sizeof encoded, "\r\n\r\n", 4);
  return size;
}

size_t make_ws_ping(uint32_t worker, uint32_t conn, uint32_t seq, unsigned char out[kWsPingSize]) {
  unsigned char frame[kEchoFrameSize];
  echo_frame(worker, conn, seq, frame);
  out[0] = 0x80 | ping;
  out[1] = 0x80 | kEchoFrameSize;
  return 2 + put_masked(out + 2, frame, sizeof frame, mask_key(worker, conn, seq));
}

size_t make_ws_pong(const unsigned char* payload, size_t len, unsigned char* out, size_t cap) {
  if (len > 125 || cap < 6 + len) return 0;
  out[0] = 0x80 | pong;
  out[1] = static_cast<unsigned char>(0x80 | len);
  return 2 + put_masked(out + 2, payload, len, mask_key(0, static_cast<uint32_t>(len), 0x706f6e67));
}

Read read_ws_frames(ReplyState& s, uint32_t worker, uint32_t conn, uint32_t seq, const unsigned char* data, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (s.phase == payload) {  // bulk: a pong's bytes matched against the echo frame, others let go
      const size_t take = std::min<size_t>(s.left, n - i);
      if (s.status & kPongMatches) {
        int matched = echo_match(worker, conn, seq, s.aux, data + i, take);
        if (matched < 0)
          s.status &= ~kPongMatches;  // a pong, but to another ping (or none): let go
        else
          s.aux = static_cast<uint8_t>(matched);
      }
      s.left -= static_cast<uint32_t>(take);
      i += take;
      if (s.left > 0) break;
      const bool answers = (s.status & kPongMatches) && s.aux == kEchoFrameSize;
      s = ws_frames_start();
      if (answers) return at(Verdict::answered, i);
      continue;
    }
    const unsigned char c = data[i++];
    bool header_read = false;
    switch (s.phase) {
      case head0: {
        const uint8_t op = c & 0x0f;
        const bool control = op >= close;
        if ((c & 0x70) != 0) return bad_at(i);  // an extension nobody negotiated
        if (op > pong || (op > binary && op < close)) return bad_at(i);
        if (control && !(c & 0x80)) return bad_at(i);  // a control frame is never fragmented
        s.status = op, s.phase = head1;
        break;
      }
      case head1: {
        if (c & 0x80) return bad_at(i);  // a server's frames are never masked
        const uint8_t len = c & 0x7f;
        if ((s.status & kOpcodeMask) >= close && len > 125) return bad_at(i);
        if (len >= 126)
          s.phase = ext_length, s.aux = len == 126 ? 2 : 8, s.left = 0;
        else
          s.left = len, header_read = true;
        break;
      }
      case ext_length:
        if (s.left > 0xffffffu) return bad_at(i);  // past 4 GB: no frame a held connection is sent
        s.left = s.left << 8 | c;
        header_read = --s.aux == 0;
        break;
      default:
        return bad_at(i);
    }
    if (!header_read) continue;
    Read said;
    Start next = start_payload(s, data, i, n, said);
    if (next == Start::said) return said;
    if (next == Start::frame_done) s = ws_frames_start();
  }
  return Read{Verdict::more, n, 0, false};
}

}  // namespace c1m::proto
