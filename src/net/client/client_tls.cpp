#include "net/client/client_tls.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace c1m::net {

using tls::ContentType;

// A connection's handshake: the library's object, and the traffic secrets its key-log hook gave.
struct ClientTls::Handshake {
  tls::SslPtr ssl;
  std::array<uint8_t, 48> client_secret{}, server_secret{};
  size_t client_len = 0, server_len = 0;
};

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

}  // namespace

ClientTls::ClientTls(SSL_CTX* ctx, std::string server_name, bool check_name, size_t slots, TlsCounters& counters)
    : ctx_(ctx),
      server_name_(std::move(server_name)),
      check_name_(check_name),
      slots_(slots),
      counters_(counters),
      keys_(static_cast<tls::TrafficKeys*>(std::calloc(slots, sizeof(tls::TrafficKeys)))) {
  SSL_CTX_set_keylog_callback(ctx_, &ClientTls::on_key_log);
}

ClientTls::~ClientTls() { std::free(keys_); }

void ClientTls::on_key_log(const SSL* ssl, const char* line) {
  auto* h = static_cast<Handshake*>(SSL_get_app_data(ssl));
  if (h == nullptr) return;
  if (size_t n = secret_of(line, "CLIENT_TRAFFIC_SECRET_0", h->client_secret)) h->client_len = n;
  if (size_t n = secret_of(line, "SERVER_TRAFFIC_SECRET_0", h->server_secret)) h->server_len = n;
}

ClientTls::Step ClientTls::start(int fd) {
  auto h = std::make_unique<Handshake>();
  h->ssl.reset(SSL_new(ctx_));
  if (!h->ssl || SSL_set_fd(h->ssl.get(), fd) != 1) return fail(fd, ErrorClass::other, "out of memory for a handshake");
  SSL_set_app_data(h->ssl.get(), h.get());
  SSL_set_connect_state(h->ssl.get());
  if (!server_name_.empty()) {
    SSL_set_tlsext_host_name(h->ssl.get(), server_name_.c_str());
    if (check_name_) SSL_set1_host(h->ssl.get(), server_name_.c_str());
  }
  handshakes_[fd] = std::move(h);
  return advance(fd);
}

ClientTls::Step ClientTls::advance(int fd) {
  auto it = handshakes_.find(fd);
  if (it == handshakes_.end()) return {Step::failed, ErrorClass::other};
  Handshake& h = *it->second;
  ERR_clear_error();
  int r = SSL_do_handshake(h.ssl.get());
  if (r == 1) return finish(fd, h);
  int e = SSL_get_error(h.ssl.get(), r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return {Step::more, ErrorClass::other};
  if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {  // the peer hung up mid-handshake
    int err = errno;
    std::string words = tls::last_library_error();
    if (words.empty())
      words = e == SSL_ERROR_ZERO_RETURN || err == 0 ? "the server closed during the handshake" : std::strerror(err);
    return fail(fd, err != 0 && err != EAGAIN ? classify_errno(err) : ErrorClass::peer_closed, words);
  }
  long verify = SSL_get_verify_result(h.ssl.get());
  if (verify != X509_V_OK) {
    tls::last_library_error();
    return fail(fd, ErrorClass::tls_verify,
                std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify));
  }
  return fail(fd, ErrorClass::tls_handshake, tls::last_library_error());
}

ClientTls::Step ClientTls::finish(int fd, Handshake& h) {
  const char* name = SSL_get_cipher_name(h.ssl.get());
  tls::Suite suite = tls::suite_named(name != nullptr ? name : "");
  tls::TrafficKeys& k = keys_[fd];
  if (suite == tls::Suite::none || h.client_len == 0 || h.server_len == 0 ||
      !tls::derive_traffic_key(suite, h.client_secret.data(), h.client_len, k.out) ||
      !tls::derive_traffic_key(suite, h.server_secret.data(), h.server_len, k.in))
    return fail(fd, ErrorClass::tls_handshake,
                std::string("no traffic keys for the suite ") + (name != nullptr ? name : "(none)"));
  k.suite = suite;
  if (cipher_.empty()) {
    cipher_ = name;
    const char* g = SSL_group_to_name(h.ssl.get(), SSL_get_negotiated_group(h.ssl.get()));
    group_ = g != nullptr ? g : "";
  }
  handshakes_.erase(fd);  // frees the library's object: from here the keys are the connection's TLS
  ++counters_.handshakes;
  counters_.held_state_bytes += sizeof(tls::TrafficKeys);
  return {Step::done, ErrorClass::other};
}

