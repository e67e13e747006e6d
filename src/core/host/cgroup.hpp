// What a server's cgroup says it costs: a container's memory as the kernel charged it, user and
// kernel apart, and its CPU. Version 1 (Docker 20.10 here) and version 2 name these differently;
// one reading serves both, and says which it read. Parsers take the files' text, so tests feed
// fixtures; read_cgroup() reads the files.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/host/procfs.hpp"

namespace c1m::procfs {

// Where a process's memory and CPU are accounted: the directories of its cgroup.
struct CgroupPaths {
  int version = 0;         // 1 or 2
  std::string path;        // as /proc/PID/cgroup names it (the memory controller's, in version 1)
  std::string memory_dir;  // v1: <root>/memory<path>; v2: <root><path>
  std::string cpu_dir;     // v1: the cpuacct hierarchy's directory; v2: the same as memory_dir
};

// /proc/PID/cgroup: version 1 where a hierarchy holds the memory controller, else version 2 (the
// "0::" line). `root` is where the hierarchies are mounted.
std::optional<CgroupPaths> parse_proc_cgroup(std::string_view text, const std::string& root = "/sys/fs/cgroup");

// Whether a server's cgroup (`target`) measures the server alone, from where the client sits (`mine`):
// "" when it does, else why not. The host's root cgroup holds everything on the host, and a cgroup
// the client shares would charge it the client's own kernel memory.
std::string cgroup_not_its_own(const CgroupPaths& target, const std::optional<CgroupPaths>& mine);

// The cgroup of process `pid` where it is its own and readable (nullopt, and why not in `why_not`,
// where it is not): natively, a server started as a systemd service or in a cgroup of its own.
std::optional<CgroupPaths> own_cgroup_of(int pid, std::string& why_not);

// memory.stat and cpu.stat: "key value" lines.
std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text);

struct CgroupUsage {
  uint64_t memory_bytes = 0;  // everything charged: v1 memory.usage_in_bytes, v2 memory.current
  uint64_t user_bytes = 0;    // anonymous memory: v1 memory.stat rss + rss_huge, v2 anon
  // Kernel memory charged to it: v1 memory.kmem.usage_in_bytes; v2 memory.stat kernel, or where the
  // kernel is older than 5.18, slab + sock + kernel_stack + pagetables. Null where not accounted.
  std::optional<uint64_t> kernel_bytes;
  // Socket buffers charged to it: v2 memory.stat sock; v1 memory.kmem.tcp.usage_in_bytes, which the
  // kernel counts only once memory.kmem.tcp.limit_in_bytes has been set (null while it is not).
  std::optional<uint64_t> socket_bytes;
  CpuTime cpu{0, std::nullopt};  // v1 cpuacct.usage and .usage_user; v2 cpu.stat usage_usec and user_usec
};

// Version 1's files as text, version 2's likewise: a reading from them (nullopt: not a cgroup's).
struct CgroupFiles {
  std::optional<std::string> memory_usage, memory_stat, kmem_usage, kmem_tcp_usage, kmem_tcp_limit, cpu_usage;
  std::optional<std::string> cpu_usage_user;  // v1 only (v2's cpu.stat has both)
};
std::optional<CgroupUsage> cgroup_usage_of(int version, const CgroupFiles& files);

// The files under `at`, read now; nullopt when the cgroup is gone.
std::optional<CgroupUsage> read_cgroup(const CgroupPaths& at);

// Why a reading of a server's cgroup says what it says of its sockets, for the record.
std::string socket_accounting(const CgroupPaths& at, const CgroupUsage& usage);

}  // namespace c1m::procfs
