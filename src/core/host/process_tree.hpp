// What a server costs in its own processes (--target-pid): the resident memory and CPU time of a
// process and every descendant (nginx's master and workers, redis alone), read from /proc. A reading
// is taken before the ramp, when the target is held, as the live hold starts and as the run ends;
// their differences over the connections held are the server's bytes and CPU a connection.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/host/procfs.hpp"

namespace c1m::procfs {

// Field 4 of /proc/PID/stat (the parent's pid), read after the command name's last ')'.
std::optional<int> parse_stat_ppid(std::string_view stat_text);

// The process and its descendants, root first; empty when the root is not there.
std::vector<int> process_tree(int root, const std::string& proc_root = "/proc");

struct TreeUsage {
  uint64_t rss_bytes = 0;  // resident memory, every process of the tree (shared pages counted in each)
  CpuTime cpu{0, 0};       // user + system time, and user alone
  size_t processes = 0;
  std::string command;  // the root's (comm)
};
// /proc/PID/limits: the soft "Max open files" (nullopt: unlimited or not there).
std::optional<uint64_t> parse_limits_nofile(std::string_view limits_text);

// A reading of the tree now; nullopt when the root is gone.
std::optional<TreeUsage> tree_usage(int root, const std::string& proc_root = "/proc");

}  // namespace c1m::procfs
