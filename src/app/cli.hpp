// Shared by the subcommands: bad input becomes one line on stderr and exit status 2.
#pragma once
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "core/endpoints.hpp"
#include "core/units.hpp"

namespace c1m::app {

inline constexpr int kExitUsage = 2;

// Thrown for bad input; main() prints "c1m: <what>" and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The parsed value of a flag, or a UsageError naming the flag, the value and what was expected.
template <typename T>
T require(const Parsed<T>& parsed, const std::string& flag, const std::string& text) {
  if (!parsed.ok()) throw UsageError(flag + " '" + text + "': " + parsed.error());
  return parsed.value();
}

// The one endpoint of a flag that takes exactly one ADDRESS:PORT (an admin port, a collector).
inline Endpoint single_endpoint(const std::string& flag, const std::string& text) {
  auto list = require(parse_endpoint_list(text), flag, text);
  if (list.size() != 1) throw UsageError(flag + " '" + text + "': expected one ADDRESS:PORT, got " + std::to_string(list.size()));
  return list[0];
}

// Server and client share it: see set_sched_policy.
inline constexpr const char* kSchedHelp =
    "CPU scheduling policy of the workers: batch (SCHED_BATCH: a woken worker does not preempt the one "
    "running, so each side works through its backlog) or normal";

// A subcommand and what runs it once the command line has parsed.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_server_command(CLI::App& root);
Command add_client_command(CLI::App& root);
Command add_doctor_command(CLI::App& root);
Command add_host_tune_command(CLI::App& root);
Command add_collect_command(CLI::App& root);
Command add_compare_command(CLI::App& root);
Command add_plot_command(CLI::App& root);
Command add_watch_command(CLI::App& root);

}  // namespace c1m::app
