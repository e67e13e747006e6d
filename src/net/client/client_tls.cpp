#include "net/client/client_tls.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstring>

namespace c1m::net {

// A connection's handshake: the library's object, and the secrets its key-log hook fills.
struct ClientTls::Handshake {
  tls::HandshakeSecrets secrets;
  tls::SslPtr ssl;
};

ClientTls::ClientTls(SSL_CTX* ctx, std::string server_name, bool check_name, size_t slots, TlsCounters& counters)
    : ctx_(ctx),
      server_name_(std::move(server_name)),
      check_name_(check_name),
      counters_(counters),
      keys_(slots, counters) {
  tls::capture_secrets(ctx_);
}

ClientTls::~ClientTls() = default;

ClientTls::Step ClientTls::start(int fd) {
  auto h = std::make_unique<Handshake>();
  h->ssl.reset(SSL_new(ctx_));
  if (!h->ssl || SSL_set_fd(h->ssl.get(), fd) != 1) return fail(fd, ErrorClass::other, "out of memory for a handshake");
  SSL_set_app_data(h->ssl.get(), &h->secrets);
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
  if (std::string why = keys_.take(fd, h.ssl.get(), h.secrets, false); !why.empty())
    return fail(fd, ErrorClass::tls_handshake, why);
  handshakes_.erase(fd);  // frees the library's object: from here the keys are the connection's TLS
  ++counters_.handshakes;
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
  keys_.forget(fd);
}

}  // namespace c1m::net
