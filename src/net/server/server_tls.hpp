// A server worker's TLS. The library (OpenSSL) does each handshake; then a held connection keeps
// either its traffic keys only (--tls-held keys, the default: tls/held_keys, 120 bytes, the library's
// object freed, as c1m's client does) or the library's object with its buffers released while idle
// (--tls-held library, as most servers do). Either way the library's heap is counted (tls/tls_memory).
#pragma once
#include <openssl/ssl.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/plan/counters.hpp"
#include "net/tls/held_keys.hpp"

namespace c1m::net {

class ServerTls {
 public:
  ServerTls(SSL_CTX* ctx, bool keep_library, size_t slots, TlsCounters& counters);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;
  // Keys only: a part record waits in the kernel, so its connection must be watched edge-triggered.
  bool holds_keys_only() const { return !keep_library_; }

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
  // The connection is closed: its object or keys freed.
  void forget(int fd);

 private:
  Served handshake(int fd, SSL* s);
  Served echo_library(SSL* s, bool echo);
  Served echo_keys(int fd, bool echo);
  Served ended(SSL* s, int ret);
  void note_error(const std::string& words);

  SSL_CTX* ctx_;
  bool keep_library_;
  std::vector<SSL*> ssl_;  // by fd: its handshake's object, or (keeping the library) its object for good
  std::unordered_map<int, tls::HandshakeSecrets> secrets_;  // keys only: those of handshakes in flight
  tls::HeldKeys keys_;
  TlsCounters& counters_;
};

}  // namespace c1m::net
