// Session tickets and resumption through c1m's own TLS halves, each against the library's other
// half over a socket pair: the client (net/client/client_tls) waiting for a ticket, taking its keys
// from the record after it, and resuming with it; the server (net/server/server_tls) holding keys
// only while sending tickets, its own records numbered after them. A sequence number one off and
// nothing opens: the pings answered are the proof. And an alert on a held connection, classed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "net/client/client_tls.hpp"
#include "net/server/server_tls.hpp"
#include "net/tls/tls_context.hpp"

namespace c1m::net {
namespace {

struct SocketPair {
  int client = -1, server = -1;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    client = fds[0], server = fds[1];
  }
  ~SocketPair() {
    ::close(client);
    ::close(server);
  }
};

TlsSettings settings(int tickets, bool resume) {
  TlsSettings t;
  t.on = true, t.tickets = tickets, t.resume = resume;
  return t;
}

// Both contexts of a run with these settings.
struct Contexts {
  tls::SslCtxPtr server, client;
  std::string why;
  explicit Contexts(const TlsSettings& t)
      : server(tls::make_server_context(t, why)), client(tls::make_client_context(t, why)) {}
  bool ok() const { return server && client; }
};

// The library's side of a connection, driven by hand.
struct LibraryEnd {
  tls::SslPtr ssl;
  LibraryEnd(SSL_CTX* ctx, int fd, bool server) : ssl(SSL_new(ctx)) {
    SSL_set_fd(ssl.get(), fd);
    server ? SSL_set_accept_state(ssl.get()) : SSL_set_connect_state(ssl.get());
  }
  // A connection ended without a shutdown makes the library mark its session unresumable: this
  // client's is kept for the next round.
  ~LibraryEnd() { SSL_set_shutdown(ssl.get(), SSL_SENT_SHUTDOWN); }
  void step() { SSL_do_handshake(ssl.get()); }
  // c1m's client's handshake against this end, each side taking its turn, to done or failed.
  ClientTls::Step handshake(ClientTls& client, int client_fd) {
    ClientTls::Step step = client.start(client_fd);
    for (int i = 0; i < 20 && step.kind == ClientTls::Step::more; ++i) {
      this->step();
      step = client.advance(client_fd);
    }
    return step;
  }
  // The next data, the library reading through whatever came first (tickets); "" if none yet.
  std::string read() {
    char buf[256];
    int n = SSL_read(ssl.get(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
};

TEST(TlsResume, ClientWaitsForTheTicketTakesItsKeysAfterItAndResumes) {
  TlsSettings t = settings(2, true);
  Contexts ctx(t);
  ASSERT_TRUE(ctx.ok()) << ctx.why;
  TlsCounters counters;
  ClientTls client(ctx.client.get(), t, 1024, counters);
  ASSERT_TRUE(client.ok());
  for (int round = 0; round < 3; ++round) {
    SocketPair pair;
    LibraryEnd server(ctx.server.get(), pair.server, true);
    ClientTls::Step step = server.handshake(client, pair.client);
    ASSERT_EQ(step.kind, ClientTls::Step::done) << "round " << round << ": " << counters.first_error.data();
    EXPECT_GT(step.took_ns, 0);
    EXPECT_EQ(counters.resumed, static_cast<uint64_t>(round)) << "the first handshake is full, the rest resume";
    EXPECT_TRUE(round == 0 || SSL_session_reused(server.ssl.get()) == 1);
    // The keys go on from the records the library read (one ticket or both): a ping each way.
    const std::string ping = "ping " + std::to_string(round);
    ASSERT_EQ(client.keys().send(pair.client, reinterpret_cast<const uint8_t*>(ping.data()), ping.size()),
              static_cast<ssize_t>(ping.size()));
    EXPECT_EQ(server.read(), ping);
    ASSERT_EQ(SSL_write(server.ssl.get(), "pong", 4), 4);
    static uint8_t buf[tls::kMaxRecordSize];
    tls::HeldKeys::Received r = client.keys().receive(pair.client, buf);
    ASSERT_EQ(r.kind, tls::HeldKeys::Received::data) << "round " << round;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.at), r.size), "pong");
    client.forget(pair.client);
  }
  EXPECT_EQ(counters.handshakes, 3u);
  // OpenSSL's server sends its two tickets after a full handshake, one after a resumed one; the
  // library read some of them, the keys the rest.
  EXPECT_EQ(counters.tickets, 2u + 1u + 1u);
}

TEST(TlsResume, ServerHoldingKeysSendsTicketsAndResumes) {
  TlsSettings t = settings(2, false);
  Contexts ctx(t);
  ASSERT_TRUE(ctx.ok()) << ctx.why;
  // The library's client keeps its session itself, to offer it again, and counts the tickets it read.
  SSL_CTX_set_session_cache_mode(ctx.client.get(), SSL_SESS_CACHE_CLIENT);
  static uint64_t tickets_read = 0;
  SSL_CTX_sess_set_new_cb(ctx.client.get(), [](SSL*, SSL_SESSION*) { return ++tickets_read, 0; });
  TlsCounters counters;
  ServerTls server(ctx.server.get(), false, 1024, counters);
  ASSERT_TRUE(server.holds_keys_only());
  SSL_SESSION* session = nullptr;
  for (int round = 0; round < 2; ++round) {
    SocketPair pair;
    ASSERT_TRUE(server.accept(pair.server));
    LibraryEnd client(ctx.client.get(), pair.client, false);
    if (session != nullptr) SSL_set_session(client.ssl.get(), session);
    for (int i = 0; i < 20 && !SSL_is_init_finished(client.ssl.get()); ++i) {
      client.step();
      ASSERT_EQ(server.serve(pair.server, true).kind, ServerTls::Served::open);
    }
    ASSERT_EQ(server.serve(pair.server, true).kind, ServerTls::Served::open);  // the client's Finished
    EXPECT_EQ(counters.handshakes, static_cast<uint64_t>(round + 1));
    EXPECT_EQ(counters.resumed, static_cast<uint64_t>(round));
    // The echo is sealed by c1m's record layer after the library's two tickets: the library reads
    // the tickets, then opens the echo with the sequence number after them.
    ASSERT_EQ(SSL_write(client.ssl.get(), "ping", 4), 4);
    ServerTls::Served s = server.serve(pair.server, true);
    EXPECT_EQ(s.kind, ServerTls::Served::open);
    EXPECT_EQ(s.echoed, 4u);
    EXPECT_EQ(client.read(), "ping");
    EXPECT_EQ(counters.tickets, tickets_read) << "the tickets the server counted, the client read";
    EXPECT_GT(tickets_read, 0u);
    EXPECT_EQ(SSL_session_reused(client.ssl.get()), round);
    SSL_SESSION_free(session);
    session = SSL_get1_session(client.ssl.get());
    ASSERT_EQ(SSL_SESSION_is_resumable(session), 1) << "the tickets came";
    server.forget(pair.server);
  }
  SSL_SESSION_free(session);
}

// A fatal alert on an established connection ends it in its own class: here the library's server
// sends bad_record_mac for a record that does not authenticate.
TEST(TlsHeldKeys, AnAlertEndsTheConnectionAsTlsAlert) {
  TlsSettings t = settings(0, false);
  Contexts ctx(t);
  ASSERT_TRUE(ctx.ok()) << ctx.why;
  TlsCounters counters;
  ClientTls client(ctx.client.get(), t, 1024, counters);
  SocketPair pair;
  LibraryEnd server(ctx.server.get(), pair.server, true);
  ASSERT_EQ(server.handshake(client, pair.client).kind, ClientTls::Step::done);
  uint8_t forged[5 + 32] = {23, 3, 3, 0, 32};  // an application-data record of zeros: it cannot authenticate
  ASSERT_EQ(::send(pair.client, forged, sizeof forged, 0), static_cast<ssize_t>(sizeof forged));
  EXPECT_EQ(server.read(), "");
  static uint8_t buf[tls::kMaxRecordSize];
  tls::HeldKeys::Received r = client.keys().receive(pair.client, buf);
  EXPECT_EQ(r.kind, tls::HeldKeys::Received::failed);
  EXPECT_EQ(r.why, ErrorClass::tls_alert);
}

}  // namespace
}  // namespace c1m::net
