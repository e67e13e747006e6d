// What a held connection speaks, as c1m's client speaks it: the ping it sends and how it reads the
// answer as the bytes come, with 8 bytes of state a connection (net/client/client_conn keeps them).
// Pure: bytes in, a verdict out; unit-tested and fuzzed (tests/fuzz), spoken by net/client/pinger.
//   raw    connect and hold, send nothing: works against any listener. What the server sends is read
//          and let go (a banner is no error).
//   echo   c1m's own server: a 16-byte frame comes back unchanged (core/proto/echo).
//   redis  PING, answered +PONG; an error reply (-ERR max number of clients reached) is the server
//          saying no.
//   http   GET of a path over HTTP/1.1 keep-alive; the response framed by Content-Length, chunked
//          transfer coding, or the connection's end; its status class counted.
//   mqtt   3.1.1: CONNECT with a client id of its own as soon as connected (the greeting), CONNACK
//          checked (a refusal code is the server saying no), then PINGREQ answered by PINGRESP.
//   websocket  RFC 6455: an upgrade GET of the path (the greeting, answered by 101; another status is
//          the server saying no), then masked ping frames answered by pongs; the server's own pings
//          are answered, its data frames let go, its close frame counted (core/proto/websocket).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace c1m::proto {

enum class Protocol : uint8_t { raw, echo, redis, http, mqtt, websocket };

std::optional<Protocol> protocol_named(std::string_view name);
const char* protocol_name(Protocol p);
inline constexpr const char* kProtocolNames = "raw, echo, redis, http, mqtt, websocket";
// Whether its connections can be pinged (raw's cannot: it sends nothing).
inline bool pingable(Protocol p) { return p != Protocol::raw; }
// Whether its server may send what nobody asked for, read as it comes (WebSocket's frames); in the
// others, bytes with no ping outstanding are an error (or, in raw, let go).
inline bool server_speaks_unasked(Protocol p) { return p == Protocol::websocket; }
// Whether a path is asked for (--http-path): an http ping's GET, a WebSocket upgrade's.
inline bool has_path(Protocol p) { return p == Protocol::http || p == Protocol::websocket; }

// Where a connection is in the reply it waits for. Trivial and zero when idle.
struct ReplyState {
  uint32_t left;    // http: body or chunk bytes still to come; a length being read
  uint16_t status;  // http: the status code of the reply being read
  uint8_t phase;    // the protocol's own step (0: at the start of a reply)
  uint8_t aux;      // bytes of a fixed reply matched so far (echo, redis), or a header name's match
};
static_assert(sizeof(ReplyState) == 8);

// The largest ping: an HTTP request line, its Host header and a path of at most kMaxHttpPath bytes.
inline constexpr size_t kMaxHttpPath = 1024;
inline constexpr size_t kMaxPingBytes = kMaxHttpPath + 320;

// What the ping is made of: the HTTP request's path and host (the others need nothing).
struct PingText {
  std::string http_request;  // "GET /path HTTP/1.1\r\nHost: host\r\n\r\n", made once a run
  // websocket: the upgrade request up to its key, which each connection adds (core/proto/websocket)
  std::string ws_upgrade_head;
};
PingText ping_text(Protocol p, const std::string& http_path, const std::string& http_host);

// What a protocol sends as soon as a connection is up, answered before its first ping (MQTT's
// CONNECT, WebSocket's upgrade); 0 bytes: none. `nonce` makes client ids of one run differ from
// another's. out: at least kMaxPingBytes.
size_t make_greeting(Protocol p, const PingText& text, uint32_t nonce, uint32_t worker, uint32_t conn,
                     unsigned char* out, size_t cap);

// The bytes of one ping into out (at least 64 bytes, or the HTTP request's size); how many.
size_t make_ping(Protocol p, const PingText& text, uint32_t worker, uint32_t conn, uint32_t seq, unsigned char* out,
                 size_t cap);

// What some bytes of a reply did.
struct Read {
  enum class Verdict : uint8_t {
    more,         // all taken; the reply is not whole yet
    answered,     // the reply is whole (`used` bytes of the input were its end)
    refused,      // the server said no in its protocol (redis: an error reply)
    bad,          // not a reply this protocol allows
    server_ping,  // websocket: the server pinged; answer with make_pong of the payload
    closed,       // websocket: the server sent a close frame
  };
  Verdict verdict = Verdict::more;
  size_t used = 0;          // bytes taken
  uint16_t status = 0;      // http: the answered reply's status; websocket: a refused upgrade's, a close frame's code
  bool closes = false;      // http: the reply said Connection: close, or ends only with the connection
  size_t payload_at = 0;    // server_ping: where its payload starts in the input
  uint8_t payload_len = 0;  // and its length (at most 125)
};

// The pong that answers a server_ping (websocket); its size.
size_t make_pong(Protocol p, const unsigned char* payload, size_t len, unsigned char* out, size_t cap);

// Takes bytes of the reply to ping `seq` (of connection `conn` of worker `worker`: what the echo
// expects); seq 0 is the greeting's answer. Call again with the rest after `answered` when more
// bytes came at once: the state is ready for the next reply once one is answered.
Read read_reply(Protocol p, ReplyState& state, uint32_t worker, uint32_t conn, uint32_t seq, const unsigned char* data,
                size_t n);
// The connection ended (read 0 bytes): whether that ends a reply being read (an HTTP body with no
// length is read to the connection's end).
bool end_is_answer(Protocol p, const ReplyState& state);

}  // namespace c1m::proto
