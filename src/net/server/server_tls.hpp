// A server worker's TLS: each connection keeps the library's object (as a real server does), with
// its buffers released while idle (SSL_MODE_RELEASE_BUFFERS, by default), so what a held TLS
// connection costs a server is measured, not assumed: the library's heap is counted (tls/tls_memory).
#pragma once
#include <openssl/ssl.h>

#include <cstdint>
#include <vector>

#include "core/plan/counters.hpp"

namespace c1m::net {

class ServerTls {
 public:
  ServerTls(SSL_CTX* ctx, size_t slots, TlsCounters& counters) : ctx_(ctx), ssl_(slots, nullptr), counters_(counters) {}
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // An accepted connection: its handshake waits for the ClientHello. False: out of memory.
  bool accept(int fd);

  // What serving a readable connection came to.
  struct Served {
    enum Kind : uint8_t { open, closed, reset, failed } kind = open;
    ErrorClass why = ErrorClass::other;  // failed
    uint64_t echoed = 0;                 // plaintext bytes echoed
  };
  // Goes on with its handshake, then echoes (if `echo`) every record's data back in a record.
  Served serve(int fd, bool echo);
  // The connection is closed: its object freed.
  void forget(int fd);

 private:
  Served handshake(int fd, SSL* s);
  Served ended(SSL* s, int ret);

  SSL_CTX* ctx_;
  std::vector<SSL*> ssl_;  // by fd
  TlsCounters& counters_;
};

}  // namespace c1m::net
