// WebSocket as c1m's client speaks it (core/proto/websocket, through core/proto/reply): the upgrade,
// ping frames whose pongs are matched to them, the server's frames read whole or a byte at a time,
// and every frame the RFC forbids a server named as such.
#include <gtest/gtest.h>

#include <string>

#include "core/proto/echo.hpp"
#include "core/proto/reply.hpp"

namespace c1m::proto {
namespace {

using Verdict = Read::Verdict;
using Bytes = std::basic_string<unsigned char>;

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// An unmasked frame as a server sends it.
Bytes frame(unsigned char first, const Bytes& payload) {
  Bytes f{first};
  if (payload.size() < 126) {
    f.push_back(static_cast<unsigned char>(payload.size()));
  } else {
    f += {126, static_cast<unsigned char>(payload.size() >> 8), static_cast<unsigned char>(payload.size())};
  }
  return f + payload;
}

Bytes pong_of(uint32_t worker, uint32_t conn, uint32_t seq) {
  unsigned char echo[kEchoFrameSize];
  echo_frame(worker, conn, seq, echo);
  return frame(0x8a, Bytes(echo, sizeof echo));
}

// A connection already upgraded: its frames from the start.
ReplyState upgraded() {
  ReplyState s{};
  Bytes ok = bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  EXPECT_EQ(read_reply(Protocol::websocket, s, 0, 0, 0, ok.data(), ok.size()).verdict, Verdict::answered);
  return s;
}

// Feeds the bytes in pieces; every verdict that is not "more", in order.
std::vector<Read> feed(ReplyState s, const Bytes& in, size_t piece, uint32_t seq = 3) {
  std::vector<Read> said;
  for (size_t at = 0; at < in.size();) {
    const size_t n = std::min(piece, in.size() - at);
    Read r = read_reply(Protocol::websocket, s, 1, 2, seq, in.data() + at, n);
    if (r.verdict != Verdict::more) said.push_back(r);
    if (r.verdict == Verdict::bad || r.verdict == Verdict::closed || r.verdict == Verdict::refused) break;
    at += r.used;
  }
  return said;
}

TEST(WebSocket, TheUpgradeAsksForThePathWithAKeyOfItsOwn) {
  PingText text = ping_text(Protocol::websocket, "/chat", "127.0.0.1:8765");
  unsigned char out[kMaxPingBytes];
  size_t n = make_greeting(Protocol::websocket, text, 0x01020304, 7, 9, out, sizeof out);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n),
            "GET /chat HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: YzFtIAQDAgEHAAAACQAAAA==\r\n\r\n");
  unsigned char other[kMaxPingBytes];
  EXPECT_NE(std::string(reinterpret_cast<char*>(other),
                        make_greeting(Protocol::websocket, text, 0x01020304, 7, 10, other, sizeof other)),
            std::string(reinterpret_cast<char*>(out), n));
  EXPECT_EQ(make_greeting(Protocol::websocket, text, 1, 1, 1, out, 20), 0u) << "too small a buffer";
}

