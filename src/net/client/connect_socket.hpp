// A client's socket: opened non-blocking, bound to its planned source and connecting to its target.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/plan/endpoints.hpp"

namespace c1m::net {

// Opens a socket and starts a non-blocking connect from src:port (src null: any address; port 0: the
// kernel's choice). Returns 0 with fd set, or the errno with nothing left open; an fd at or past
// fd_limit (the caller's per-connection table) is EMFILE.
int start_connect(const Ipv4* src, uint16_t port, const Endpoint& target, size_t fd_limit, int& fd);

// The socket ends with RST when it is closed, or its process exits: a million FIN closes would leave
// a million TIME_WAIT sockets (and conntrack entries, for 120 s) that burden the next run.
void reset_on_close(int fd);

}  // namespace c1m::net
