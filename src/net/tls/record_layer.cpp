#include "net/tls/record_layer.hpp"

#include <openssl/hmac.h>

#include <cstring>
#include <string>

namespace c1m::tls {
namespace {

const EVP_MD* hash_of(Suite s) { return s == Suite::aes_256_gcm_sha384 ? EVP_sha384() : EVP_sha256(); }
size_t key_size(Suite s) { return s == Suite::aes_128_gcm_sha256 ? 16 : 32; }

// HKDF-Expand-Label(secret, label, "", length) for a length of at most one hash: HKDF-Expand's
// first block, HMAC(secret, HkdfLabel || 0x01).
bool expand_label(Suite s, const uint8_t* secret, size_t secret_len, std::string_view label, uint8_t* out,
                  size_t length) {
  std::string info;
  info.push_back(static_cast<char>(length >> 8));
  info.push_back(static_cast<char>(length & 0xff));
  info.push_back(static_cast<char>(6 + label.size()));
  info.append("tls13 ").append(label);
  info.push_back(0);  // an empty context
  info.push_back(1);  // the block's counter
  uint8_t block[EVP_MAX_MD_SIZE];
  unsigned int block_len = 0;
  if (HMAC(hash_of(s), secret, static_cast<int>(secret_len), reinterpret_cast<const uint8_t*>(info.data()), info.size(),
           block, &block_len) == nullptr ||
      block_len < length)
    return false;
  std::memcpy(out, block, length);
  return true;
}

// The per-record nonce: the IV with the sequence number, big-endian, XORed into its last 8 bytes.
std::array<uint8_t, 12> nonce_of(const TrafficKey& k) {
  std::array<uint8_t, 12> n = k.iv;
  for (int i = 0; i < 8; ++i) n[11 - i] ^= static_cast<uint8_t>(k.seq >> (8 * i));
  return n;
}

void write_header(uint8_t* h, size_t body) {
  h[0] = kApplicationData;
  h[1] = 0x03;
  h[2] = 0x03;
  h[3] = static_cast<uint8_t>(body >> 8);
  h[4] = static_cast<uint8_t>(body & 0xff);
}

}  // namespace

Suite suite_named(std::string_view name) {
  if (name == "TLS_AES_128_GCM_SHA256") return Suite::aes_128_gcm_sha256;
  if (name == "TLS_AES_256_GCM_SHA384") return Suite::aes_256_gcm_sha384;
  if (name == "TLS_CHACHA20_POLY1305_SHA256") return Suite::chacha20_poly1305_sha256;
  return Suite::none;
}

size_t secret_size(Suite s) { return s == Suite::aes_256_gcm_sha384 ? 48 : 32; }

bool derive_traffic_key(Suite s, const uint8_t* secret, size_t secret_len, TrafficKey& out) {
  out = {};
  if (s == Suite::none || secret_len != secret_size(s)) return false;
  return expand_label(s, secret, secret_len, "key", out.key.data(), key_size(s)) &&
         expand_label(s, secret, secret_len, "iv", out.iv.data(), out.iv.size());
}

size_t record_size(const uint8_t* h) {
  if (h[0] != kApplicationData || h[1] != 0x03 || h[2] != 0x03) return 0;
  size_t body = static_cast<size_t>(h[3]) << 8 | h[4];
  if (body < kTagSize + 1 || kRecordHeaderSize + body > kMaxRecordSize) return 0;
  return kRecordHeaderSize + body;
}

RecordLayer::RecordLayer() : ctx_(EVP_CIPHER_CTX_new()) {}

RecordLayer::~RecordLayer() {
  EVP_CIPHER_CTX_free(ctx_);
  for (EVP_CIPHER* c : ciphers_) EVP_CIPHER_free(c);
}

const EVP_CIPHER* RecordLayer::cipher(Suite s) {
  static constexpr const char* kNames[] = {"", "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
  auto k = static_cast<size_t>(s);
  if (s == Suite::none || k >= ciphers_.size()) return nullptr;
  if (ciphers_[k] == nullptr) ciphers_[k] = EVP_CIPHER_fetch(nullptr, kNames[k], nullptr);
  return ciphers_[k];
}

size_t RecordLayer::seal(Suite s, TrafficKey& key, ContentType type, const uint8_t* plain, size_t n, uint8_t* out) {
  const EVP_CIPHER* c = cipher(s);
  if (c == nullptr || ctx_ == nullptr || n > kMaxPlaintext) return 0;
  size_t body = n + 1 + kTagSize;
  write_header(out, body);
  std::array<uint8_t, 12> nonce = nonce_of(key);
  uint8_t* at = out + kRecordHeaderSize;
  int len = 0;
  const auto inner = static_cast<uint8_t>(type);
  bool ok = EVP_EncryptInit_ex2(ctx_, c, key.key.data(), nonce.data(), nullptr) == 1 &&
            EVP_EncryptUpdate(ctx_, nullptr, &len, out, kRecordHeaderSize) == 1 &&
            EVP_EncryptUpdate(ctx_, at, &len, plain, static_cast<int>(n)) == 1 &&
            EVP_EncryptUpdate(ctx_, at + len, &len, &inner, 1) == 1 &&
            EVP_EncryptFinal_ex(ctx_, at + n + 1, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, kTagSize, at + n + 1) == 1;
  if (!ok) return 0;
  ++key.seq;
  return kRecordHeaderSize + body;
}

std::optional<Opened> RecordLayer::open(Suite s, TrafficKey& key, uint8_t* record, size_t n) {
  const EVP_CIPHER* c = cipher(s);
  if (c == nullptr || ctx_ == nullptr || n < kRecordHeaderSize + kTagSize + 1 || record_size(record) != n)
    return std::nullopt;
  size_t sealed = n - kRecordHeaderSize - kTagSize;
  uint8_t* at = record + kRecordHeaderSize;
  std::array<uint8_t, 12> nonce = nonce_of(key);
  int len = 0;
  bool ok = EVP_DecryptInit_ex2(ctx_, c, key.key.data(), nonce.data(), nullptr) == 1 &&
            EVP_DecryptUpdate(ctx_, nullptr, &len, record, kRecordHeaderSize) == 1 &&
            EVP_DecryptUpdate(ctx_, at, &len, at, static_cast<int>(sealed)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, kTagSize, at + sealed) == 1 &&
            EVP_DecryptFinal_ex(ctx_, at + len, &len) == 1;
  if (!ok) return std::nullopt;
  ++key.seq;
  // The inner type is the last byte that is not padding; all padding is a peer's error.
  size_t end = sealed;
  while (end > 0 && at[end - 1] == 0) --end;
  if (end == 0) return std::nullopt;
  return Opened{static_cast<ContentType>(at[end - 1]), end - 1};
}

}  // namespace c1m::tls
