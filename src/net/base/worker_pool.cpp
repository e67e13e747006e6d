#include "net/base/worker_pool.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/host/clock.hpp"
#include "core/host/procfs.hpp"
#include "core/units.hpp"

namespace c1m::net {

bool send_message(int fd, MessageType type, uint32_t worker, const void* payload, size_t size) {
  MessageHeader h{type, worker};
  iovec iov[2] = {{&h, sizeof h}, {const_cast<void*>(payload), size}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = size ? 2 : 1;
  // The parent drains continuously; block briefly rather than drop a final report.
  while (true) {
    ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
    if (n >= 0) return true;
    if (errno != EINTR) return false;
  }
}

ssize_t receive_message(int fd, MessageHeader& header, void* payload, size_t capacity) {
  iovec iov[2] = {{&header, sizeof header}, {payload, capacity}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = 2;
  ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
  if (n == 0) return kEndOfStream;
  if (n < static_cast<ssize_t>(sizeof header) || (m.msg_flags & MSG_TRUNC)) return -1;
  return n - static_cast<ssize_t>(sizeof header);
}

std::string WorkerPool::spawn(size_t count, const std::function<int(size_t, int)>& body) {
  pid_t parent = getpid();
  for (size_t i = 0; i < count; ++i) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
      signal_all(SIGKILL);
      wait_all(0);
      return std::string("cannot create a worker control socket: ") + std::strerror(errno);
    }
    // The final report carries two 16 KiB histograms: make room so a busy parent never truncates it.
    int buf = 256 * 1024;
    setsockopt(pair[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    pid_t pid = fork();
    if (pid < 0) {
      close(pair[0]);
      close(pair[1]);
      signal_all(SIGKILL);
      wait_all(0);
      return std::string("cannot fork worker ") + std::to_string(i) + ": " + std::strerror(errno);
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);  // the parent died before prctl took effect
      for (auto& w : workers_) close(w.control_fd);
      close(pair[0]);
      _exit(body(i, pair[1]));
    }
    close(pair[1]);
    fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK);
    workers_.push_back({pid, pair[0]});
  }
  return {};
}

WorkerPool::~WorkerPool() {
  signal_all(SIGKILL);
  wait_all(0);
  for (auto& w : workers_)
    if (w.control_fd >= 0) close(w.control_fd);
}

void WorkerPool::signal_all(int sig) {
  for (auto& w : workers_)
    if (!w.exited && w.pid > 0) kill(w.pid, sig);
}

size_t WorkerPool::reap_exited() {
  size_t alive = 0;
  for (auto& w : workers_) {
    if (w.exited) continue;
    int status = 0;
    pid_t r = waitpid(w.pid, &status, WNOHANG);
    if (r == w.pid) {
      w.exited = true;
      w.exit_status = status;
    } else {
      ++alive;
    }
  }
  return alive;
}

void WorkerPool::wait_all(int timeout_ms) {
  const int64_t start = monotonic_ns();
  while (reap_exited() > 0) {
    long elapsed = static_cast<long>((monotonic_ns() - start) / 1'000'000);
    if (elapsed >= timeout_ms) {
      signal_all(SIGKILL);
      for (auto& w : workers_)
        if (!w.exited && waitpid(w.pid, &w.exit_status, 0) == w.pid) w.exited = true;
      return;
    }
    usleep(10000);
  }
}

procfs::CpuTime WorkerPool::cpu() const {
  procfs::CpuTime total = procfs::process_cpu(getpid());
  for (const Worker& w : workers_)
    if (!w.exited) total += procfs::process_cpu(w.pid);
  return total;
}

std::string WorkerPool::describe_lost() const {
  std::string out;
  for (size_t i = 0; i < workers_.size(); ++i) {
    const Worker& w = workers_[i];
    if (w.final_received) continue;
    std::string what = "worker " + std::to_string(i) + " (pid " + std::to_string(w.pid) + ")";
    if (!w.exited)
      what += " sent no final report";
    else if (WIFSIGNALED(w.exit_status))
      what += " was killed by signal " + std::to_string(WTERMSIG(w.exit_status));
    else
      what += " exited with status " + std::to_string(WEXITSTATUS(w.exit_status)) + " without a final report";
    append_clause(out, what);
  }
  return out;
}

}  // namespace c1m::net
