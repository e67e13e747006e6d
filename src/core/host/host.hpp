// What a run ran on and under: the host fingerprint, and the limits and sysctls the process really
// had (read back, never assumed). Two records from different hosts are compared through these.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/host/doctor.hpp"  // HostFacts
#include "core/plan/endpoints.hpp"

namespace c1m {

using ojson = nlohmann::ordered_json;

// kernel, os, cpu_model, cpus, mem_total_bytes, hostname, container runtime (null natively).
ojson host_fingerprint();

// nofile soft/hard of this process, as it runs.
ojson process_limits();

// Namespaced sysctls (fresh in every container) and host-wide ones (shared by all containers).
ojson namespaced_sysctls();
ojson host_sysctls();

// A sysctl as text, by its dotted name ("net.core.somaxconn"); empty if it cannot be read.
std::string read_sysctl(const std::string& dotted_name);

// Raises the soft open-files limit to the hard one and returns the result.
uint64_t raise_nofile_to_hard();

// The CPU scheduling policy of this process and of the workers it forks after: "batch" (SCHED_BATCH)
// or "normal" (SCHED_OTHER). Under SCHED_BATCH a worker woken by a connection does not preempt the
// worker running: without it, each connect's SYN handling woke a server worker that took the CPU for
// one accept (in the lab, where client and server sit in different cgroups, 2.2 switches a
// connection against 0.28 natively). Returns "" or why the policy could not be set.
std::string set_sched_policy(const std::string& name);
// A process's policy (0: this one), read back: "normal", "batch", "idle", "fifo", "rr" or "other N".
std::string sched_policy_name(int pid = 0);

// Everything the doctor weighs, read from /proc and /proc/sys of this host (core/doctor is pure).
HostFacts read_host_facts();

// A host name's first IPv4 address through the C library's resolver (in a container: the engine's
// DNS, which names the swarm lab's services), or why it has none.
Parsed<Ipv4> resolve_host_name(const std::string& name);

// 16 hex digits from the system's randomness: a run's id.
std::string new_run_id();

}  // namespace c1m
