#include "net/server/server_tls.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/tls/tls_context.hpp"

namespace c1m::net {

ServerTls::ServerTls(SSL_CTX* ctx, bool keep_library, size_t slots, TlsCounters& counters)
    : ctx_(ctx),
      keep_library_(keep_library),
      ssl_(slots, nullptr),
      keys_(keep_library ? 0 : slots, counters),
      counters_(counters) {
  tls::capture_secrets(ctx_);  // the secrets for the keys, and the tickets counted in both modes
}

ServerTls::~ServerTls() {
  for (SSL* s : ssl_) SSL_free(s);
}

bool ServerTls::accept(int fd) {
  if (static_cast<size_t>(fd) >= ssl_.size()) return false;
  SSL* s = SSL_new(ctx_);
  if (s == nullptr || SSL_set_fd(s, fd) != 1) {
    SSL_free(s);
    return false;
  }
  SSL_set_accept_state(s);
  SSL_set_app_data(s, &secrets_[fd]);  // a node's address stays put
  ssl_[static_cast<size_t>(fd)] = s;
  return true;
}

void ServerTls::forget(int fd) {
  if (static_cast<size_t>(fd) >= ssl_.size()) return;
  SSL_free(ssl_[static_cast<size_t>(fd)]);
  ssl_[static_cast<size_t>(fd)] = nullptr;
  secrets_.erase(fd);
  keys_.forget(fd);
}

void ServerTls::note_error(const std::string& words) { counters_.note_error(words); }

// Why the library stopped: waiting for more, the peer closing (close_notify or its end), or a failure.
ServerTls::Served ServerTls::ended(SSL* s, int ret) {
  int e = SSL_get_error(s, ret);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return {};
  if (e == SSL_ERROR_ZERO_RETURN) return {Served::closed};
  if (e == SSL_ERROR_SYSCALL) {
    int err = errno;
    tls::last_library_error();
    if (err == ECONNRESET) return {Served::reset};
    return err == 0 ? Served{Served::closed} : Served{Served::failed, classify_errno(err)};
  }
  note_error(tls::last_library_error());
  return {Served::failed, SSL_is_init_finished(s) ? ErrorClass::tls_alert : ErrorClass::tls_handshake};
}

ServerTls::Served ServerTls::handshake(int fd, SSL* s) {
  ERR_clear_error();
  int r = SSL_do_handshake(s);
  if (r != 1) return ended(s, r);
  ++counters_.handshakes;
  if (SSL_session_reused(s) == 1) ++counters_.resumed;
  counters_.tickets += secrets_[fd].tickets_sent;
  if (keep_library_) {
    SSL_set_app_data(s, nullptr);
    secrets_.erase(fd);
    return {};
  }
  // Keys only: the library's object goes; what the client sent after its Finished is still in the
  // kernel (the library reads no further than the record it needs).
  std::string why = keys_.take(fd, s, secrets_[fd], true);
  SSL_free(s);
  ssl_[static_cast<size_t>(fd)] = nullptr;
  secrets_.erase(fd);
  if (!why.empty()) {
    note_error(why);
    return {Served::failed, ErrorClass::tls_handshake};
  }
  return {};
}

ServerTls::Served ServerTls::serve(int fd, bool echo) {
  if (keys_.holds(fd)) return echo_keys(fd, echo);
  SSL* s = static_cast<size_t>(fd) < ssl_.size() ? ssl_[static_cast<size_t>(fd)] : nullptr;
  if (s == nullptr) return {Served::failed};
  if (!SSL_is_init_finished(s)) {
    Served h = handshake(fd, s);
    if (h.kind != Served::open) return h;
    if (keys_.holds(fd)) return echo_keys(fd, echo);
    if (!SSL_is_init_finished(s)) return h;
  }
  return echo_library(s, echo);
}

ServerTls::Served ServerTls::echo_library(SSL* s, bool echo) {
  Served out;
  char buf[4096];
  for (;;) {
    ERR_clear_error();
    int n = SSL_read(s, buf, sizeof buf);
    if (n <= 0) {
      Served end = ended(s, n);
      end.echoed = out.echoed;
      return end;
    }
    if (!echo) continue;
    int w = SSL_write(s, buf, n);
    if (w != n) {
      Served end = ended(s, w);
      if (end.kind == Served::open) end = {Served::failed, ErrorClass::other};  // a full send buffer: not buffered for
      end.echoed = out.echoed;
      return end;
    }
    out.echoed += static_cast<uint64_t>(n);
  }
}

// Every whole record waiting (the connection is watched edge-triggered), each one's data echoed.
ServerTls::Served ServerTls::echo_keys(int fd, bool echo) {
  static uint8_t buf[tls::kMaxRecordSize];  // a worker is one thread
  Served out;
  for (;;) {
    tls::HeldKeys::Received r = keys_.receive(fd, buf);
    switch (r.kind) {
      case tls::HeldKeys::Received::nothing_yet:
        return out;
      case tls::HeldKeys::Received::closed:
        return {Served::closed, ErrorClass::other, out.echoed};
      case tls::HeldKeys::Received::failed:
        return {r.why == ErrorClass::econnreset ? Served::reset : Served::failed, r.why, out.echoed};
      case tls::HeldKeys::Received::data:
        if (!echo) continue;
        if (keys_.send(fd, r.at, r.size) != static_cast<ssize_t>(r.size))
          return {Served::failed, errno == EMSGSIZE ? ErrorClass::other : classify_errno(errno), out.echoed};
        out.echoed += r.size;
    }
  }
}

}  // namespace c1m::net
