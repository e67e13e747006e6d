// The one way this project spells an IPv4 socket address.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>

#include "core/plan/endpoints.hpp"

namespace c1m::net {

inline sockaddr_in sockaddr_of(Ipv4 ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(ip.host_order);
  return a;
}

inline sockaddr_in sockaddr_of(const Endpoint& at) { return sockaddr_of(at.ip, at.port); }

}  // namespace c1m::net
