// The client's run, in the parent process: forks the workers, moves the run from ramp to hold to
// stop on the supervisor's loop, polls the server's /stats without blocking, samples the series, and
// builds the run record. The workers themselves are net/client/client_worker.
#pragma once
#include <nlohmann/json.hpp>

#include "core/plan/client_config.hpp"

namespace c1m::net {

// Runs the experiment once and returns its record (status complete, failed or interrupted).
nlohmann::ordered_json run_client_once(const ClientConfig& config);

}  // namespace c1m::net
