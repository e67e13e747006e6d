// Shared by the subcommands: the command table, and bad input as one line on stderr and exit status 2.
#pragma once
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "core/plan/tls_settings.hpp"
#include "core/usage.hpp"  // UsageError, require, single_endpoint

namespace c1m::app {

inline constexpr int kExitUsage = 2;

// Server and client share it: see set_sched_policy.
inline constexpr const char* kSchedHelp =
    "CPU scheduling policy of the workers: batch (SCHED_BATCH: a woken worker does not preempt the one "
    "running, so each side works through its backlog) or normal";
// The live hold's: a woken worker's pings (or echoes) are the latency measured, so it preempts.
inline constexpr const char* kLiveSchedHelp =
    "CPU scheduling policy of the workers once connections are pinged (the client's from its first ping, "
    "each server worker's from the first bytes it echoes): normal (a woken worker preempts, so a ping "
    "waits less) or batch";

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
Command add_meter_command(CLI::App& root);

// --tls and its settings (app/tls_options.cpp): the client's verify and name, the server's certificate.
void add_tls_options(CLI::App* command, TlsSettings& tls, bool server);

}  // namespace c1m::app
