// The library's contexts for c1m's TLS: TLS 1.3 only, the settings that change a connection's cost
// explicit (the key-exchange group, the cipher suite, buffers released while idle, session tickets),
// and every failure to set one up a sentence naming what and why (a missing certificate, a key that
// does not match it, a group the library does not know).
#pragma once
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "core/plan/tls_settings.hpp"

namespace c1m::tls {

using c1m::TlsSettings;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// Null with `error` saying why.
SslCtxPtr make_server_context(const TlsSettings& s, std::string& error);
SslCtxPtr make_client_context(const TlsSettings& s, std::string& error);

// The library's last error as text ("wrong version number"), and the queue cleared; "" if none.
std::string last_library_error();
// "OpenSSL 3.0.19 27 Jan 2026"
std::string library_version();
// Whether this kernel has TLS (CONFIG_TLS: /proc/sys/net/ipv4/tcp_available_ulp lists "tls"); c1m
// never uses it, but the record says whether it could have.
bool kernel_tls_available();

}  // namespace c1m::tls
