// `c1m server`'s configuration: the flags as typed (ServerOptions) and the one validated ServerConfig
// the service runs with (net/server/server_service). resolve_server() is pure, as the client's resolve()
// is: the open-files limit comes in as an argument, so a test sizes the workers for any host.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/host/host.hpp"  // resolve_host_name
#include "core/plan/endpoints.hpp"
#include "core/plan/tls_settings.hpp"

namespace c1m {

// The flags, as the user typed them (CLI11 fills these; defaults are the documented ones).
struct ServerOptions {
  std::string listen = "127.0.0.1:9000";
  std::string expect = "1m";
  std::string admin;
  std::string json;
  std::string duration = "0";
  std::string max_per_worker;
  std::string spread = "port-block";
  std::string sched = "batch";
  std::string live_sched = "normal";
  std::string report_to;
  std::string run_id;
  int backlog = 65535;
  size_t workers = 0;
  bool no_echo = false;
  bool share_ports = false;  // join ports another process already listens on (SO_REUSEPORT)
  std::string run_token;     // the collector's token, sent with hello and report
  TlsSettings tls;
};

struct ServerConfig {
  std::vector<Endpoint> listen;
  std::string listen_text;  // as given, for the start line
  uint64_t expect = 0;      // connections to size the workers for; the ramp's CPU ends when all are held
  int64_t duration_ns = 0;  // 0: until a signal
  std::optional<Endpoint> admin, report_to;
  std::string json, run_id, run_token;
  std::string spread, sched, live_sched;
  int backlog = 65535;
  bool echo = true, share_ports = false;
  uint64_t capacity = 0;  // connections a worker holds before it stops listening
  size_t workers = 0;
  uint64_t nofile = 0;  // the open-files limit the workers inherit
  TlsSettings tls;      // --tls: every connection's handshake, then its echoes, through the library
};

// The kernel spreads connections over SO_REUSEPORT listeners by hash, unevenly: at 1M over 52 workers
// some reached 19,900 while the mean was 19,230. The workers are sized for 10% more than expected.
inline constexpr double kReusePortHeadroom = 1.10;

// The validated configuration for a process whose open-files limit is `nofile`; a flag that cannot be
// used is a UsageError naming it and why.
ServerConfig resolve_server(const ServerOptions& o, uint64_t nofile, const NameResolver& resolve = resolve_host_name);

}  // namespace c1m