ClientTls::Step ClientTls::fail(int fd, ErrorClass why, const std::string& words) {
  if (counters_.first_error[0] == 0 && !words.empty()) {
    size_t n = std::min(words.size(), counters_.first_error.size() - 1);
    std::memcpy(counters_.first_error.data(), words.data(), n);
  }
  handshakes_.erase(fd);
  return {Step::failed, why};
}

void ClientTls::forget(int fd) {
  handshakes_.erase(fd);
  if (static_cast<size_t>(fd) < slots_ && keys_[fd].suite != tls::Suite::none) {
    keys_[fd] = {};
    counters_.held_state_bytes -= sizeof(tls::TrafficKeys);
  }
}

ssize_t ClientTls::send(int fd, const uint8_t* data, size_t n) {
  tls::TrafficKeys& k = keys_[fd];
  uint8_t record[tls::kRecordHeaderSize + 2048];
  if (n + tls::kRecordHeaderSize + 1 + tls::kTagSize > sizeof record) {
    errno = EMSGSIZE;
    return -1;
  }
  size_t size = layer_.seal(k.suite, k.out, tls::kApplicationData, data, n, record);
  if (size == 0) {
    errno = EPROTO;
    return -1;
  }
  ssize_t w = ::send(fd, record, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w == static_cast<ssize_t>(size)) return static_cast<ssize_t>(n);
  if (w >= 0) errno = EAGAIN;  // a part of a record went: the connection cannot go on
  return -1;
}

// A record is taken off the socket only once all of it is there (peeked first): the kernel's
// receive queue holds a part record, not a buffer of ours, and the next arrival reports again.
ClientTls::Received ClientTls::receive(int fd, uint8_t* buf) {
  tls::TrafficKeys& k = keys_[fd];
  for (;;) {
    ssize_t n;
    do n = ::recv(fd, buf, tls::kRecordHeaderSize, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n == 0) return {Received::closed};
    if (n < 0)
      return errno == EAGAIN ? Received{Received::nothing_yet}
                             : Received{Received::failed, {}, 0, classify_errno(errno)};
    if (n < static_cast<ssize_t>(tls::kRecordHeaderSize)) return {Received::nothing_yet};
    size_t size = tls::record_size(buf);
    if (size == 0) return {Received::failed, {}, 0, ErrorClass::bad_reply};
    n = ::recv(fd, buf, size, MSG_PEEK | MSG_DONTWAIT);
    if (n < static_cast<ssize_t>(size)) return {Received::nothing_yet};
    n = ::recv(fd, buf, size, MSG_DONTWAIT);
    if (n != static_cast<ssize_t>(size)) return {Received::failed, {}, 0, ErrorClass::other};
    std::optional<tls::Opened> o = layer_.open(k.suite, k.in, buf, size);
    if (!o) return {Received::failed, {}, 0, ErrorClass::bad_reply};
    const uint8_t* body = buf + tls::kRecordHeaderSize;
    if (o->type == tls::kApplicationData) {
      if (o->size == 0) continue;  // an empty record: allowed, nothing in it
      return {Received::data, body, o->size};
    }
    Received r = handle_control(fd, o->type, body, o->size);
    if (r.kind != Received::nothing_yet) return r;
  }
}

// What a server may send on an established connection besides data: post-handshake messages and
// alerts. nothing_yet: taken, read on.
ClientTls::Received ClientTls::handle_control(int, ContentType type, const uint8_t* body, size_t n) {
  if (type == tls::kAlert) {
    if (n == 2 && body[1] == 0) return {Received::closed};  // close_notify: the server closed cleanly
    return {Received::failed, {}, 0, ErrorClass::tls_alert};
  }
  if (type != tls::kHandshake) return {Received::failed, {}, 0, ErrorClass::bad_reply};
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

}  // namespace c1m::net
