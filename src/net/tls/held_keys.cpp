#include "net/tls/held_keys.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

namespace c1m::tls {
namespace {

// "LABEL <client random, hex> <secret, hex>" -> the secret, if the label is `label`.
size_t secret_of(std::string_view line, std::string_view label, std::array<uint8_t, 48>& out) {
  if (!line.starts_with(label) || line.size() <= label.size() || line[label.size()] != ' ') return 0;
  size_t sp = line.find(' ', label.size() + 1);
  if (sp == std::string_view::npos) return 0;
  std::string_view hex = line.substr(sp + 1);
  if (hex.size() % 2 != 0 || hex.size() / 2 > out.size()) return 0;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i < hex.size() / 2; ++i)
    out[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return hex.size() / 2;
}

void on_key_log(const SSL* ssl, const char* line) {
  auto* s = static_cast<HandshakeSecrets*>(SSL_get_app_data(ssl));
  if (s == nullptr) return;
  if (size_t n = secret_of(line, "CLIENT_TRAFFIC_SECRET_0", s->client)) s->client_len = n;
  if (size_t n = secret_of(line, "SERVER_TRAFFIC_SECRET_0", s->server)) s->server_len = n;
}

void on_message(int write_p, int, int content_type, const void* buf, size_t len, SSL* ssl, void*) {
  auto* s = static_cast<HandshakeSecrets*>(SSL_get_app_data(ssl));
  if (s == nullptr) return;
  constexpr uint8_t kNewSessionTicket = 4;
  if (write_p != 0 && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
      static_cast<const uint8_t*>(buf)[0] == kNewSessionTicket)
    ++s->tickets_sent;
  if (write_p == 0 && content_type == SSL3_RT_HEADER && s->count_reads) ++s->records_read;
}

}  // namespace

void capture_secrets(SSL_CTX* ctx) {
  SSL_CTX_set_keylog_callback(ctx, on_key_log);
  SSL_CTX_set_msg_callback(ctx, on_message);
}

HeldKeys::HeldKeys(size_t slots, TlsCounters& counters)
    : slots_(slots), counters_(counters), keys_(static_cast<TrafficKeys*>(std::calloc(slots, sizeof(TrafficKeys)))) {}

HeldKeys::~HeldKeys() { std::free(keys_); }

std::string HeldKeys::take(int fd, const SSL* ssl, const HandshakeSecrets& s, bool server) {
  const char* name = SSL_get_cipher_name(ssl);
  Suite suite = suite_named(name != nullptr ? name : "");
  if (keys_ == nullptr || static_cast<size_t>(fd) >= slots_) return "no slot for the connection";
  TrafficKeys& k = keys_[fd];
  TrafficKey& client_side = server ? k.in : k.out;
  TrafficKey& server_side = server ? k.out : k.in;
  if (suite == Suite::none || s.client_len == 0 || s.server_len == 0 ||
      !derive_traffic_key(suite, s.client.data(), s.client_len, client_side) ||
      !derive_traffic_key(suite, s.server.data(), s.server_len, server_side)) {
    k = {};
    return std::string("no traffic keys for the suite ") + (name != nullptr ? name : "(none)");
  }
  // The library may have protected records with these keys already: the server its tickets, the
  // client (resuming) the tickets it read.
  k.out.seq = server ? s.tickets_sent : 0;
  k.in.seq = server ? 0 : s.records_read;
  k.suite = suite;
  counters_.held_state_bytes += sizeof(TrafficKeys);
  return "";
}

void HeldKeys::forget(int fd) {
  if (!holds(fd)) return;
  keys_[fd] = {};
  counters_.held_state_bytes -= sizeof(TrafficKeys);
}

ssize_t HeldKeys::send(int fd, const uint8_t* data, size_t n) {
  TrafficKeys& k = keys_[fd];
  uint8_t record[kRecordHeaderSize + kMaxSend + 1 + kTagSize];
  if (n + kRecordHeaderSize + 1 + kTagSize > sizeof record) {
    errno = EMSGSIZE;
    return -1;
  }
  size_t size = layer_.seal(k.suite, k.out, kApplicationData, data, n, record);
  if (size == 0) {
    errno = EPROTO;
    return -1;
  }
  ssize_t w = ::send(fd, record, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w == static_cast<ssize_t>(size)) return static_cast<ssize_t>(n);
  if (w >= 0) errno = EAGAIN;  // a part of a record went: the connection cannot go on
  return -1;
}

HeldKeys::Received HeldKeys::receive(int fd, uint8_t* buf) {
  TrafficKeys& k = keys_[fd];
  for (;;) {
    ssize_t n;
    do n = ::recv(fd, buf, kRecordHeaderSize, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n == 0) return {Received::closed};
    if (n < 0)
      return errno == EAGAIN ? Received{Received::nothing_yet}
                             : Received{Received::failed, {}, 0, classify_errno(errno)};
    if (n < static_cast<ssize_t>(kRecordHeaderSize)) return {Received::nothing_yet};
    size_t size = record_size(buf);
    if (size == 0) return {Received::failed, {}, 0, ErrorClass::bad_reply};
    n = ::recv(fd, buf, size, MSG_PEEK | MSG_DONTWAIT);
    if (n < static_cast<ssize_t>(size)) return {Received::nothing_yet};
    n = ::recv(fd, buf, size, MSG_DONTWAIT);
    if (n != static_cast<ssize_t>(size)) return {Received::failed, {}, 0, ErrorClass::other};
    std::optional<Opened> o = layer_.open(k.suite, k.in, buf, size);
    if (!o) return {Received::failed, {}, 0, ErrorClass::bad_reply};
    const uint8_t* body = buf + kRecordHeaderSize;
    if (o->type == kApplicationData) {
      if (o->size == 0) continue;  // an empty record: allowed, nothing in it
      return {Received::data, body, o->size};
    }
    Received r = control(o->type, body, o->size);
    if (r.kind != Received::nothing_yet) return r;
  }
}

// What a server may send on an established connection besides data: post-handshake messages and
// alerts. nothing_yet: taken, read on.
HeldKeys::Received HeldKeys::control(ContentType type, const uint8_t* body, size_t n) {
  if (type == kAlert) {
    if (n == 2 && body[1] == 0) return {Received::closed};  // close_notify: the server closed cleanly
    return {Received::failed, {}, 0, ErrorClass::tls_alert};
  }
  if (type != kHandshake) return {Received::failed, {}, 0, ErrorClass::bad_reply};
  // One record may hold several handshake messages: 1-byte type, 3-byte length, body.
  for (size_t at = 0; at < n;) {
    if (n - at < 4) return {Received::failed, {}, 0, ErrorClass::bad_reply};
    uint8_t msg = body[at];
    size_t len = static_cast<size_t>(body[at + 1]) << 16 | static_cast<size_t>(body[at + 2]) << 8 | body[at + 3];
    if (len > n - at - 4) return {Received::failed, {}, 0, ErrorClass::bad_reply};  // split across records
    constexpr uint8_t kNewSessionTicket = 4, kKeyUpdate = 24;
    if (msg == kKeyUpdate) return {Received::failed, {}, 0, ErrorClass::tls_key_update};
    if (msg != kNewSessionTicket) return {Received::failed, {}, 0, ErrorClass::bad_reply};
    ++counters_.tickets;
    at += 4 + len;
  }
  return {Received::nothing_yet};
}

}  // namespace c1m::tls
