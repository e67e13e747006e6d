// The parent side of a worker pool, shared by `c1m server` and `c1m client`: an event loop that reads
// every worker's messages, runs periodic timers, turns SIGINT/SIGTERM into a callback, and stops the
// workers with a grace period (final reports in, or SIGKILL when it runs out).
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "net/base/event_loop.hpp"
#include "net/base/worker_pool.hpp"

namespace c1m::net {

class Supervisor {
 public:
  using OnMessage = std::function<void(uint32_t worker, MessageType type, const void* payload, size_t size)>;

  Supervisor(WorkerPool& pool, OnMessage on_message);
  // The loop it runs: timers, signals and other sources (a stats poll) go on it.
  EventLoop& loop() { return loop_; }

  // Calls fn every `period` until the loop ends.
  void every(timeval period, std::function<void()> fn) { loop_.every(period, std::move(fn)); }
  // Calls fn(signal) on SIGINT or SIGTERM.
  void on_signal(std::function<void(int)> fn) { loop_.on_signal(std::move(fn)); }
  // Called once when a worker ends without its final report (crash, OOM kill).
  void on_worker_lost(std::function<void(size_t worker)> fn) { on_lost_ = std::move(fn); }

  void run();
  // Asks every worker to stop (SIGTERM); the loop ends when every final report is in or grace runs out.
  void stop(int grace_ms);

 private:
  void drain(size_t worker);
  void check_done();

  WorkerPool& pool_;
  OnMessage on_message_;
  std::function<void(size_t)> on_lost_;
  EventLoop loop_;
  std::vector<size_t> control_watch_;  // each worker's control socket, watched on the loop
  bool stopping_ = false;
};

}  // namespace c1m::net
