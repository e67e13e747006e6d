#include "net/client/cpu_window.hpp"

#include "core/host/clock.hpp"

namespace c1m::net {

CpuWindow CpuWindow::open(int64_t now_ns, const procfs::CpuTime& client_cpu) {
  return {now_ns, client_cpu, procfs::machine_cpu(), std::nullopt};
}

WindowCores cores_since(const CpuWindow& w, const procfs::CpuTime& client_cpu_now, const ServerWatch& server) {
  WindowCores c;
  c.seconds = static_cast<double>(monotonic_ns() - w.start_ns) / 1e9;
  if (c.seconds <= 0) return c;
  c.client = client_cpu_now.since(w.client_cpu).total_s() / c.seconds;
  if (auto now_cpu = procfs::machine_cpu(); now_cpu && w.machine) {
    c.machine_busy = procfs::busy_cores(*w.machine, *now_cpu, c.seconds);
    c.machine_steal = procfs::steal_cores(*w.machine, *now_cpu, c.seconds);
  }
  c.server = server.cores_since(w.server);
  return c;
}

}  // namespace c1m::net
