#include "core/proto/reply.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/proto/echo.hpp"
#include "core/proto/http_reply.hpp"
#include "core/proto/websocket.hpp"

namespace c1m::proto {
namespace {

using Verdict = Read::Verdict;

constexpr char kPong[] = "+PONG\r\n";
constexpr size_t kPongSize = sizeof kPong - 1;

// MQTT 3.1.1: the answer to CONNECT is CONNACK (0x20 0x02, flags, return code: 0 accepted); to
// PINGREQ, PINGRESP (0xd0 0x00). aux counts the bytes of the 4- or 2-byte packet seen.
Read read_mqtt(ReplyState& s, bool greeting, const unsigned char* data, size_t n) {
  const size_t size = greeting ? 4 : 2;
  size_t take = std::min(n, size - s.aux);
  for (size_t k = 0; k < take; ++k) {
    const size_t at = s.aux + k;
    const unsigned char c = data[k];
    bool fits = greeting ? (at == 0   ? c == 0x20
                            : at == 1 ? c == 0x02
                            : at == 2 ? c <= 1
                                      : true)
                         : (at == 0 ? c == 0xd0 : c == 0x00);
    if (!fits) return bad_at(k + 1);
    if (greeting && at == 3 && c != 0) return Read{Verdict::refused, k + 1, c, false};  // its refusal code
  }
  s.aux = static_cast<uint8_t>(s.aux + take);
  return Read{s.aux == size ? Verdict::answered : Verdict::more, take, 0, false};
}

Read read_redis(ReplyState& s, const unsigned char* data, size_t n) {
  if (s.aux == 0 && n > 0 && data[0] == '-') return Read{Verdict::refused, n, 0, false};
  size_t take = std::min(n, kPongSize - s.aux);
  if (std::memcmp(data, kPong + s.aux, take) != 0) return bad_at(take);
  s.aux = static_cast<uint8_t>(s.aux + take);
  if (s.aux < kPongSize) return Read{Verdict::more, take, 0, false};
  return Read{Verdict::answered, take, 0, false};
}

}  // namespace

std::optional<Protocol> protocol_named(std::string_view name) {
  for (Protocol p :
       {Protocol::raw, Protocol::echo, Protocol::redis, Protocol::http, Protocol::mqtt, Protocol::websocket})
    if (name == protocol_name(p)) return p;
  return std::nullopt;
}

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::raw:
      return "raw";
    case Protocol::echo:
      return "echo";
    case Protocol::redis:
      return "redis";
    case Protocol::http:
      return "http";
    case Protocol::mqtt:
      return "mqtt";
    case Protocol::websocket:
      return "websocket";
  }
  return "?";
}

PingText ping_text(Protocol p, const std::string& http_path, const std::string& http_host) {
  PingText t;
  if (p == Protocol::http) t.http_request = "GET " + http_path + " HTTP/1.1\r\nHost: " + http_host + "\r\n\r\n";
  if (p == Protocol::websocket)
    t.ws_upgrade_head = "GET " + http_path + " HTTP/1.1\r\nHost: " + http_host +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                        "Sec-WebSocket-Key: ";
  return t;
}

size_t make_greeting(Protocol p, const PingText& text, uint32_t nonce, uint32_t worker, uint32_t conn,
                     unsigned char* out, size_t cap) {
  if (p == Protocol::websocket) return make_ws_upgrade(text, nonce, worker, conn, out, cap);
  if (p != Protocol::mqtt) return 0;
  // A client id of its own (MQTT allows 1-23 characters): the run's nonce, the worker, the connection.
  char id[24];
  int id_len = std::snprintf(id, sizeof id, "c1m%08x%04x%06x", nonce, worker & 0xffff, conn & 0xffffff);
  const size_t rest = 10 + 2 + static_cast<size_t>(id_len);  // variable header, then the id's length and bytes
  if (cap < 2 + rest || rest > 127) return 0;
  unsigned char* o = out;
  *o++ = 0x10;  // CONNECT
  *o++ = static_cast<unsigned char>(rest);
  const unsigned char head[10] = {0, 4, 'M', 'Q', 'T', 'T', 4 /* 3.1.1 */, 0x02 /* clean session */,
                                  0, 0 /* no keep-alive */};
  std::memcpy(o, head, sizeof head);
  o += sizeof head;
  *o++ = 0;
  *o++ = static_cast<unsigned char>(id_len);
  std::memcpy(o, id, static_cast<size_t>(id_len));
  return 2 + rest;
}

size_t make_ping(Protocol p, const PingText& text, uint32_t worker, uint32_t conn, uint32_t seq, unsigned char* out,
                 size_t cap) {
  switch (p) {
    case Protocol::mqtt:
      if (cap < 2) return 0;
      out[0] = 0xc0, out[1] = 0x00;  // PINGREQ
      return 2;
    case Protocol::raw:
      return 0;
    case Protocol::echo:
      if (cap < kEchoFrameSize) return 0;
      echo_frame(worker, conn, seq, out);
      return kEchoFrameSize;
    case Protocol::redis:
      if (cap < 6) return 0;
      std::memcpy(out, "PING\r\n", 6);
      return 6;
    case Protocol::http:
      if (cap < text.http_request.size()) return 0;
      std::memcpy(out, text.http_request.data(), text.http_request.size());
      return text.http_request.size();
    case Protocol::websocket:
      return cap < kWsPingSize ? 0 : make_ws_ping(worker, conn, seq, out);
  }
  return 0;
}

size_t make_pong(Protocol p, const unsigned char* payload, size_t len, unsigned char* out, size_t cap) {
  return p == Protocol::websocket ? make_ws_pong(payload, len, out, cap) : 0;
}

namespace {

Read read_one(Protocol p, ReplyState& s, uint32_t worker, uint32_t conn, uint32_t seq, const unsigned char* data,
              size_t n) {
  switch (p) {
    case Protocol::raw:
      return Read{Verdict::more, n, 0, false};  // whatever it says is let go
    case Protocol::echo: {
      int matched = echo_match(worker, conn, seq, s.aux, data, n);
      if (matched < 0) return bad_at(n);
      s.aux = static_cast<uint8_t>(matched);
      return Read{matched == static_cast<int>(kEchoFrameSize) ? Verdict::answered : Verdict::more, n, 0, false};
    }
    case Protocol::redis:
      return read_redis(s, data, n);
    case Protocol::http:
      return read_http(s, false, data, n);
    case Protocol::mqtt:
      return read_mqtt(s, seq == 0, data, n);
    case Protocol::websocket: {
      if (s.phase >= kHttpPhaseEnd) return read_ws_frames(s, worker, conn, seq, data, n);
      Read r = read_http(s, true, data, n);
      if (r.verdict == Read::Verdict::answered) s = ws_frames_start();  // upgraded: frames from here on
      return r;
    }
  }
  return bad_at(n);
}

}  // namespace

Read read_reply(Protocol p, ReplyState& s, uint32_t worker, uint32_t conn, uint32_t seq, const unsigned char* data,
                size_t n) {
  Read r = read_one(p, s, worker, conn, seq, data, n);
  if (r.verdict == Read::Verdict::answered && p != Protocol::websocket) s = {};  // ready for the next reply
  return r;
}

bool end_is_answer(Protocol p, const ReplyState& s) { return p == Protocol::http && http_reads_to_close(s); }

}  // namespace c1m::proto
