// A client worker's TLS. The library (OpenSSL) does each connection's handshake; once it ends, the
// connection's application traffic secrets (given by the library's key-log hook) become its keys
// (tls/record_layer) and the library's object is freed. A held TLS connection costs the client its
// 120-byte TrafficKeys, not the library's ~6-30 KB object. What a server may send after the
// handshake is read: session tickets are counted and let go; a key update or an alert ends the
// connection with its own error class, a close_notify as the peer closing.
#pragma once
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/plan/counters.hpp"
#include "net/tls/record_layer.hpp"
#include "net/tls/tls_context.hpp"

namespace c1m::net {

class ClientTls {
 public:
  // ctx: the run's client context (tls/tls_context); slots: the worker's connection table's size.
  ClientTls(SSL_CTX* ctx, std::string server_name, bool check_name, size_t slots, TlsCounters& counters);
  ~ClientTls();
  ClientTls(const ClientTls&) = delete;
  ClientTls& operator=(const ClientTls&) = delete;
  bool ok() const { return keys_ != nullptr && layer_.ok(); }

  // Where a handshake is: go on at the socket's next report, done (the keys are in place), or failed.
  struct Step {
    enum Kind : uint8_t { more, done, failed } kind;
    ErrorClass why;  // failed: its class
  };
  Step start(int fd);    // the TCP connect succeeded: the handshake begins
  Step advance(int fd);  // the socket reported: the handshake goes on
  // The connection is closed (or about to be): its handshake or its keys are dropped.
  void forget(int fd);

  // Seals data as one application-data record and sends it: like ::send, the bytes of data sent, or
  // -1 with errno (EMSGSIZE: more than a record holds).
  ssize_t send(int fd, const uint8_t* data, size_t n);

  // The next application data that came, in `buf` (at least kMaxRecordSize bytes).
  struct Received {
    enum Kind : uint8_t { data, nothing_yet, closed, failed } kind;
    const uint8_t* at = nullptr;  // data: the plaintext, in buf
    size_t size = 0;
    ErrorClass why = ErrorClass::other;  // failed
  };
  Received receive(int fd, uint8_t* buf);

  const std::string& cipher() const { return cipher_; }  // as the first handshake settled them
  const std::string& group() const { return group_; }

 private:
  struct Handshake;
  static void on_key_log(const SSL* ssl, const char* line);
  Step finish(int fd, Handshake& h);
  Step fail(int fd, ErrorClass why, const std::string& words);
  Received handle_control(int fd, tls::ContentType type, const uint8_t* body, size_t n);

  SSL_CTX* ctx_;
  std::string server_name_;
  bool check_name_;
  size_t slots_;
  TlsCounters& counters_;
  tls::TrafficKeys* keys_;  // one a slot, calloc'd: pages count only once connections use them
  std::unordered_map<int, std::unique_ptr<Handshake>> handshakes_;
  tls::RecordLayer layer_;
  std::string cipher_, group_;
};

}  // namespace c1m::net
