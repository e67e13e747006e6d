// IPv4 addresses, address ranges and endpoint lists as users write them on the command line:
//   --listen 127.0.0.1:9000-9019      one address, 20 ports
//   --source 127.0.0.2-127.0.0.21     20 addresses
//   --target 198.18.0.2:9000,198.18.0.3:9000
//   --target server:9000              a host name (the swarm lab's services), resolved once at start
// Parsing is pure: a name is looked up through the NameResolver the caller passes (core/host has the
// C library's); without one, only numeric addresses are taken.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hpp"

namespace c1m {

struct Ipv4 {
  uint32_t host_order = 0;
  std::string str() const;
  bool operator==(const Ipv4&) const = default;
  auto operator<=>(const Ipv4&) const = default;
};

struct Endpoint {
  Ipv4 ip;
  uint16_t port = 0;
  std::string str() const;
  bool operator==(const Endpoint&) const = default;
};

// More than this from one flag is surely a typo (and would allocate without bound).
inline constexpr size_t kMaxExpansion = 65536;

// A host name's one IPv4 address, or why it has none.
using NameResolver = std::function<Parsed<Ipv4>(const std::string& name)>;

Parsed<Ipv4> parse_ipv4(std::string_view text);
// True for text that names a host rather than writes an address or a range: letters, digits, '-',
// '.' and '_', with at least one letter or '_' ("127.0.0.1-127.0.0.9" is a range, "client-1" a name).
bool is_host_name(std::string_view text);
// "a", "a-b", a host name, or a comma list of those.
Parsed<std::vector<Ipv4>> parse_address_list(std::string_view text, const NameResolver& resolve = {});
// "ip:port", "ip:p1-p2", "ip1-ip2:port", "name:port" or a comma list of those; every address with
// every port.
Parsed<std::vector<Endpoint>> parse_endpoint_list(std::string_view text, const NameResolver& resolve = {});

// Addresses this project may send load to without being told otherwise: loopback (127.0.0.0/8) and
// the benchmarking range the lab uses (198.18.0.0/15, RFC 2544).
bool is_lab_address(Ipv4 ip);
bool is_loopback(Ipv4 ip);

}  // namespace c1m
