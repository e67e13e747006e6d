// c1m's TLS 1.3 record layer against the library's own: a handshake between two OpenSSL objects over
// a BIO pair, then the client's object freed and its traffic keys (from the key-log hook) used by
// tls::RecordLayer, speaking to the library's server, which must read and answer it as its peer.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "net/tls/record_layer.hpp"
#include "net/tls/tls_context.hpp"

namespace c1m::tls {
namespace {

struct Secrets {
  std::string client, server;  // hex
};

std::vector<uint8_t> from_hex(const std::string& h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

void key_log(const SSL* ssl, const char* line) {
  auto* s = static_cast<Secrets*>(SSL_get_app_data(ssl));
  std::string l(line);
  std::string secret = l.substr(l.rfind(' ') + 1);
  if (l.starts_with("CLIENT_TRAFFIC_SECRET_0 ")) s->client = secret;
  if (l.starts_with("SERVER_TRAFFIC_SECRET_0 ")) s->server = secret;
}

// A client and a server object joined by a BIO pair, handshaken; the client's keys derived.
class Pair {
 public:
  explicit Pair(const std::string& cipher, int tickets = 0) {
    TlsSettings t;
    t.on = true;
    t.cipher = cipher;
    t.tickets = tickets;
    std::string why;
    server_ctx_ = make_server_context(t, why);
    client_ctx_ = make_client_context(t, why);
    EXPECT_TRUE(server_ctx_ && client_ctx_) << why;
    SSL_CTX_set_keylog_callback(client_ctx_.get(), key_log);
    client_.reset(SSL_new(client_ctx_.get()));
    server_.reset(SSL_new(server_ctx_.get()));
    SSL_set_app_data(client_.get(), &secrets_);
    BIO *a = nullptr, *b = nullptr;
    BIO_new_bio_pair(&a, 0, &b, 0);
    client_bio_ = a;
    SSL_set_bio(client_.get(), a, a);
    SSL_set_bio(server_.get(), b, b);
    SSL_set_connect_state(client_.get());
    SSL_set_accept_state(server_.get());
    for (int i = 0; i < 10 && !(SSL_is_init_finished(client_.get()) && SSL_is_init_finished(server_.get())); ++i) {
      SSL_do_handshake(client_.get());
      SSL_do_handshake(server_.get());
    }
    suite = suite_named(SSL_get_cipher_name(client_.get()));
    auto c = from_hex(secrets_.client), s = from_hex(secrets_.server);
    keys_ok = derive_traffic_key(suite, c.data(), c.size(), keys.out) &&
              derive_traffic_key(suite, s.data(), s.size(), keys.in);
    keys.suite = suite;
  }
  // The client side's bytes go on the wire as c1m sends them: straight into the pair.
  void client_sends(const uint8_t* bytes, size_t n) {
    ASSERT_EQ(BIO_write(client_bio_, bytes, static_cast<int>(n)), static_cast<int>(n));
  }
  std::vector<uint8_t> client_receives() {
    std::vector<uint8_t> all(kMaxRecordSize * 4);
    int n = BIO_read(client_bio_, all.data(), static_cast<int>(all.size()));
    all.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return all;
  }
  SSL* server() { return server_.get(); }

  Suite suite = Suite::none;
  TrafficKeys keys{};
  bool keys_ok = false;

 private:
  Secrets secrets_;
  SslCtxPtr server_ctx_, client_ctx_;
  SslPtr server_;
  SslPtr client_;
  BIO* client_bio_ = nullptr;  // owned by client_
};

class RecordLayerWithLibrary : public ::testing::TestWithParam<const char*> {};

TEST_P(RecordLayerWithLibrary, SealedRecordsAreReadAndAnswersOpen) {
  Pair p(GetParam());
  ASSERT_TRUE(p.keys_ok);
  ASSERT_NE(p.suite, Suite::none);
  RecordLayer layer;
  for (int round = 0; round < 3; ++round) {  // sequence numbers advance on both sides
    std::string ping = "ping " + std::to_string(round);
    uint8_t wire[256];
    size_t n = layer.seal(p.suite, p.keys.out, kApplicationData, reinterpret_cast<const uint8_t*>(ping.data()),
                          ping.size(), wire);
    ASSERT_EQ(n, ping.size() + kRecordHeaderSize + 1 + kTagSize);
    p.client_sends(wire, n);
    char got[64];
    int r = SSL_read(p.server(), got, sizeof got);
    ASSERT_EQ(r, static_cast<int>(ping.size()));
    EXPECT_EQ(std::string(got, static_cast<size_t>(r)), ping);
    std::string pong = "pong " + std::to_string(round);
    ASSERT_EQ(SSL_write(p.server(), pong.data(), static_cast<int>(pong.size())), static_cast<int>(pong.size()));
    std::vector<uint8_t> record = p.client_receives();
    ASSERT_EQ(record_size(record.data()), record.size());
    auto opened = layer.open(p.suite, p.keys.in, record.data(), record.size());
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(opened->type, kApplicationData);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(record.data() + kRecordHeaderSize), opened->size), pong);
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, RecordLayerWithLibrary,
                         ::testing::Values("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256"));

TEST(RecordLayer, TamperedRecordDoesNotOpenAndTheServerAlerts) {
  Pair p("TLS_AES_128_GCM_SHA256");
  ASSERT_TRUE(p.keys_ok);
  RecordLayer layer;
  const uint8_t ping[] = "hello";
  uint8_t wire[64];
  size_t n = layer.seal(p.suite, p.keys.out, kApplicationData, ping, 5, wire);
  wire[n - 1] ^= 1;  // the tag
  p.client_sends(wire, n);
  char got[16];
  EXPECT_LE(SSL_read(p.server(), got, sizeof got), 0);  // the library refuses it, and says so in an alert
  std::vector<uint8_t> alert = p.client_receives();
  ASSERT_GT(alert.size(), kRecordHeaderSize);
  // The alert is sealed with the server's keys: it opens as an alert (bad_record_mac, 20), not data.
  auto opened = layer.open(p.suite, p.keys.in, alert.data(), alert.size());
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->type, kAlert);
  EXPECT_EQ(alert[kRecordHeaderSize + 1], 20);
  // The same alert changed in flight does not open on c1m's side: its sequence number has moved on,
  // and the bytes would not authenticate anyway.
  alert[kRecordHeaderSize] ^= 1;
  EXPECT_FALSE(layer.open(p.suite, p.keys.in, alert.data(), alert.size()).has_value());
}

TEST(RecordLayer, SessionTicketsArriveAsHandshakeMessages) {
  Pair p("TLS_AES_128_GCM_SHA256", 2);
  ASSERT_TRUE(p.keys_ok);
  // The server sends its tickets once the handshake is done: before its first data.
  ASSERT_EQ(SSL_write(p.server(), "data", 4), 4);
  std::vector<uint8_t> wire = p.client_receives();
  RecordLayer layer;
  int tickets = 0;
  std::string data;
  for (size_t at = 0; at < wire.size();) {
    size_t size = record_size(wire.data() + at);
    ASSERT_GT(size, 0u);
    auto opened = layer.open(p.suite, p.keys.in, wire.data() + at, size);
    ASSERT_TRUE(opened.has_value());
    const uint8_t* body = wire.data() + at + kRecordHeaderSize;
    if (opened->type == kHandshake && body[0] == 4) ++tickets;  // NewSessionTicket
    if (opened->type == kApplicationData) data.assign(reinterpret_cast<const char*>(body), opened->size);
    at += size;
  }
  EXPECT_EQ(tickets, 2);
  EXPECT_EQ(data, "data");
}

TEST(RecordLayer, HeaderIsCheckedBeforeAnyRead) {
  const uint8_t ok[] = {23, 3, 3, 0, 40};
  EXPECT_EQ(record_size(ok), 45u);
  const uint8_t handshake[] = {22, 3, 3, 0, 40};  // a plaintext record: not one a held connection gets
  EXPECT_EQ(record_size(handshake), 0u);
  const uint8_t too_long[] = {23, 3, 3, 0x48, 0x01};
  EXPECT_EQ(record_size(too_long), 0u);
  const uint8_t http[] = {'H', 'T', 'T', 'P', '/'};  // a plain server's answer
  EXPECT_EQ(record_size(http), 0u);
}

TEST(TlsContext, BadSettingsAreSentences) {
  TlsSettings t;
  t.on = true;
  std::string why;
  t.group = "nosuchgroup";
  EXPECT_FALSE(make_client_context(t, why));
  EXPECT_NE(why.find("key-exchange group 'nosuchgroup'"), std::string::npos) << why;
  t = TlsSettings{};
  t.cipher = "AES128-SHA";
  EXPECT_FALSE(make_server_context(t, why));
  EXPECT_NE(why.find("not a TLS 1.3 suite"), std::string::npos) << why;
  t = TlsSettings{};
  t.cert_file = "/nonexistent/cert.pem";
  t.key_file = "/nonexistent/key.pem";
  EXPECT_FALSE(make_server_context(t, why));
  EXPECT_NE(why.find("cannot read the certificate /nonexistent/cert.pem"), std::string::npos) << why;
  t = TlsSettings{};
  t.cert_file = "/etc/hostname";
  EXPECT_FALSE(make_server_context(t, why));
  EXPECT_NE(why.find("go together"), std::string::npos) << why;
}

}  // namespace
}  // namespace c1m::tls
