// TLS 1.3's record protection (RFC 8446 sections 5.2-5.3 and 7.1-7.3), for a connection whose
// handshake the library did and whose library object was then freed: what a held connection keeps
// is its traffic keys and sequence numbers (TrafficKeys, 120 bytes), not the library's ~6-30 KB.
// Only what a held connection needs after its handshake: sealing and opening records with the
// application traffic keys. Everything else (a key update, a new handshake) ends the connection.
#pragma once
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace c1m::tls {

enum class Suite : uint8_t { none, aes_128_gcm_sha256, aes_256_gcm_sha384, chacha20_poly1305_sha256 };
// From the library's name of a TLS 1.3 cipher suite ("TLS_AES_128_GCM_SHA256"); none if not one.
Suite suite_named(std::string_view name);
size_t secret_size(Suite s);  // the hash's size: the traffic secret's

// One direction's key, IV and next record's sequence number.
struct TrafficKey {
  std::array<uint8_t, 32> key;  // 16 bytes used for AES-128
  std::array<uint8_t, 12> iv;
  uint64_t seq;
};

// A held connection's whole TLS state.
struct TrafficKeys {
  TrafficKey out, in;  // what we send, what we receive
  Suite suite;         // none: no keys (a free slot)
};
static_assert(sizeof(TrafficKeys) == 120);

// Derives a direction's key and IV from its traffic secret (HKDF-Expand-Label "key" and "iv").
bool derive_traffic_key(Suite s, const uint8_t* secret, size_t secret_len, TrafficKey& out);

// The record types (the outer type of every protected record is application_data).
enum ContentType : uint8_t { kAlert = 21, kHandshake = 22, kApplicationData = 23 };
inline constexpr size_t kRecordHeaderSize = 5;
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kMaxPlaintext = 16384;
// The largest protected record RFC 8446 allows, header included.
inline constexpr size_t kMaxRecordSize = kRecordHeaderSize + kMaxPlaintext + 256;

// A record's full size from its header (header included), or 0 if the header is not a TLS 1.3
// protected record's (wrong outer type or version, or too long).
size_t record_size(const uint8_t* header);

struct Opened {
  ContentType type;  // the inner content type
  size_t size;       // the plaintext's, which starts after the record's header
};

// Seals and opens records. One a process: the cipher contexts are shared by every connection.
class RecordLayer {
 public:
  RecordLayer();
  ~RecordLayer();
  RecordLayer(const RecordLayer&) = delete;
  RecordLayer& operator=(const RecordLayer&) = delete;
  bool ok() const { return ctx_ != nullptr; }

  // One record of `type` holding plain[0, n) (n <= kMaxPlaintext) into out, which has room for
  // n + kRecordHeaderSize + 1 + kTagSize bytes; its size, or 0 if the cipher failed. Advances key.seq.
  size_t seal(Suite s, TrafficKey& key, ContentType type, const uint8_t* plain, size_t n, uint8_t* out);
  // Opens one whole record (record_size bytes, header included) in place: the plaintext follows the
  // header. Nothing if it does not authenticate. Advances key.seq.
  std::optional<Opened> open(Suite s, TrafficKey& key, uint8_t* record, size_t n);

 private:
  const EVP_CIPHER* cipher(Suite s);
  EVP_CIPHER_CTX* ctx_;
  std::array<EVP_CIPHER*, 4> ciphers_{};
};

}  // namespace c1m::tls
