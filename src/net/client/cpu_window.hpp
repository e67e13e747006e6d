// A window of a client's run (its ramp, hold or live hold): the CPU counts at its start, and the
// cores each side used from then to now. The server's side counts from its first answer within the
// window (net/client/server_watch), not from an earlier one.
#pragma once
#include <cstdint>
#include <optional>

#include "core/host/procfs.hpp"
#include "net/client/server_watch.hpp"

namespace c1m::net {

struct CpuWindow {
  int64_t start_ns = 0;
  procfs::CpuTime client_cpu;  // this client's processes'
  std::optional<procfs::MachineCpu> machine;
  std::optional<CpuReading> server;  // the server's first answer within it

  // Opens a window now (monotonic ns), the client's processes having used client_cpu so far.
  static CpuWindow open(int64_t now_ns, const procfs::CpuTime& client_cpu);
};

struct WindowCores {
  double seconds = 0;
  double client = 0;
  std::optional<double> machine_busy, machine_steal, server;
};

// The window's cores from its start to now.
WindowCores cores_since(const CpuWindow& w, const procfs::CpuTime& client_cpu_now, const ServerWatch& server);

}  // namespace c1m::net
