#include "net/client/cpu_window.hpp"

#include "core/host/clock.hpp"

namespace c1m::net {

CpuWindow CpuWindow::open(int64_t now_ns, uint64_t client_cpu_ns) {
  return {now_ns, client_cpu_ns, procfs::machine_cpu(), std::nullopt};
}

WindowCores cores_since(const CpuWindow& w, uint64_t client_cpu_ns_now, const ServerWatch& server) {
  WindowCores c;
  c.seconds = static_cast<double>(monotonic_ns() - w.start_ns) / 1e9;
  if (c.seconds <= 0) return c;
  c.client = static_cast<double>(client_cpu_ns_now - w.client_cpu_ns) / 1e9 / c.seconds;
  if (auto now_cpu = procfs::machine_cpu(); now_cpu && w.machine) {
    c.machine_busy = procfs::busy_cores(*w.machine, *now_cpu, c.seconds);
    c.machine_steal = procfs::steal_cores(*w.machine, *now_cpu, c.seconds);
  }
  c.server = server.cores_since(w.server);
  return c;
}

}  // namespace c1m::net
