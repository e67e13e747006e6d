// The protocols' replies as c1m's client reads them: every reply fed whole and split at every byte,
// so a reply that arrives in pieces reads as one that arrives at once, and what a protocol does not
// allow is said as such.
#include "core/proto/reply.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace c1m::proto {
namespace {

using Verdict = Read::Verdict;

// Feeds `text` in pieces of at most `piece` bytes; the verdict the reply ended on and the bytes taken.
Read feed(Protocol p, const std::string& text, size_t piece) {
  ReplyState s{};
  Read last;
  size_t taken = 0;
  for (size_t at = 0; at < text.size();) {
    size_t n = std::min(piece, text.size() - at);
    last = read_reply(p, s, 1, 2, 3, reinterpret_cast<const unsigned char*>(text.data()) + at, n);
    taken += last.used;
    at += last.used;
    if (last.verdict != Verdict::more) break;
    if (last.used == 0) break;
  }
  last.used = taken;
  return last;
}

struct Case {
  const char* name;
  Protocol protocol;
  std::string reply;
  Verdict verdict;
  uint16_t status = 0;
  bool closes = false;
  size_t used = std::string::npos;  // npos: all of it
};

std::vector<Case> cases() {
  std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
      "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n";
  return {
      {"a length", Protocol::http, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: x\r\n\r\nok", Verdict::answered,
       200},
      {"header names in any case", Protocol::http, "HTTP/1.1 404 Not Found\r\ncOnTeNt-LeNgTh: 3\r\n\r\nno!",
       Verdict::answered, 404},
      {"no body for 204", Protocol::http, "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", Verdict::answered,
       204},
      {"chunks, an extension and a trailer", Protocol::http, chunked, Verdict::answered, 200},
      {"an interim 100, then the answer", Protocol::http,
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", Verdict::answered, 503},
      {"Connection: close said", Protocol::http, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n.",
       Verdict::answered, 200, true},
      {"no length: to the close", Protocol::http, "HTTP/1.0 200 OK\r\n\r\nbody that ends with the connection",
       Verdict::more},
      {"not HTTP", Protocol::http, "SSH-2.0-OpenSSH\r\n", Verdict::bad, 0, false, 1},
      {"a header without a colon", Protocol::http, "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", Verdict::bad, 0, false, 25},
      {"a length past 4 GB", Protocol::http, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", Verdict::bad, 0,
       false, 43},
      {"a chunk size that is not hex", Protocol::http, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       Verdict::bad, 0, false, 48},
      {"PONG", Protocol::redis, "+PONG\r\n", Verdict::answered},
      {"an error reply is a refusal", Protocol::redis, "-ERR max number of clients reached\r\n", Verdict::refused},
      {"another reply", Protocol::redis, ":1\r\n", Verdict::bad, 0, false, 4},
      {"raw takes anything", Protocol::raw, "220 smtp.example ESMTP\r\n", Verdict::more},
      {"PINGRESP", Protocol::mqtt, std::string("\xd0\x00", 2), Verdict::answered},
      {"not PINGRESP", Protocol::mqtt, std::string("\x30\x00", 2), Verdict::bad, 0, false, 1},
  };
}

}  // namespace

TEST(Reply, EveryReplyReadsTheSameWholeOrInPieces) {
  for (const Case& c : cases()) {
    for (size_t piece : {c.reply.size(), size_t{1}, size_t{2}, size_t{7}}) {
      SCOPED_TRACE(std::string(c.name) + ", pieces of " + std::to_string(piece));
      Read r = feed(c.protocol, c.reply, piece);
      EXPECT_EQ(r.verdict, c.verdict);
      if (c.verdict == Verdict::answered) {
        EXPECT_EQ(r.status, c.status);
        EXPECT_EQ(r.closes, c.closes);
      }
      // A bad reply is found where it goes wrong, whatever the pieces; a good one is taken whole.
      if (c.verdict != Verdict::refused && piece >= c.reply.size()) {
        EXPECT_EQ(r.used, c.used == std::string::npos ? c.reply.size() : c.used);
      }
    }
  }
}

TEST(Reply, AnAnswerEndsWhereItsBytesEnd) {
  // Two answers in one read: the first ends at its last byte, the rest is the caller's to look at.
  std::string two = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ReplyState s{};
  Read r = read_reply(Protocol::http, s, 0, 0, 0, reinterpret_cast<const unsigned char*>(two.data()), two.size());
  EXPECT_EQ(r.verdict, Verdict::answered);
  EXPECT_EQ(r.used, two.find("okHTTP") + 2);
  // A body to the connection's end is answered by the end.
  ReplyState to_close{};
  std::string open_ended = "HTTP/1.0 200 OK\r\n\r\npart";
  read_reply(Protocol::http, to_close, 0, 0, 0, reinterpret_cast<const unsigned char*>(open_ended.data()),
             open_ended.size());
  EXPECT_TRUE(end_is_answer(Protocol::http, to_close));
  EXPECT_FALSE(end_is_answer(Protocol::http, ReplyState{}));
  EXPECT_FALSE(end_is_answer(Protocol::redis, to_close));
}

// MQTT's greeting: CONNECT with a client id of its own, then CONNACK: accepted, or a refusal code.
TEST(Reply, MqttConnectsThenPings) {
  unsigned char out[kMaxPingBytes];
  size_t n = make_greeting(Protocol::mqtt, PingText{}, 0xabcdef01, 3, 77, out, sizeof out);
  ASSERT_GT(n, 14u);
  EXPECT_EQ(out[0], 0x10);   // CONNECT
  EXPECT_EQ(out[1], n - 2);  // its remaining length
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out) + 4, 4), "MQTT");
  EXPECT_EQ(out[8], 4);  // 3.1.1
  std::string id(reinterpret_cast<char*>(out) + 14, out[13]);
  EXPECT_EQ(id,
            "c1mabcdef010003"
            "00004d");
  EXPECT_LE(id.size(), 23u);  // what every 3.1.1 server takes
  unsigned char other[kMaxPingBytes];
  make_greeting(Protocol::mqtt, PingText{}, 0xabcdef01, 3, 78, other, sizeof other);
  EXPECT_NE(std::string(reinterpret_cast<char*>(other), n), std::string(reinterpret_cast<char*>(out), n));
  EXPECT_EQ(make_greeting(Protocol::http, PingText{}, 1, 1, 1, out, sizeof out), 0u) << "HTTP does not greet";
  const unsigned char accepted[] = {0x20, 0x02, 0x00, 0x00}, not_authorized[] = {0x20, 0x02, 0x00, 0x05};
  ReplyState s{};
  EXPECT_EQ(read_reply(Protocol::mqtt, s, 0, 0, 0, accepted, 3).verdict, Verdict::more);
  EXPECT_EQ(read_reply(Protocol::mqtt, s, 0, 0, 0, accepted + 3, 1).verdict, Verdict::answered);
  s = {};
  Read no = read_reply(Protocol::mqtt, s, 0, 0, 0, not_authorized, 4);
  EXPECT_EQ(no.verdict, Verdict::refused);
  EXPECT_EQ(no.status, 5);
  s = {};
  EXPECT_EQ(read_reply(Protocol::mqtt, s, 0, 0, 1, accepted, 4).verdict, Verdict::bad) << "a CONNACK is no PINGRESP";
  EXPECT_EQ(make_ping(Protocol::mqtt, PingText{}, 0, 0, 1, out, sizeof out), 2u);
  EXPECT_EQ(out[0], 0xc0);
}