TEST(WebSocket, ARefusedUpgradeIsTheServerSayingNoWithItsStatus) {
  for (size_t piece : {size_t{1}, size_t{500}}) {
    auto said = feed(ReplyState{}, bytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"), piece, 0);
    ASSERT_EQ(said.size(), 1u);
    EXPECT_EQ(said[0].verdict, Verdict::refused);
    EXPECT_EQ(said[0].status, 403);
  }
}

TEST(WebSocket, APingIsAMaskedFrameOfTheEchoAndItsPongAnswersIt) {
  unsigned char out[kMaxPingBytes];
  ASSERT_EQ(make_ping(Protocol::websocket, PingText{}, 1, 2, 3, out, sizeof out), 22u);
  EXPECT_EQ(out[0], 0x89);       // FIN, ping
  EXPECT_EQ(out[1], 0x80 | 16);  // masked, 16 bytes
  unsigned char echo[kEchoFrameSize];
  echo_frame(1, 2, 3, echo);
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(out[6 + i] ^ out[2 + i % 4], echo[i]) << i;
  for (size_t piece : {size_t{1}, size_t{3}, size_t{100}}) {
    SCOPED_TRACE(piece);
    auto said = feed(upgraded(), pong_of(1, 2, 3), piece);
    ASSERT_EQ(said.size(), 1u);
    EXPECT_EQ(said[0].verdict, Verdict::answered);
    // A pong to another ping, or an empty one (a heartbeat), answers nothing and is let go.
    EXPECT_TRUE(feed(upgraded(), pong_of(1, 2, 4) + frame(0x8a, {}), piece).empty());
  }
}

TEST(WebSocket, DataFramesAreLetGoAndTheServersPingsAreAnswered) {
  Bytes text_300(300, 'x');
  Bytes in = frame(0x81, text_300) + frame(0x89, bytes("beat")) + pong_of(1, 2, 3);
  auto said = feed(upgraded(), in, in.size());
  ASSERT_EQ(said.size(), 2u);
  EXPECT_EQ(said[0].verdict, Verdict::server_ping);
  EXPECT_EQ(Bytes(in.data() + said[0].payload_at, said[0].payload_len), bytes("beat"));
  EXPECT_EQ(said[1].verdict, Verdict::answered);
  // The pong that answers it sends the payload back, masked.
  unsigned char pong[131];
  size_t n = make_pong(Protocol::websocket, in.data() + said[0].payload_at, said[0].payload_len, pong, sizeof pong);
  ASSERT_EQ(n, 10u);
  EXPECT_EQ(pong[0], 0x8a);
  EXPECT_EQ(pong[1], 0x80 | 4);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(pong[6 + i] ^ pong[2 + i], "beat"[i]);
  // A byte at a time the server's ping is never whole in one read: let go, and the pong still reads.
  said = feed(upgraded(), in, 1);
  ASSERT_EQ(said.size(), 1u);
  EXPECT_EQ(said[0].verdict, Verdict::answered);
}

TEST(WebSocket, TheUpgradeAndTheFirstFrameInOneRead) {
  Bytes in = bytes("HTTP/1.1 101 Switching Protocols\r\n\r\n") + frame(0x81, bytes("hello"));
  ReplyState s{};
  Read r = read_reply(Protocol::websocket, s, 1, 2, 0, in.data(), in.size());
  EXPECT_EQ(r.verdict, Verdict::answered);
  EXPECT_EQ(r.used, in.size() - 7);
  r = read_reply(Protocol::websocket, s, 1, 2, 0, in.data() + r.used, 7);
  EXPECT_EQ(r.verdict, Verdict::more) << "the first frame is read as a frame, not as HTTP";
}

TEST(WebSocket, ACloseFrameIsCountedWithItsCode) {
  auto said = feed(upgraded(), frame(0x88, {0x03, 0xe9, 'b', 'y', 'e'}), 64);
  ASSERT_EQ(said.size(), 1u);
  EXPECT_EQ(said[0].verdict, Verdict::closed);
  EXPECT_EQ(said[0].status, 1001);
}

TEST(WebSocket, FramesTheRfcForbidsAServerAreBad) {
  const Bytes forbidden[] = {
      {0x89, 0x80, 0, 0, 0, 0},             // masked
      {0x83, 0x00},                         // a reserved opcode
      {0xc1, 0x00},                         // RSV1 with no extension
      {0x09, 0x00},                         // a fragmented ping
      {0x89, 126, 0, 200},                  // a control frame past 125 bytes
      {0x82, 127, 1, 0, 0, 0, 0, 0, 0, 0},  // past 4 GB
  };
  for (const Bytes& in : forbidden) {
    auto said = feed(upgraded(), in, in.size());
    ASSERT_EQ(said.size(), 1u);
    EXPECT_EQ(said[0].verdict, Verdict::bad);
  }
}

}  // namespace
}  // namespace c1m::proto
