// Worker processes and the parent that counts for them. The parent forks N workers, each with a
// SOCK_SEQPACKET control socket; a worker sends its counters as whole messages (boundaries kept, no
// framing to parse), and its final report when told to stop (SIGTERM). A worker whose parent dies
// gets SIGTERM too, so nothing is left holding connections.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/host/procfs.hpp"

namespace c1m::net {

enum class MessageType : uint32_t {
  client_counters = 1,
  server_counters = 2,
  client_histograms = 3,
  final_done = 4,
  fatal = 5
};

struct MessageHeader {
  MessageType type;
  uint32_t worker;
};

// Sends one message (header + payload) on a control socket; false if the parent is gone.
bool send_message(int fd, MessageType type, uint32_t worker, const void* payload, size_t size);
// Receives one message; returns the payload size, kEndOfStream when the peer is gone, -1 when there
// is nothing to read (or the message was malformed).
inline constexpr ssize_t kEndOfStream = -2;
ssize_t receive_message(int fd, MessageHeader& header, void* payload, size_t capacity);
inline constexpr size_t kMaxMessage = 64 * 1024;

struct Worker {
  pid_t pid = -1;
  int control_fd = -1;  // parent's end
  bool final_received = false;
  bool end_of_stream = false;  // its control socket is drained and closed: nothing more will come
  bool exited = false;
  int exit_status = 0;  // as from waitpid
};

class WorkerPool {
 public:
  // Forks `count` workers; worker i runs body(i, its control fd) and exits with what it returns.
  // Returns an error message if a fork or socketpair failed (workers started so far are killed).
  std::string spawn(size_t count, const std::function<int(size_t, int)>& body);
  ~WorkerPool();

  std::vector<Worker>& workers() { return workers_; }
  void signal_all(int sig);
  // Reaps exited workers without blocking; returns how many are still alive.
  size_t reap_exited();
  // Waits up to timeout_ms for every worker to exit, then SIGKILLs the rest and reaps them.
  void wait_all(int timeout_ms);
  // "worker 3 (pid 123) was killed by signal 9" for workers that ended without a final report.
  std::string describe_lost() const;
  // CPU time used so far by this process and every live worker, read from /proc.
  procfs::CpuTime cpu() const;

 private:
  std::vector<Worker> workers_;
};

}  // namespace c1m::net
