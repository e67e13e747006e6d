#include "net/client/start_wait.hpp"

#include <signal.h>
#include <unistd.h>

#include "core/host/clock.hpp"

namespace c1m::net {
namespace {
volatile sig_atomic_t g_stop_before_start = 0;
}  // namespace

StartWait wait_to_start(int64_t delay_ns, const std::string& start_file) {
  if (delay_ns <= 0 && start_file.empty()) return StartWait::go;
  struct sigaction stop {
  }, old_term{}, old_int{};
  stop.sa_handler = [](int) { g_stop_before_start = 1; };
  sigaction(SIGTERM, &stop, &old_term);
  sigaction(SIGINT, &stop, &old_int);
  for (int64_t until = monotonic_ns() + delay_ns; !g_stop_before_start && monotonic_ns() < until;) usleep(20'000);
  bool there = start_file.empty();
  for (int64_t until = monotonic_ns() + kStartFileWaitNs; !there && !g_stop_before_start && monotonic_ns() < until;) {
    there = access(start_file.c_str(), F_OK) == 0;
    if (!there) usleep(5'000);  // the clients' starts differ by this at most
  }
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  if (g_stop_before_start) return StartWait::stopped;
  return there ? StartWait::go : StartWait::no_start_file;
}

}  // namespace c1m::net
