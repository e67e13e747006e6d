// Connections whose TLS 1.3 handshake the library did and whose library object was then freed: what
// each keeps is its traffic keys and sequence numbers (tls/record_layer's TrafficKeys, 120 bytes), in
// a table by fd, not the library's ~6-30 KB. The client holds every connection so (net/client/
// client_tls), and c1m's server with --tls-held keys (net/server/server_tls). What a peer may send
// after the handshake is read: session tickets counted and let go; a key update or an alert ends the
// connection with its own error class, a close_notify as the peer closing.
#pragma once
#include <openssl/ssl.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>

#include "core/plan/counters.hpp"
#include "net/tls/record_layer.hpp"

namespace c1m::tls {

// A handshake's application traffic secrets, as the library's key-log hook gives them, and the
// records the library protected with them before handing the connection over: each one moved that
// direction's sequence number on.
struct HandshakeSecrets {
  std::array<uint8_t, 48> client{}, server{};
  size_t client_len = 0, server_len = 0;
  // Server: the session tickets its handshake sent (OpenSSL sends each as a record of its own).
  uint64_t tickets_sent = 0;
  // Client: records the library read once the handshake had ended (the session tickets a resuming
  // client waits for); counted only while `count_reads` is set.
  bool count_reads = false;
  uint64_t records_read = 0;
};
// From now on, each handshake of `ctx` fills the HandshakeSecrets its SSL's app data points to
// (SSL_set_app_data); an SSL without one is left alone.
void capture_secrets(SSL_CTX* ctx);

class HeldKeys {
 public:
  HeldKeys(size_t slots, TlsCounters& counters);
  ~HeldKeys();
  HeldKeys(const HeldKeys&) = delete;
  HeldKeys& operator=(const HeldKeys&) = delete;
  bool ok() const { return keys_ != nullptr && layer_.ok(); }

  // fd's handshake (`ssl`, finished) is done: its keys from `secrets`, in our direction (the server
  // sends with the server's secret). "" once held, else why not. The caller then frees `ssl`.
  std::string take(int fd, const SSL* ssl, const HandshakeSecrets& secrets, bool server);
  void forget(int fd);  // the connection is closed: its keys zeroed
  bool holds(int fd) const {
    return keys_ != nullptr && static_cast<size_t>(fd) < slots_ && keys_[fd].suite != Suite::none;
  }

  // Seals data as one application-data record and sends it: like ::send, the bytes of data sent, or
  // -1 with errno (EMSGSIZE: more than kMaxSend).
  static constexpr size_t kMaxSend = 2048;
  ssize_t send(int fd, const uint8_t* data, size_t n);

  // The next application data that came, in `buf` (at least kMaxRecordSize bytes). A record is taken
  // off the socket only once all of it is there (peeked first): the kernel's receive queue holds a
  // part record, not a buffer of ours, and the next arrival reports again.
  struct Received {
    enum Kind : uint8_t { data, nothing_yet, closed, failed } kind;
    const uint8_t* at = nullptr;  // data: the plaintext, in buf
    size_t size = 0;
    ErrorClass why = ErrorClass::other;  // failed
  };
  Received receive(int fd, uint8_t* buf);

 private:
  Received control(ContentType type, const uint8_t* body, size_t n);

  size_t slots_;
  TlsCounters& counters_;
  TrafficKeys* keys_;  // one a slot, calloc'd: pages count only once connections use them
  RecordLayer layer_;
};

}  // namespace c1m::tls
