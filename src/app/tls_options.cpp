// --tls and its settings, as the client and the server take them (core/plan/tls_settings).
#include "app/cli.hpp"
#include "core/plan/tls_settings.hpp"

namespace c1m::app {

void add_tls_options(CLI::App* c, TlsSettings& t, bool server) {
  c->add_flag("--tls", t.on,
              server ? "speak TLS 1.3 on every connection (a certificate is made at start unless --tls-cert)"
                     : "speak TLS 1.3 on every connection, in any --protocol (https, wss, MQTT and redis over TLS)")
      ->envname("C1M_TLS");
  c->add_option("--tls-group", t.group, "the key exchange (X25519, P-256, ...)")->capture_default_str();
  c->add_option("--tls-cipher", t.cipher,
                "the TLS 1.3 cipher suite (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
                "TLS_CHACHA20_POLY1305_SHA256)")
      ->capture_default_str();
  if (server) {
    c->add_option("--tls-cert", t.cert_file, "the certificate chain, PEM (with --tls-key)");
    c->add_option("--tls-key", t.key_file, "its private key, PEM");
    c->add_option("--tls-tickets", t.tickets, "session tickets sent after each handshake")
        ->check(CLI::Range(0, 10))
        ->envname("C1M_TLS_TICKETS")
        ->capture_default_str();
    c->add_option("--tls-held", t.held,
                  "what a held connection keeps: keys (its traffic keys; the library's object freed after the "
                  "handshake) or library (the library's object, as most servers keep it)")
        ->check(CLI::IsMember({"keys", "library"}))
        ->envname("C1M_TLS_HELD")
        ->capture_default_str();
  } else {
    c->add_flag("--tls-verify", t.verify,
                "refuse a server whose certificate does not verify against --tls-ca (and, with "
                "--tls-server-name, does not name it); off by default, for a lab's own certificate");
    c->add_option("--tls-ca", t.ca_file, "the certificates to trust, PEM (for --tls-verify)");
    c->add_option("--tls-server-name", t.server_name, "the name sent as SNI and checked with --tls-verify")
        ->envname("C1M_TLS_SERVER_NAME");
    c->add_flag("--tls-resume", t.resume,
                "resume sessions: each connection waits for the server's session ticket, and the next "
                "handshake of its worker resumes the latest (the server must send tickets)")
        ->envname("C1M_TLS_RESUME");
  }
}

}  // namespace c1m::app
