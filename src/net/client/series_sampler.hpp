// The client's time series, a point a second: what changed since the previous point (connects, the
// pings answered, the machine's busy and stolen CPU) and whether the run is at a new peak, when the
// kernel's memory and counters are worth reading. Kept apart from the runner, which decides when.
#pragma once
#include <cstdint>
#include <optional>

#include "core/host/procfs.hpp"
#include "core/plan/counters.hpp"
#include "core/record/run_record.hpp"
#include "net/client/cpu_reading.hpp"

namespace c1m::net {

class SeriesSampler {
 public:
  // From the ramp's start, with the machine's and the client's CPU as they were then.
  void start(int64_t ramp_start_ns, std::optional<procfs::MachineCpu> machine, const procfs::CpuTime& client_cpu) {
    ramp_start_ns_ = ramp_start_ns;
    last_machine_cpu_ = machine;
    last_client_cpu_ = client_cpu;
  }
  // The point for these totals, now, with the client's processes' CPU now and the server's latest
  // reading (its server count is the caller's to add).
  SeriesPoint point(const ClientCounters& t, int64_t now_ns, const procfs::CpuTime& client_cpu,
                    const std::optional<CpuReading>& server_cpu);
  // Whether these connections are the most seen at a point so far (0 never is).
  bool at_peak(uint64_t established) const { return established > 0 && established >= peak_; }
  void note_peak(uint64_t established) { peak_ = std::max(peak_, established); }
  // The workers' round trips as of the last point: what came in after it belongs to its second.
  const CoarseHistogram& rtt_at_last_point() const { return last_rtt_us_; }

 private:
  int64_t ramp_start_ns_ = 0;
  int64_t last_sample_ns_ = 0;
  uint64_t last_connected_ = 0;
  uint64_t peak_ = 0;
  CoarseHistogram last_rtt_us_;
  std::optional<procfs::MachineCpu> last_machine_cpu_;
  procfs::CpuTime last_client_cpu_;
  std::optional<CpuReading> last_server_cpu_;
};

}  // namespace c1m::net
