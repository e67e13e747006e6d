// `c1m collect --listen`'s configuration: the flags as typed (CollectorOptions) and the one validated
// CollectorConfig the service runs with (net/collector/collector_service). resolve_collector() is pure, as the
// client's resolve() is: a test puts every bound and refusal through it without a socket.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/collector/run_book.hpp"
#include "core/host/host.hpp"  // resolve_host_name
#include "core/plan/endpoints.hpp"

namespace c1m {

// The flags, as the user typed them (CLI11 fills these; defaults are the documented ones).
struct CollectorOptions {
  std::string listen;
  size_t expect_count = 0;
  std::string deadline = "30m";
  std::string out = "results";
  std::string approach;               // empty: from the records
  std::vector<std::string> lab_info;  // KEY=VALUE: what the lab configured, as the collector was told
  std::string max_held = "2g";
  std::string token;        // --run-token / C1M_RUN_TOKEN: the participants'
  std::string admin_token;  // --admin-token / C1M_ADMIN_TOKEN: the lab's own, to close a run
  std::string host_name;    // --host-name / C1M_HOST_NAME: the machine's, when the collector runs in a container
  std::string spool;        // default OUT/.spool
  std::string max_body = "64m";
  std::string max_record_values = "250k";  // a posted record's JSON values; each costs ~800 B parsed
  size_t max_connections = 64;
  std::string request_timeout = "10s";
};

struct CollectorConfig {
  Endpoint listen;
  size_t expect_count = 0;  // more than 0: one run of that many clients that name none, then exit
  RunBookLimits book;       // each run's deadline, the bytes held, the clients of the one run
  std::string out, approach, host_name;
  nlohmann::ordered_json lab = nlohmann::ordered_json::object();  // --lab-info, nested
  std::string token, admin_token;
  // What one peer can make the collector hold: max_connections bodies of max_body_bytes in flight.
  size_t max_body_bytes = 0, max_connections = 0;
  // A posted message's JSON values, counted before it is parsed: what bounds the collector's memory
  // while it parses (a parsed record costs about 800 bytes a value). A client's record holds 2-5
  // thousand, and 6-50 more a second of series.
  size_t max_record_values = 0;
  int request_timeout_s = 10;
  // Every message is on disk before it is answered 200; a run's messages go once its record is
  // written. A service's spool is OUT/.spool, taken up by the next service. An --expect-count
  // collector's one run has no id of its own, so without --spool it gets a spool of its own
  // (own_spool, under spool_root), which only a collector given it with --spool takes up: the next
  // benchmark's collector must not merge a dead one's records.
  std::string spool_dir, spool_root;
  bool own_spool = false;
  bool one_run() const { return expect_count > 0; }
};

// The validated configuration; a flag that cannot be used is a UsageError naming it and why. `now_ms`
// names an --expect-count collector's own spool.
CollectorConfig resolve_collector(const CollectorOptions& o, int64_t now_ms,
                                  const NameResolver& resolve = resolve_host_name);

// --lab-info network.parent=c1m0 -> {"network": {"parent": "c1m0"}}: the collector's own
// configuration, given once in compose.yaml from the same variables the participants get.
nlohmann::ordered_json lab_info_json(const std::vector<std::string>& pairs);

}  // namespace c1m
