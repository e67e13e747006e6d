// What a run ran on and under: the host fingerprint, and the limits and sysctls the process really
// had (read back, never assumed). Two records from different hosts are compared through these.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

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

}  // namespace c1m
