// --tls and its settings, as both sides take them: plain values, which net/tls turns into the
// library's context. The settings that change what a connection costs are all here, so the record
// can say each (tls_json).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace c1m {

struct TlsSettings {
  bool on = false;
  std::string cert_file, key_file;  // server: empty = a certificate made at start for the lab
  std::string ca_file;              // client: verify the server's certificate against these
  bool verify = false;              // client: refuse a certificate that does not verify (or names another host)
  std::string server_name;          // client: SNI, and the name checked when verifying; empty: none sent
  std::string group = "X25519";     // the key exchange
  std::string cipher = "TLS_AES_128_GCM_SHA256";
  bool release_buffers = true;  // SSL_MODE_RELEASE_BUFFERS: an idle connection holds no read or write buffer
  int tickets = 0;              // server: session tickets sent after each handshake (OpenSSL's default is 2)
  // client: each connection waits for the server's session ticket, and the worker's next handshake
  // resumes the latest one (a PSK handshake: no certificate, no signature)
  bool resume = false;
  // server: what a held connection keeps: "keys" (its traffic keys, the library's object freed after
  // the handshake, as c1m's client does) or "library" (the library's object, as most servers do).
  std::string held = "keys";
};

// What the record's config says of them (null without --tls).
nlohmann::ordered_json tls_json(const TlsSettings& s, bool server);

}  // namespace c1m
