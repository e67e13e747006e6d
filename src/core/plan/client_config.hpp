// `c1m client`'s configuration: the flags as typed (ClientOptions), what this host says about them
// (HostProbe), and the one validated ClientConfig the run uses. resolve() is pure: every host fact
// it needs comes in through the probe, so a test can put it on any host. To add a client flag, three
// files: its fields here (ClientOptions, ClientConfig), its check in resolve() and its line in
// config_json() (client_config.cpp), the flag itself in app/cmd_client.cpp.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/plan/endpoints.hpp"
#include "core/plan/plan.hpp"
#include "core/plan/run_phases.hpp"
#include "core/plan/tls_settings.hpp"
#include "core/proto/reply.hpp"

namespace c1m {

// The flags, as the user typed them (CLI11 fills these; defaults are the documented ones).
struct ClientOptions {
  std::string target = "127.0.0.1:9000";
  std::string source;
  std::string connections = "10k";
  std::string rate = "0";
  std::string max_in_flight = "0";
  std::string connect_timeout = "10s";
  std::string hold = "10s";
  std::string ping_interval = "0";
  std::string live = "0";         // after the hold, this long more with every connection pinged (the live hold)
  std::string protocol = "echo";  // what a held connection speaks: raw, echo, redis, http (core/proto/reply)
  std::string http_path = "/";    // --protocol http: the path each ping GETs
  std::string target_name;        // what the user calls the server measured (the record's topology.target.name)
  std::string target_image;       // the container image it runs from, where it does (topology.target.image)
  bool find_limit = false;        // ramp to the first sustained errors or a stall, hold what was reached
  TlsSettings tls;                // --tls and its settings
  int target_pid = 0;             // the server's process (and its children), read for its own cost
  std::string slo_p99;            // --find-limit's latency objective for the ramp's pings ("50ms"; "": none)
  std::string start_delay = "0";  // wait before the ramp (the lab sets each container's namespace up meanwhile)
  std::string start_file;         // then wait until this file exists (the lab's start line); empty: no wait
  std::string ramp_timeout = "10m";
  std::string stall_timeout = "20s";
  std::string status_file;
  std::string json;
  std::string server_stats;
  std::string approach = "auto";
  std::string progress = "auto";
  std::string source_ports = "planned";
  size_t workers = 0;
  size_t repeat = 1;
  std::string hold_until_server;
  std::string report_to;
  std::string sched = "batch";
  std::string live_sched = "normal";
  std::string run_id;        // the lab's run this client is part of; empty: a run of its own
  uint64_t run_clients = 1;  // clients in that run, this one included
  std::string run_token;     // the collector's token, sent with hello and record
  // What the run was asked to hold, all clients together, where a wrapper (lab-up's preflight) cut
  // it to what the host holds, and why: the record says what was asked beside what ran.
  std::string run_asked_connections;
  std::string run_cut_by;
  bool allow_any_target = false;
};

// What the host says, read by the caller (app/cmd_client.cpp reads the real one).
struct HostProbe {
  std::function<std::string(Ipv4)> bind_error;                       // "" if this process can bind to the address
  std::function<std::optional<Ipv4>(const Endpoint&)> route_source;  // the source address the route picks
  std::function<std::string(const std::string& dir)> write_error;    // "" if files can be created there
  NameResolver resolve;                                              // host names in addresses; empty: numeric only
  std::optional<PortRange> ephemeral_ports;                          // net.ipv4.ip_local_port_range
  uint64_t nofile = 0;                                               // the open-files limit the workers will have
  std::optional<uint64_t> conntrack_max, conntrack_count;            // absent where tracking is not loaded
  uint32_t random = 0;                                               // seeds where in the port range the plan starts
  std::string hostname;                                              // replaces {hostname} in file paths
  bool stderr_is_tty = false;                                        // for --progress auto
};

inline constexpr uint64_t kDefaultInFlightPerWorker = 200;

// Everything the run needs, validated.
struct ClientConfig {
  ConnectPlan plan;                     // sources x targets, the connection count, the ports each pair may use
  std::optional<PortRange> port_range;  // the kernel's ephemeral range, when it could be read
  size_t workers = 0;                   // worker processes
  uint64_t capacity = 0;                // connections one worker may hold under the open-files limit
  double rate = 0;                      // connects per second, all workers together; 0: as fast as in-flight allows
  uint64_t in_flight_per_worker = 0;    // connects one worker keeps in flight at most
  int64_t connect_timeout_ns = 0;       // one connect's limit
  int64_t hold_ns = 0;                  // how long the whole target is held
  int64_t ping_interval_ns = 0;         // 0: no pings
  int64_t live_ns = 0;                  // the live hold after the idle one; 0: none (pings, if any, from the start)
  proto::Protocol protocol = proto::Protocol::echo;
  std::string http_path;                 // --protocol http: the path each ping GETs
  std::string target_name;               // --target-name
  std::string target_image;              // --target-image
  bool find_limit = false;               // --find-limit
  TlsSettings tls;                       // --tls (net/client/client_tls)
  int target_pid = 0;                    // --target-pid (0: none)
  int64_t slo_p99_ns = 0;                // --slo-p99 (0: none)
  std::string slo_p99_text;              // as given
  proto::PingText ping_text;             // the HTTP request each ping sends, made once
  int64_t start_delay_ns = 0;            // before anything is measured; SIGTERM in it is an interrupted run
  std::string start_file;                // after the delay, the ramp waits until it exists; empty: none
  int64_t ramp_timeout_ns = 0;           // the ramp (and a wait for the server) fails after this
  std::string ramp_timeout_text;         // as typed, for the failure's reason
  int64_t stall_timeout_ns = 0;          // 0: never give up on a ramp that adds nothing
  std::string status_file;               // rewritten every second for a watcher (lab-up); empty: none
  std::string json;                      // the record's path ({hostname} replaced); "-": stdout; empty: none
  std::optional<Endpoint> server_stats;  // the server's --admin, polled once a second
  std::optional<Endpoint> report_to;     // a collector: hello at start, the record at the end
  uint64_t hold_until_server = 0;        // count the hold from when the server holds this many; 0: from the ramp's end
  std::string approach;                  // multi-ip | multi-port | custom
  bool live_progress = false;            // a status line rewritten in place (a terminal)
  bool plain_progress = false;           // a line every 5 seconds (a log)
  std::string sched;                     // the workers' scheduling policy, as asked
  std::string live_sched;                // theirs once they ping, as asked
  size_t repeat = 1;                     // repetitions of the whole experiment
  std::string run_id;                    // the lab's run; empty: a run of its own
  uint64_t run_clients = 1;              // clients in that run
  std::string run_token;                 // the collector's token (never written into a record)
  uint64_t run_asked_connections = 0;    // 0: nothing was cut
  std::string run_cut_by;
  std::vector<std::string> warnings;  // printed at the start and kept in the record
};

// The configuration, or a UsageError naming the first flag that cannot be used here and why.
ClientConfig resolve(const ClientOptions& options, const HostProbe& host);

// "multi-ip" (many sources, one target), "multi-port" (one source, many targets) or "custom".
std::string derive_approach(const ConnectPlan& plan);

// What the run record says of the configuration (its `config` and `topology` sections).
nlohmann::ordered_json config_json(const ClientConfig& config);
// What decides the run's phases (core/plan/run_phases), from its configuration.
PhaseRules phase_rules(const ClientConfig& config);
nlohmann::ordered_json topology_json(const ClientConfig& config);

}  // namespace c1m
