#include "net/client/client_tls.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstring>

#include "core/host/clock.hpp"

namespace c1m::net {

// A connection's handshake: the library's object, and the secrets its key-log hook fills (the
// hooks find them as the object's app data).
struct ClientTls::Handshake : tls::HandshakeSecrets {
  tls::SslPtr ssl;
  int64_t started_ns = 0;
  bool awaiting_ticket = false;  // --tls-resume: the handshake is done, the server's ticket not yet read
  bool ticket_came = false;
  ClientTls* owner = nullptr;
};

ClientTls::ClientTls(SSL_CTX* ctx, const TlsSettings& settings, size_t slots, TlsCounters& counters)
    : ctx_(ctx),
      server_name_(settings.server_name),
      check_name_(settings.verify),
      resume_(settings.resume),
      counters_(counters),
      keys_(slots, counters) {
  tls::capture_secrets(ctx_);
  if (resume_) SSL_CTX_sess_set_new_cb(ctx_, on_new_session);
}

ClientTls::~ClientTls() {
  handshakes_.clear();
  SSL_SESSION_free(latest_session_);
}

// The library read a session ticket: the worker's latest session, which its next handshake offers.
int ClientTls::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* secrets = static_cast<tls::HandshakeSecrets*>(SSL_get_app_data(ssl));
  if (secrets == nullptr) return 0;  // not a worker's handshake (the run's probe)
  auto* h = static_cast<Handshake*>(secrets);
  h->ticket_came = true;
  ++h->owner->counters_.tickets;
  SSL_SESSION_free(h->owner->latest_session_);
  h->owner->latest_session_ = session;
  return 1;  // kept
}

ClientTls::Step ClientTls::start(int fd) {
  auto h = std::make_unique<Handshake>();
  h->ssl.reset(SSL_new(ctx_));
  if (!h->ssl || SSL_set_fd(h->ssl.get(), fd) != 1) return fail(fd, ErrorClass::other, "out of memory for a handshake");
  h->started_ns = monotonic_ns();
  h->owner = this;
  SSL_set_app_data(h->ssl.get(), static_cast<tls::HandshakeSecrets*>(h.get()));
  SSL_set_connect_state(h->ssl.get());
  if (!server_name_.empty()) {
    SSL_set_tlsext_host_name(h->ssl.get(), server_name_.c_str());
    if (check_name_) SSL_set1_host(h->ssl.get(), server_name_.c_str());
  }
  if (resume_ && latest_session_ != nullptr) SSL_set_session(h->ssl.get(), latest_session_);
  handshakes_[fd] = std::move(h);
  return advance(fd);
}

ClientTls::Step ClientTls::advance(int fd) {
  auto it = handshakes_.find(fd);
  if (it == handshakes_.end()) return {Step::failed, ErrorClass::other};
  Handshake& h = *it->second;
  if (h.awaiting_ticket) return await_ticket(fd, h);
  ERR_clear_error();
  int r = SSL_do_handshake(h.ssl.get());
  if (r == 1) {
    if (SSL_session_reused(h.ssl.get()) == 1) ++counters_.resumed;
    if (!resume_) return finish(fd, h);
    h.awaiting_ticket = h.count_reads = true;
    return await_ticket(fd, h);
  }
  int e = SSL_get_error(h.ssl.get(), r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return {Step::more};
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

// --tls-resume: the library reads what the server sent after the handshake until a session ticket
// has come (peeking: application data, were any to come first, stays the connection's).
ClientTls::Step ClientTls::await_ticket(int fd, Handshake& h) {
  ERR_clear_error();
  uint8_t byte;
  int r = SSL_peek(h.ssl.get(), &byte, 1);
  if (r > 0)  // in the library's buffer now, which the held keys cannot read
    return fail(fd, ErrorClass::tls_handshake,
                "the server sent data right after the handshake (--tls-resume waits for its session ticket first)");
  // A record the library has only part of stays its to finish: the held keys start at a record's edge.
  if (h.ticket_came) return SSL_has_pending(h.ssl.get()) == 1 ? Step{Step::more} : finish(fd, h);
  int e = SSL_get_error(h.ssl.get(), r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return {Step::more};
  int err = errno;
  std::string words = tls::last_library_error();
  if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && err == 0))
    return fail(fd, ErrorClass::peer_closed, "the server closed before sending a session ticket");
  if (e == SSL_ERROR_SYSCALL) return fail(fd, classify_errno(err), std::strerror(err));
  return fail(fd, ErrorClass::tls_alert, words);
}

ClientTls::Step ClientTls::finish(int fd, Handshake& h) {
  if (std::string why = keys_.take(fd, h.ssl.get(), h, false); !why.empty())
    return fail(fd, ErrorClass::tls_handshake, why);
  int64_t took = monotonic_ns() - h.started_ns;
  // The connection goes on with its keys: freed without a shutdown, the object would tell the library
  // its session went bad, and the ticket just kept could not be resumed.
  SSL_set_shutdown(h.ssl.get(), SSL_SENT_SHUTDOWN);
  handshakes_.erase(fd);  // frees the library's object: from here the keys are the connection's TLS
  ++counters_.handshakes;
  return {Step::done, ErrorClass::other, took};
}

ClientTls::Step ClientTls::fail(int fd, ErrorClass why, const std::string& words) {
  counters_.note_error(words);
  handshakes_.erase(fd);
  return {Step::failed, why};
}

void ClientTls::forget(int fd) {
  handshakes_.erase(fd);
  keys_.forget(fd);
}

void ClientTls::stalled(int fd) {
  auto it = handshakes_.find(fd);
  bool no_ticket = it != handshakes_.end() && it->second->awaiting_ticket;
  fail(fd, ErrorClass::tls_stalled,
       no_ticket ? "no session ticket came within the connect timeout (--tls-resume needs a server that sends them)"
                 : "the handshake did not end within the connect timeout");
  keys_.forget(fd);
}

}  // namespace c1m::net
