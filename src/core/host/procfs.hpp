// Readers for the /proc files that explain a run: Slab and per-cache objects (kernel memory per
// socket), sockstat (the kernel's own count of TCP sockets, the article's `ss` check), netstat TcpExt
// (accept-queue overflows, SYN retransmits, cookies, memory aborts), and a process's RSS.
// Each parser takes the file's text, so tests feed it fixtures copied from real machines.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace c1m::procfs {

// Whole file, or nullopt if it cannot be read (absent, or not allowed: /proc/slabinfo is root-only).
std::optional<std::string> read_text(const std::string& path);

// /proc/meminfo: key -> bytes ("Slab" -> 123456789).
std::map<std::string, uint64_t> parse_meminfo(std::string_view text);

struct SlabCache {
  uint64_t active_objs = 0;
  uint64_t num_objs = 0;
  uint64_t objsize_bytes = 0;
};
// /proc/slabinfo (version 2.1): cache name -> objects.
std::map<std::string, SlabCache> parse_slabinfo(std::string_view text);

// /proc/net/sockstat: "TCP.inuse", "TCP.alloc", "TCP.mem" (pages), "sockets.used", ...
std::map<std::string, uint64_t> parse_sockstat(std::string_view text);

// /proc/net/netstat or /proc/net/snmp: "TcpExt.ListenOverflows" -> value. Header and value lines alternate.
std::map<std::string, uint64_t> parse_netstat(std::string_view text);

// /proc/self/statm: resident set size in bytes (second field, pages).
std::optional<uint64_t> parse_statm_rss_bytes(std::string_view text, uint64_t page_size);
// Its private part: resident less the file-backed and shared pages (third field), i.e. RssAnon.
std::optional<uint64_t> parse_statm_anon_bytes(std::string_view text, uint64_t page_size);

// The caches that make up a socket's kernel cost.
inline constexpr const char* kSocketCaches[] = {"TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi"};

// The TcpExt counters whose deltas explain a failed ramp.
inline constexpr const char* kTcpExtCounters[] = {"ListenOverflows", "ListenDrops", "TCPSynRetrans", "SyncookiesSent",
                                                  "TCPAbortOnMemory"};

// One snapshot of the host-wide and namespace counters, taken before and after a ramp.
struct KernelSnapshot {
  std::optional<uint64_t> slab_bytes;
  std::optional<uint64_t> mem_available_bytes;  // MemAvailable: what the host could still give
  std::map<std::string, SlabCache> caches;      // empty when slabinfo is not readable
  bool slabinfo_readable = false;
  std::map<std::string, uint64_t> sockstat;
  std::map<std::string, uint64_t> tcpext;
  // This network namespace's connection-tracking table: entries in use (counted per namespace) and
  // the host-wide limit on each namespace's count. Absent where tracking is not loaded.
  std::optional<uint64_t> conntrack_count;
  std::optional<uint64_t> conntrack_max;
};
// Reading /proc/slabinfo walks the slab lists under the allocator's locks: with millions of sockets
// it slows the very allocations being measured. Take it only at the start and at the end of a hold.
enum class SlabDetail { with_caches, without_caches };
KernelSnapshot take_kernel_snapshot(SlabDetail detail = SlabDetail::with_caches,
                                    const std::string& proc_root = "/proc");

// The established TCP connections of a process's network namespace (Tcp: CurrEstab of PROC_DIR/net/snmp,
// PROC_DIR being /proc/PID): the kernel's own count, cheap at a million. nullopt: no such process.
std::optional<uint64_t> established_in_namespace(const std::string& proc_dir);

// This process's resident anonymous memory (statm resident - shared): what its own data costs. The
// static binary's code pages are file-backed and shared by every worker: the first TLS handshake
// pages in ~3 MB of the library's code a worker, which is no connection's.
uint64_t self_anon_rss_bytes();
// File descriptors this process has open: the entries of /proc/self/fd (the one readdir holds is
// not counted). A walk of the table: read it once, not once a second with 20,000 open.
uint64_t self_open_fds();
// CPU time in nanoseconds: all of it, and the part in user mode (the program's own code; nullopt
// where the source does not split it). The rest is the kernel's: system calls and, with this
// kernel's tick accounting, the network's softirq work that ran while the process was on the CPU.
struct CpuTime {
  uint64_t total_ns = 0;
  std::optional<uint64_t> user_ns;

  CpuTime& operator+=(const CpuTime& o);
  // Since `earlier` (counters only grow; a smaller reading, from a process gone between, gives 0).
  CpuTime since(const CpuTime& earlier) const;
  double total_s() const { return static_cast<double>(total_ns) / 1e9; }
  std::optional<double> user_s() const;
  std::pair<double, std::optional<double>> seconds() const { return {total_s(), user_s()}; }
};
// A process's from /proc/PID/stat: utime (field 14) and utime + stime (15).
std::optional<CpuTime> parse_stat_cpu(std::string_view stat_text, uint64_t ticks_per_s);
CpuTime process_cpu(int pid);

// The machine's CPU from /proc/stat's first line, as the floor probe reads it: busy (user, nice,
// system, irq, softirq of every core) and steal (what the hypervisor took away), in nanoseconds; also
// idle (with iowait) and the number of cores listed. A container reads the host's (no namespace for it).
struct MachineCpu {
  uint64_t busy_ns = 0, steal_ns = 0, idle_ns = 0;
  uint32_t cpus = 0;
};
std::optional<MachineCpu> parse_machine_cpu(std::string_view proc_stat_text, uint64_t ticks_per_s);
std::optional<MachineCpu> machine_cpu();

// Busy cores between two readings `wall_s` apart: the larger of two figures that each read short in
// their own way. Wall time less idle and steal: the kernel keeps idle exactly (tickless) but charges
// busy time a tick at a time, so over a load of short wake-ups the busy fields miss much of it (in a
// live hold of 1M here they said 0.82-1.09 cores where wall less idle said 1.50-1.62, 10 s samples).
// But where wall less idle and steal is below what the ticks charged, the fields add up to more than
// the wall time: some of it is counted twice, as idle and as steal (a guest's idle runs on while it
// waits for its vCPU; the likely cause when a CI host read 0 cores over a live hold of 4,000 pings a
// second, which reads 0.07 here). There the ticks are the better figure. In a saturated ramp the two
// agree (2.00 and 2.00), so the ramp keeps the floor probe's busy fields alone.
double busy_cores(const MachineCpu& start, const MachineCpu& end, double wall_s);
// Cores the hypervisor took away between two readings `wall_s` apart.
double steal_cores(const MachineCpu& start, const MachineCpu& end, double wall_s);

}  // namespace c1m::procfs