TEST(Reply, PingsAndNames) {
  unsigned char out[kMaxPingBytes];
  PingText text = ping_text(Protocol::http, "/health?x=1", "127.0.0.1:8080");
  size_t n = make_ping(Protocol::http, text, 0, 0, 0, out, sizeof out);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n), "GET /health?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
  n = make_ping(Protocol::redis, text, 0, 0, 0, out, sizeof out);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n), "PING\r\n");
  EXPECT_EQ(make_ping(Protocol::raw, text, 0, 0, 0, out, sizeof out), 0u);
  EXPECT_EQ(make_ping(Protocol::echo, text, 4, 5, 6, out, sizeof out), 16u);
  // The echo reads its own frame back.
  ReplyState s{};
  EXPECT_EQ(read_reply(Protocol::echo, s, 4, 5, 6, out, 16).verdict, Verdict::answered);
  s = {};
  EXPECT_EQ(read_reply(Protocol::echo, s, 4, 5, 7, out, 16).verdict, Verdict::bad);
  for (const char* name : {"raw", "echo", "redis", "http", "mqtt", "websocket"})
    EXPECT_STREQ(protocol_name(*protocol_named(name)), name);
  EXPECT_FALSE(protocol_named("smtp"));
  EXPECT_FALSE(pingable(Protocol::raw));
}

}  // namespace c1m::proto
