// The lab's progress line, from what the participants say of themselves: each client's status file
// (c1m client --status-file) and the server's /stats. Pure: documents in, one line out.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/record/run_record.hpp"

namespace c1m {

struct LabProgress {
  uint64_t target = 0;  // connections the run asked for, all clients together
  uint64_t clients_expected = 0;
  uint64_t clients_heard = 0;  // clients that have written a status
  uint64_t clients_done = 0;   // ... and said how they ended
  uint64_t clients_failed = 0;
  uint64_t established_clients = 0;
  double connect_rate_per_s = 0;
  uint64_t errors = 0;
  std::optional<uint64_t> established_server;  // null: the server's /stats did not answer
  // The most any reading of this run showed the server holding: the done line says it, as the
  // clients' counts there are what they reached (the server is closing, or too busy to answer).
  std::optional<uint64_t> server_peak_seen;
  std::string phase;          // starting, ramp, wait, hold, done
  std::string waiting_for;    // what the run waits on now, in words
  std::string first_failure;  // the first failed client's reason
};

// `statuses`: the clients' status documents; `server_connections`: what the server's /stats said it
// holds, when it answered.
LabProgress summarize_lab(const std::vector<nlohmann::ordered_json>& statuses,
                          std::optional<uint64_t> server_connections, uint64_t clients_expected, uint64_t target);
// "ramp  client 183.2k  server 183.0k of 1.00M  29.1k/s  errors 0  clients done 0/20  35s  waiting for ..."
std::string progress_line(const LabProgress& p, double elapsed_s);

// One client's progress at a point of its series (each second, and at its end), where it is now.
struct ClientNow {
  const char* phase;  // ramp, wait, hold, live, stop
  uint64_t target = 0;
  uint64_t in_flight = 0;
  uint64_t errors = 0;
  const std::string* status = nullptr;  // once it has ended: complete, failed, interrupted
  std::string reason{};
};
// "ramp  183.2k/500k established  29.1k/s  in-flight 200  errors 0  6.31s  server 183.0k  rtt p99 ..."
std::string client_progress_line(const ClientNow& now, const SeriesPoint& p);
// The status document a watcher (lab-up's progress line, summarize_lab) reads of a client.
nlohmann::ordered_json client_status_json(const ClientNow& now, const SeriesPoint& p);

}  // namespace c1m
