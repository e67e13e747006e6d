#include "net/tls/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

namespace c1m::tls {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

// The settings both sides share: TLS 1.3 only, one group, one cipher suite.
bool apply_common(SSL_CTX* ctx, const TlsSettings& s, std::string& error) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    error = "TLS 1.3 is not available in " + library_version();
    return false;
  }
  if (SSL_CTX_set1_groups_list(ctx, s.group.c_str()) != 1) {
    error = "the key-exchange group '" + s.group + "' is not one the TLS library knows (try X25519, P-256)";
    return false;
  }
  if (SSL_CTX_set_ciphersuites(ctx, s.cipher.c_str()) != 1) {
    error = "the cipher suite '" + s.cipher +
            "' is not a TLS 1.3 suite (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256)";
    return false;
  }
  if (s.release_buffers) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return true;
}

// A self-signed P-256 certificate for "c1m-lab", valid for a day: the lab's own, never verified.
bool use_made_certificate(SSL_CTX* ctx, std::string& error) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, X509Free> cert(X509_new());
  bool ok = key && cert && X509_set_version(cert.get(), 2) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400) != nullptr &&
            X509_set_pubkey(cert.get(), key.get()) == 1;
  if (ok) {
    X509_NAME* name = X509_get_subject_name(cert.get());
    ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("c1m-lab"), -1, -1,
                                    0) == 1 &&
         X509_set_issuer_name(cert.get(), name) == 1 && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0 &&
         SSL_CTX_use_certificate(ctx, cert.get()) == 1 && SSL_CTX_use_PrivateKey(ctx, key.get()) == 1;
  }
  if (!ok) error = "cannot make the lab's certificate: " + last_library_error();
  return ok;
}

bool readable(const std::string& path, std::string& error, const char* what) {
  if (std::ifstream(path).good()) return true;
  error = std::string("cannot read the ") + what + " " + path;
  return false;
}

}  // namespace

std::string last_library_error() {
  unsigned long e = ERR_get_error();
  std::string text;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    text = reason != nullptr ? reason : "error " + std::to_string(e);
  }
  ERR_clear_error();
  return text;
}

std::string library_version() { return OpenSSL_version(OPENSSL_VERSION); }

bool kernel_tls_available() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_available_ulp");
  std::string word;
  while (in >> word)
    if (word == "tls") return true;
  return false;
}

SslCtxPtr make_server_context(const TlsSettings& s, std::string& error) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    error = "cannot set TLS up: " + last_library_error();
    return nullptr;
  }
  if (!apply_common(ctx.get(), s, error)) return nullptr;
  if (s.cert_file.empty() != s.key_file.empty()) {
    error = "--tls-cert and --tls-key go together (neither: a certificate is made for the lab)";
    return nullptr;
  }
  if (s.cert_file.empty()) {
    if (!use_made_certificate(ctx.get(), error)) return nullptr;
  } else {
    if (!readable(s.cert_file, error, "certificate") || !readable(s.key_file, error, "key")) return nullptr;
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), s.cert_file.c_str()) != 1) {
      error = "the certificate " + s.cert_file + " is not a PEM certificate: " + last_library_error();
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), s.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      std::string words = last_library_error();
      error = words.find("mismatch") != std::string::npos
                  ? "the key " + s.key_file + " does not match the certificate " + s.cert_file
                  : "the key " + s.key_file + " is not a PEM private key: " + words;
      return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
      error = "the key " + s.key_file + " does not match the certificate " + s.cert_file;
      ERR_clear_error();
      return nullptr;
    }
  }
  // Tickets cost the server work and the client bytes, for resumptions a hold never makes: none by
  // default (OpenSSL's own default is 2).
  SSL_CTX_set_num_tickets(ctx.get(), static_cast<size_t>(s.tickets));
  return ctx;
}

SslCtxPtr make_client_context(const TlsSettings& s, std::string& error) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    error = "cannot set TLS up: " + last_library_error();
    return nullptr;
  }
  if (!apply_common(ctx.get(), s, error)) return nullptr;
  if (s.verify) {
    if (s.ca_file.empty()) {
      error = "--tls-verify needs --tls-ca FILE (the certificates to trust)";
      return nullptr;
    }
    if (!readable(s.ca_file, error, "CA file")) return nullptr;
    if (SSL_CTX_load_verify_locations(ctx.get(), s.ca_file.c_str(), nullptr) != 1) {
      error = "the CA file " + s.ca_file + " holds no PEM certificate: " + last_library_error();
      return nullptr;
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  // Resuming, the client keeps sessions itself (net/client/client_tls: one a worker, the latest);
  // otherwise every handshake is full.
  SSL_CTX_set_session_cache_mode(
      ctx.get(), s.resume ? SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE : SSL_SESS_CACHE_OFF);
  return ctx;
}

}  // namespace c1m::tls
