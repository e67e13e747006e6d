// What a run leaves behind, built from plain structs (the caller reads the host and the clock), so
// tests check it without a network or a host: the client's run as a RunRecord (core/run_record). The
// server's account of itself is core/server_stats.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/host/procfs.hpp"
#include "core/plan/counters.hpp"
#include "core/record/run_record.hpp"
#include "core/record/server_stats.hpp"

namespace c1m {

struct ClientRun {
  std::string run_id;
  std::string status = "complete";  // complete | interrupted | failed
  std::string reason;
  std::string approach;  // multi-ip | multi-port | custom
  int64_t started_unix_ms = 0;
  int64_t ended_unix_ms = 0;
  ojson config;  // the resolved configuration
  ojson topology;
  ojson limits;   // of the client processes
  ojson host;     // the host fingerprint, read by the caller
  ojson sysctls;  // {namespaced, host}, read back by the caller
  size_t workers = 0;
  int64_t ramp_start_ns = 0;      // CLOCK_MONOTONIC, same clock as the workers' times
  ClientCounters totals;          // sum of the workers' final counters
  uint64_t established_peak = 0;  // the joint peak, sampled by the parent
  ClientHistograms histograms;
  procfs::KernelSnapshot kernel_before;
  procfs::KernelSnapshot kernel_at_peak;
  std::optional<ServerStats> server_stats;  // the server's /stats at the peak, when --server-stats was given
  std::string server_stats_error;
  std::optional<uint64_t> server_connections_peak;  // the most the server reported during this run
  std::vector<SeriesPoint> series;
  std::vector<std::string> warnings;
  // CPU used while holding, in cores (1.0 = one core busy), from /proc of every process on each side.
  std::optional<double> hold_cpu_cores_client;
  std::optional<double> hold_cpu_cores_server;
  // CPU over the ramp alone (its start to the moment every worker settled), as the floor probe
  // measures its own: the machine's busy and steal seconds (/proc/stat), this client's processes'.
  // the machine's cumulative counters at the ramp's two ends (the record takes busy and steal from
  // them, and a merge the union of many clients' windows), and this client's processes' CPU seconds.
  std::optional<procfs::MachineCpu> ramp_machine_cpu_start, ramp_machine_cpu_end;
  std::optional<double> ramp_cpu_client_s, ramp_cpu_client_user_s;  // all of it, and in user mode
  // --target-pid: the server's own cost from its process tree (it has no /stats), filling the
  // record's server figures: its CPU over the ramp, its resident bytes a held connection and, from a
  // cgroup of its own, its kernel bytes a held connection.
  std::optional<double> target_ramp_cpu_s, target_ramp_cpu_user_s, target_user_bytes_per_connection;
  std::optional<double> target_kernel_bytes_per_connection;
  // The live hold (--live): how long it lasted, the pings sent in it, each side's CPU in cores, and
  // the machine's busy and steal cores over it (/proc/stat: what the pings waited behind).
  std::optional<double> live_hold_s;  // results.live_hold_s: what it lasted (config.live_s: what --live asked)
  uint64_t live_pings = 0;
  std::optional<uint64_t> limit_connections;  // --find-limit: what the target held when the run ended
  std::optional<double> live_cpu_cores_client, live_cpu_cores_server;
  std::optional<double> live_machine_busy_cores, live_machine_steal_cores;
};

// The client's run as a record: host facts read here (fingerprint, sysctls), figures derived from the run.
RunRecord build_client_record(const ClientRun& run);

// Kernel memory per socket: Slab growth over the host-wide growth in allocated TCP sockets
// (sockstat's TCP alloc counts both ends when both live on this kernel, as in the lab).
std::optional<double> kernel_bytes_per_socket(const procfs::KernelSnapshot& before,
                                              const procfs::KernelSnapshot& after);

// {count, max} of a snapshot's namespace conntrack table; nulls where tracking is not loaded.
ojson conntrack_json(const procfs::KernelSnapshot& s);
ojson tcpext_delta(const procfs::KernelSnapshot& before, const procfs::KernelSnapshot& after);
// {class: count} for every error class.
ojson errors_json(const ErrorCounts& e);
// Bytes a connection: growth over a baseline, over the connections; null with none.
std::optional<double> per_connection(uint64_t grown_bytes_total, uint64_t baseline_total, uint64_t connections);

}  // namespace c1m
