// Before the ramp, one connection to the run's first target that speaks the run's protocol once: a
// target nothing listens on, or one that speaks another protocol than asked, is said in one line
// before thousands of connections find it out; what the server says of itself (HTTP's Server
// header, redis's redis_version, a raw listener's banner) names the target in the record.
// c1m's own server (echo) is not probed: its /stats says what it is.
#pragma once
#include <openssl/ssl.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/host/process_tree.hpp"
#include "core/plan/client_config.hpp"
#include "core/plan/endpoints.hpp"
#include "core/proto/reply.hpp"
#include "core/record/record.hpp"
#include "net/client/server_watch.hpp"
#include "net/tls/tls_context.hpp"

namespace c1m::net {

struct TargetProbe {
  std::string error;                // empty: it listens and answers in the protocol (a "no" in it counts)
  std::string software;             // what the server said it is; empty: it did not say
  std::optional<double> answer_ms;  // from the first byte sent to the whole first answer
  nlohmann::ordered_json tls;       // --tls: what the handshake settled (version, cipher, group, handshake_ms)
};

// Connects (a refused connect is tried again until the timeout: a server still starting), with `tls`
// does a TLS handshake (sending server_name, if any; with want_ticket, waiting for a session ticket),
// speaks the greeting and one ping, reads the answers with core/proto/reply, asks for the version
// where the protocol can (redis's INFO), and closes.
TargetProbe probe_target(const Endpoint& target, proto::Protocol p, const proto::PingText& text, int64_t timeout_ns,
                         SSL_CTX* tls = nullptr, const std::string& server_name = "", bool want_ticket = false);

// The record's topology.target for the run (its address, protocol, --target-name, what the probe
// heard) and, for a server not c1m's own or over TLS, the probe: why the run cannot start against
// it, or "". With --tls it first makes the run's client context, into `tls`, which the workers inherit.
std::string name_and_probe_target(const ClientConfig& run, tls::SslCtxPtr& tls, nlohmann::ordered_json& target);

// --target-pid: the server's own cost from its readings before the ramp and once the target is held:
// its CPU over the ramp, resident bytes and (from a cgroup of its own) kernel bytes a connection into
// the run (the record's server figures), and topology.target.process with the readings.
void note_target_cost(int pid, const TargetReading& before, const TargetReading& held, uint64_t connections,
                      ClientRun& run);

// What a server's bytes say it is (pure, for the tests): HTTP's Server header, redis's
// redis_version, or the first line of a raw listener's banner; printable, at most 80 characters.
std::string software_said(proto::Protocol p, const std::string& bytes);

}  // namespace c1m::net
