#include "core/plan/endpoints.hpp"

#include <charconv>

namespace c1m {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    parts.push_back(text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

Parsed<uint16_t> parse_port(std::string_view text) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size())
    return {"port '" + std::string(text) + "' is not a number"};
  if (v < 1 || v > 65535) return {"port " + std::string(text) + " is outside 1-65535"};
  return {static_cast<uint16_t>(v)};
}

// "a-b" into its two ends; a lone "a" is both ends.
std::pair<std::string_view, std::string_view> split_range(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return {text, text};
  return {text.substr(0, dash), text.substr(dash + 1)};
}

// One address, a range "a-b", or a host name (one address, through the resolver).
Parsed<std::vector<Ipv4>> parse_address_range(std::string_view text, const NameResolver& resolve) {
  if (is_host_name(text)) {
    if (!resolve) return {"'" + std::string(text) + "' is a host name; only numeric IPv4 addresses are taken here"};
    auto ip = resolve(std::string(text));
    if (!ip.ok()) return {ip.error()};
    return {std::vector<Ipv4>{ip.value()}};
  }
  auto [lo_text, hi_text] = split_range(text);
  auto lo = parse_ipv4(lo_text);
  if (!lo.ok()) return {lo.error()};
  auto hi = parse_ipv4(hi_text);
  if (!hi.ok()) return {hi.error()};
  if (hi.value().host_order < lo.value().host_order) return {"address range " + std::string(text) + " is reversed"};
  if (hi.value().host_order - lo.value().host_order >= kMaxExpansion)
    return {"address range " + std::string(text) + " has more than 65536 addresses"};
  std::vector<Ipv4> out;
  for (uint64_t a = lo.value().host_order; a <= hi.value().host_order; ++a) out.push_back({static_cast<uint32_t>(a)});
  return {std::move(out)};
}

}  // namespace

std::string Ipv4::str() const {
  return std::to_string(host_order >> 24) + "." + std::to_string((host_order >> 16) & 255) + "." +
         std::to_string((host_order >> 8) & 255) + "." + std::to_string(host_order & 255);
}

std::string Endpoint::str() const { return ip.str() + ":" + std::to_string(port); }

Parsed<Ipv4> parse_ipv4(std::string_view text) {
  auto parts = split(text, '.');
  std::string bad = "'" + std::string(text) + "' is not a numeric IPv4 address (like 127.0.0.1)";
  if (parts.size() != 4) return {bad};
  uint32_t v = 0;
  for (auto part : parts) {
    unsigned octet = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), octet);
    if (part.empty() || part.size() > 3 || ec != std::errc() || p != part.data() + part.size() || octet > 255)
      return {bad};
    v = (v << 8) | octet;
  }
  return {Ipv4{v}};
}

bool is_host_name(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  bool lettered = false;
  for (char c : text) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(c >= '0' && c <= '9') && c != '-' && c != '.') return false;
    lettered = lettered || letter;
  }
  return lettered;
}

Parsed<std::vector<Ipv4>> parse_address_list(std::string_view text, const NameResolver& resolve) {
  if (text.empty()) return {std::string("empty address list")};
  std::vector<Ipv4> out;
  for (auto item : split(text, ',')) {
    auto r = parse_address_range(item, resolve);
    if (!r.ok()) return {r.error()};
    out.insert(out.end(), r.value().begin(), r.value().end());
    if (out.size() > kMaxExpansion) return {std::string("more than 65536 addresses")};
  }
  return {std::move(out)};
}

Parsed<std::vector<Endpoint>> parse_endpoint_list(std::string_view text, const NameResolver& resolve) {
  if (text.empty()) return {std::string("empty endpoint list")};
  std::vector<Endpoint> out;
  for (auto item : split(text, ',')) {
    size_t colon = item.rfind(':');
    if (colon == std::string_view::npos)
      return {"'" + std::string(item) + "' has no port (expected ADDRESS:PORT or ADDRESS:PORT1-PORT2)"};
    auto addrs = parse_address_range(item.substr(0, colon), resolve);
    if (!addrs.ok()) return {addrs.error()};
    auto [lo_text, hi_text] = split_range(item.substr(colon + 1));
    auto lo = parse_port(lo_text);
    if (!lo.ok()) return {lo.error()};
    auto hi = parse_port(hi_text);
    if (!hi.ok()) return {hi.error()};
    if (hi.value() < lo.value()) return {"port range " + std::string(item.substr(colon + 1)) + " is reversed"};
    for (Ipv4 ip : addrs.value())
      for (unsigned port = lo.value(); port <= hi.value(); ++port) {
        out.push_back({ip, static_cast<uint16_t>(port)});
        if (out.size() > kMaxExpansion) return {std::string("more than 65536 endpoints")};
      }
  }
  return {std::move(out)};
}

bool is_loopback(Ipv4 ip) { return (ip.host_order >> 24) == 127; }

bool is_lab_address(Ipv4 ip) {
  return is_loopback(ip) || (ip.host_order & 0xFFFE0000u) == 0xC6120000u;  // 198.18.0.0/15
}

}  // namespace c1m
