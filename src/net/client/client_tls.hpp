// A client worker's TLS. The library (OpenSSL) does each connection's handshake; once it ends, the
// connection's traffic keys go into tls::HeldKeys (tls/held_keys) and the library's object is freed:
// a held TLS connection costs the client its 120-byte keys, not the library's ~6-30 KB object.
// Resuming (--tls-resume), a connection first waits for the server's session ticket, which the
// library reads; the worker keeps the latest and its next handshake resumes it.
#pragma once
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/plan/counters.hpp"
#include "net/tls/held_keys.hpp"
#include "net/tls/tls_context.hpp"

namespace c1m::net {

class ClientTls {
 public:
  // ctx: the run's client context (tls/tls_context); slots: the worker's connection table's size.
  ClientTls(SSL_CTX* ctx, const TlsSettings& settings, size_t slots, TlsCounters& counters);
  ~ClientTls();
  ClientTls(const ClientTls&) = delete;
  ClientTls& operator=(const ClientTls&) = delete;
  bool ok() const { return keys_.ok(); }

  // Where a handshake is: go on at the socket's next report, done (the keys are in place), or failed.
  struct Step {
    enum Kind : uint8_t { more, done, failed } kind;
    ErrorClass why = ErrorClass::other;  // failed: its class
    int64_t took_ns = 0;                 // done: from start() to the end of the handshake
  };
  Step start(int fd);    // the TCP connect succeeded: the handshake begins
  Step advance(int fd);  // the socket reported: the handshake goes on
  // The connection is closed (or about to be): its handshake or its keys are dropped.
  void forget(int fd);
  // Its handshake did not end within the connect timeout: why noted (tls_stalled), then forgotten.
  void stalled(int fd);

  // Once the handshake is done: records in and out (tls/held_keys).
  tls::HeldKeys& keys() { return keys_; }

 private:
  struct Handshake;
  Step await_ticket(int fd, Handshake& h);
  Step finish(int fd, Handshake& h);
  Step fail(int fd, ErrorClass why, const std::string& words);
  static int on_new_session(SSL* ssl, SSL_SESSION* session);

  SSL_CTX* ctx_;
  std::string server_name_;
  bool check_name_;
  bool resume_;
  SSL_SESSION* latest_session_ = nullptr;  // --tls-resume: the next handshake offers it
  TlsCounters& counters_;
  tls::HeldKeys keys_;
  std::unordered_map<int, std::unique_ptr<Handshake>> handshakes_;  // those in flight
};

}  // namespace c1m::net
