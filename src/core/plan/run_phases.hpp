// The client run's phases, ramp -> hold -> live -> stopping, as decisions on what the run sees every
// step (its workers' totals, the server's latest answer, the time). Pure: no clock, no processes, no
// I/O, so every way a run ends is a row in a test table (tests/unit/run_phases_test.cpp). The runner
// (net/client/client_runner) feeds it and does what it decides: measure, signal the workers, stop.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

namespace c1m {

enum class Phase { ramp, hold, live, stopping };

// What decides the phases, from the client's configuration.
struct PhaseRules {
  uint64_t target = 0;             // this client's connections
  int64_t ramp_timeout_ns = 0;     // the ramp settles within this, or the run fails
  std::string ramp_timeout_text;   // as the user gave it, for the reason
  int64_t stall_timeout_ns = 0;    // nothing added for this long: the run stops (0: never)
  int64_t hold_ns = 0;             // the idle hold
  int64_t live_ns = 0;             // the live hold after it (0: none)
  uint64_t hold_until_server = 0;  // the hold's clock waits for the server to hold this many (0: no wait)
  // --find-limit: the first sustained errors, or a stall, end the ramp short of the target instead of
  // the run; what was reached is held, and a run that holds anything is complete.
  bool find_limit = false;
  // One client of a run of many (the lab's): with --find-limit, a limit found before this client got
  // any share (the others filled the server) is a finding, and its run is complete with 0 held.
  bool one_of_many = false;
  // --slo-p99 (with --find-limit): the ramp's pings' p99 past this for kSloSeconds in a row is the
  // limit too (0: no objective).
  int64_t slo_p99_ns = 0;
  std::string slo_p99_text;  // as the user gave it, for the reason
};
inline constexpr uint32_t kSloSeconds = 3;

// --find-limit: errors are sustained once they reach this many of the connects attempted (1%, and at
// least 10): a few resets in a million are noise, a server refusing is not.
inline uint64_t sustained_errors(uint64_t attempted) { return std::max<uint64_t>(10, attempted / 100); }

// What the run sees at one step.
struct RunView {
  int64_t now_ns = 0;
  uint64_t established = 0;
  uint64_t connected_total = 0;  // connections ever completed: grows while the ramp makes progress
  uint64_t attempted = 0;        // connects started
  uint32_t slo_over_s = 0;       // the last seconds in a row whose pings' p99 passed --slo-p99
  uint64_t errors = 0;
  bool settled = false;        // every worker has reported and its ramp has ended
  bool quota_reached = false;  // every worker held its whole share at once
  uint64_t server_peak = 0;    // the server's own peak count, from its latest answer (monotonic)
  bool server_silent = true;   // no fresh answer from the server's /stats
  int64_t server_answered_ns = 0;
  std::string server_error;  // why the server's /stats did not answer, when it did not
};

struct Decision {
  enum class Action { none, go_live, finish, stop_ramp };  // stop_ramp: --find-limit found the limit
  bool entered_hold = false;  // the ramp ended at this step (before any action): take the ramp's figures
  Action action = Action::none;
  std::string status;  // finish: complete or failed
  std::string reason;  // finish: what was seen
  // What the runner adds to the reason: nothing, the shortfall (where the connections went), or the
  // stall's evidence (the silent limit that bit, read in each namespace, then the shortfall).
  enum class Evidence { none, shortfall, stall };
  Evidence evidence = Evidence::none;
};

class RunPhases {
 public:
  RunPhases(PhaseRules rules, int64_t ramp_start_ns)
      : rules_(std::move(rules)), ramp_start_ns_(ramp_start_ns), progress_ns_(ramp_start_ns) {}

  // Every step (100 ms): where the run goes from here.
  Decision step(const RunView& view);
  // The run stops (finished, a signal, a worker lost): no more decisions.
  void stop() { phase_ = Phase::stopping; }

  Phase phase() const { return phase_; }
  // --find-limit: what ended the ramp short ("errors", or the stall's "no connection added for ..."),
  // or "" while nothing has (a ramp that reached the target found no limit below it).
  const std::string& limit() const { return limit_; }
  const char* name() const;  // ramp, hold, live, stop
  // For a watcher: "wait" while the hold waits for the server to hold the whole target.
  const char* shown_name() const;

 private:
  Decision ramp(const RunView& v);
  Decision hold(const RunView& v);
  Decision live(const RunView& v) const;
  // While the hold waits for the server to hold the whole target: a reason to give up, if there is one.
  std::optional<Decision> waiting_in_vain(const RunView& v);
  bool stalled(int64_t quiet_ns) const { return rules_.stall_timeout_ns > 0 && quiet_ns >= rules_.stall_timeout_ns; }

  // --find-limit: the ramp stops at the first sustained errors or a stall (once).
  std::optional<Decision> limit_found(const RunView& v);
  // --find-limit: the run held what it found (for one client of many, a limit found counts with 0 held).
  bool limit_held(const RunView& v) const;
  void note_late_errors(const RunView& v);

  PhaseRules rules_;
  std::string limit_;
  int64_t ramp_start_ns_;
  Phase phase_ = Phase::ramp;
  int64_t hold_started_ns_ = 0;
  int64_t hold_from_ns_ = -1;  // when the hold's clock started: the ramp's end, or the server's full count
  int64_t live_started_ns_ = 0;
  // The last time anything moved: a connection added, the server's peak grown.
  uint64_t progress_connected_ = 0;
  int64_t progress_ns_;
  uint64_t server_progress_peak_ = 0;
  int64_t server_progress_ns_ = -1;  // -1: not waiting for the server yet
};

// Complete by the client's count is not complete when the server, by its own, never held the client's
// share (connections the kernel completed into a listen queue the server never drained: a stopped or
// wedged server). The reason, or nothing when the server agrees or never answered.
std::optional<std::string> server_never_held(uint64_t target, uint64_t server_peak, int64_t server_answered_ns,
                                             int64_t now_ns);

}  // namespace c1m
