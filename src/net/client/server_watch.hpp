// The server as one client sees it, from its /stats: polled on the client's loop without blocking
// (net/http/stats_poller), its joint peak (monotonic: the most it held at once), whether it answers now,
// and its CPU seconds with the moment it said so, for the CPU windows of the run. A server that is not
// c1m's (--target-pid) has no /stats: its CPU is read from its process tree in /proc instead, and its
// kernel memory from its cgroup where it has one of its own.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/host/cgroup.hpp"
#include "core/host/process_tree.hpp"
#include "core/plan/endpoints.hpp"
#include "core/record/server_stats.hpp"
#include "net/client/cpu_reading.hpp"

struct event_base;

namespace c1m::net {

class StatsPoller;

// --target-pid: one reading of the server, its process tree and, where it has one of its own, its
// cgroup (the kernel memory charged to it, which no process's figures show).
struct TargetReading {
  procfs::TreeUsage tree;
  std::optional<procfs::CgroupPaths> cgroup_at;  // null: not read, for the reason in cgroup_not_read
  std::string cgroup_not_read;
  std::optional<procfs::CgroupUsage> cgroup;
};

class ServerWatch {
 public:
  explicit ServerWatch(std::optional<Endpoint> server, int target_pid = 0);
  ~ServerWatch();

  // Opens the kept stats connection on the loop (as the ramp starts, long before it can fill any
  // table); stop() closes it, before the loop goes.
  void start(event_base* base);
  void stop();
  // Asks again and takes in the latest answer: what the server holds now, if it answered lately.
  std::optional<uint64_t> poll();
  // One last reading at the end, while the connections are still held (blocking, 2 s at most): the
  // latest polled answer may be a second old and miss the last connections. settle: the run ended
  // early, its connections lost just now; the server's workers report every 500 ms, so wait for that.
  void final_reading(bool settle);

  bool silent(int64_t now_ns) const;  // no answer for a few polls: not answering now
  int64_t answered_ns() const { return answered_ns_; }
  uint64_t joint_peak() const { return joint_peak_; }
  std::optional<uint64_t> most_seen() const { return most_seen_; }  // the most it said it held now
  const std::optional<ServerStats>& latest() const { return latest_; }
  const std::string& error() const { return error_; }
  std::optional<CpuReading> cpu() const;
  // --target-pid: the server, read now (poll() reads its process tree, for its CPU); nullopt: none, or gone.
  std::optional<TargetReading> read_target();
  // Its cores from a reading at a window's start to its latest, when they are at least a second apart
  // (its answers come when they come, not when the window opened or closed).
  std::optional<double> cores_since(const std::optional<CpuReading>& start) const;

 private:
  void take(const std::optional<ServerStats>& stats, int64_t answered_ns);
  void read_tree();  // --target-pid: its processes' memory and CPU into target_

  std::optional<Endpoint> server_;
  int target_pid_ = 0;
  std::optional<procfs::TreeUsage> target_;  // its latest reading, and when
  int64_t target_at_ns_ = 0;
  std::optional<procfs::CgroupPaths> target_cgroup_;  // where it has one of its own, else why not:
  std::string target_cgroup_not_read_;                // looked up once, as the watch is made
  std::unique_ptr<StatsPoller> poller_;               // on the client's loop, while it runs
  std::optional<ServerStats> latest_;
  int64_t answered_ns_ = 0;
  uint64_t joint_peak_ = 0;
  std::optional<uint64_t> most_seen_;
  std::string error_;
};

}  // namespace c1m::net
