// One server worker process: listens on every configured endpoint with SO_REUSEPORT (the kernel
// spreads connections over the workers), holds each connection with one event and no buffer, and
// echoes fixed-size ping frames when asked.
#pragma once
#include <cstdint>
#include <vector>

#include "core/endpoints.hpp"

namespace c1m::net {

struct ServerWorkerConfig {
  std::vector<Endpoint> listen;
  int backlog = 65535;
  bool echo = true;
  uint64_t capacity = 0;  // connections this worker takes before it stops listening
  uint32_t index = 0;
  int control_fd = -1;
};

// Runs until SIGTERM/SIGINT or until the parent goes away; returns the exit status.
int run_server_worker(const ServerWorkerConfig& config);

// Opens a non-blocking listening socket; -1 with errno set on failure.
int open_listener(const Endpoint& at, int backlog, bool reuse_port);

}  // namespace c1m::net
