// One server worker process: listens on every configured endpoint with SO_REUSEPORT (the kernel
// spreads connections over the workers), holds each connection with one event and no buffer, and
// echoes fixed-size ping frames when asked.
#pragma once
#include <openssl/ssl.h>

#include <cstdint>
#include <vector>

#include "core/plan/endpoints.hpp"

namespace c1m::net {

struct ServerWorkerConfig {
  std::vector<Endpoint> listen;
  int backlog = 65535;
  bool echo = true;
  uint64_t capacity = 0;  // connections this worker takes before it stops listening
  uint32_t index = 0;
  int control_fd = -1;
  uint32_t workers = 1;              // the group's slots: every worker's listener on a port
  bool spread_by_port_block = true;  // see steer_by_source_port_block
  // The parent opens every worker's first listeners in worker order (one per endpoint, as in
  // `listen`), so slot k is the same worker in every port's group; empty: the worker opens its own.
  std::vector<int> first_listener_fds;
  const char* live_sched = "normal";  // the scheduling policy from the first bytes echoed (core/host)
  SSL_CTX* tls = nullptr;             // --tls: the parent's context (net/tls/tls_context); null: plain TCP
  bool tls_keeps_library = false;     // --tls-held library: a held connection keeps the library's object
};

// Runs until SIGTERM/SIGINT or until the parent goes away; returns the exit status.
int run_server_worker(const ServerWorkerConfig& config);

// Opens a non-blocking listening socket; -1 with errno set on failure.
int open_listener(const Endpoint& at, int backlog, bool reuse_port);

// Makes the kernel hand a new connection on this SO_REUSEPORT group to the listener in slot
// (source port / 16) mod `slots` instead of the one its 4-tuple hashes to. A c1m client worker
// numbers its source ports in order, one port for each of its (source, target) pairs in turn, so
// it feeds one server worker a run of 16 x pairs connections, and that worker takes a run per
// wake-up, much as each of the floor probe's servers has a client of its own. With the hash,
// nearly every connection woke a different worker: 0.64 server context switches per connection,
// against 0.28 for the whole floor probe. The block is small so that a small run still spreads: at
// 256 ports, a 20k run over 400 pairs fell into one block and filled one worker. (Adding the source
// address spread small runs too, but split a run over 20 sources into 20 workers, undoing the point.)
// Slots past the group's size (workers that filled and stopped listening) fall back to the hash.
inline constexpr uint32_t kSourcePortBlockBits = 4;
bool steer_by_source_port_block(int listener_fd, uint32_t slots);

}  // namespace c1m::net
