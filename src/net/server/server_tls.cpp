#include "net/server/server_tls.hpp"

#include <openssl/err.h>

#include <cerrno>
#include <cstring>

#include "net/tls/tls_context.hpp"

namespace c1m::net {

ServerTls::~ServerTls() {
  for (SSL* s : ssl_) SSL_free(s);
}

bool ServerTls::accept(int fd) {
  if (static_cast<size_t>(fd) >= ssl_.size()) ssl_.resize(static_cast<size_t>(fd) + 1, nullptr);
  SSL* s = SSL_new(ctx_);
  if (s == nullptr || SSL_set_fd(s, fd) != 1) {
    SSL_free(s);
    return false;
  }
  SSL_set_accept_state(s);
  ssl_[static_cast<size_t>(fd)] = s;
  return true;
}

void ServerTls::forget(int fd) {
  if (static_cast<size_t>(fd) >= ssl_.size()) return;
  SSL_free(ssl_[static_cast<size_t>(fd)]);
  ssl_[static_cast<size_t>(fd)] = nullptr;
}

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
  std::string words = tls::last_library_error();
  if (counters_.first_error[0] == 0 && !words.empty())
    std::memcpy(counters_.first_error.data(), words.data(), std::min(words.size(), counters_.first_error.size() - 1));
  return {Served::failed, SSL_is_init_finished(s) ? ErrorClass::tls_alert : ErrorClass::tls_handshake};
}

ServerTls::Served ServerTls::handshake(int, SSL* s) {
  ERR_clear_error();
  int r = SSL_do_handshake(s);
  if (r != 1) return ended(s, r);
  ++counters_.handshakes;
  return {};
}

ServerTls::Served ServerTls::serve(int fd, bool echo) {
  SSL* s = static_cast<size_t>(fd) < ssl_.size() ? ssl_[static_cast<size_t>(fd)] : nullptr;
  if (s == nullptr) return {Served::failed};
  if (!SSL_is_init_finished(s)) {
    Served h = handshake(fd, s);
    if (h.kind != Served::open || !SSL_is_init_finished(s)) return h;
  }
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

}  // namespace c1m::net
