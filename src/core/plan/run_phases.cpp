#include "core/plan/run_phases.hpp"

#include <algorithm>

#include "core/units.hpp"

namespace c1m {
namespace {

Decision finish(bool ok, std::string reason = {}, Decision::Evidence evidence = Decision::Evidence::shortfall) {
  Decision d;
  d.action = Decision::Action::finish;
  d.status = ok ? "complete" : "failed";
  if (!ok) {
    d.reason = std::move(reason);
    d.evidence = evidence;
  }
  return d;
}

Decision stall(std::string what) { return finish(false, std::move(what), Decision::Evidence::stall); }

}  // namespace

const char* RunPhases::name() const {
  switch (phase_) {
    case Phase::ramp:
      return "ramp";
    case Phase::hold:
      return "hold";
    case Phase::live:
      return "live";
    case Phase::stopping:
      break;
  }
  return "stop";
}

const char* RunPhases::shown_name() const {
  return phase_ == Phase::hold && hold_from_ns_ < 0 && rules_.hold_until_server ? "wait" : name();
}

Decision RunPhases::step(const RunView& v) {
  if (v.connected_total > progress_connected_) {
    progress_connected_ = v.connected_total;
    progress_ns_ = v.now_ns;
  }
  switch (phase_) {
    case Phase::ramp: {
      Decision d = ramp(v);
      if (!d.entered_hold || d.action != Decision::Action::none) return d;
      Decision h = hold(v);  // the hold's clock may start at the ramp's last step
      h.entered_hold = true;
      return h;
    }
    case Phase::hold:
      return hold(v);
    case Phase::live:
      return live(v);
    case Phase::stopping:
      break;
  }
  return {};
}

// A ramp that settled before its errors came (a server that completes the handshake, then refuses in
// its protocol a moment later) found the limit all the same.
void RunPhases::note_late_errors(const RunView& v) {
  if (rules_.find_limit && limit_.empty() && v.errors > 0 && v.errors >= sustained_errors(v.attempted))
    limit_ = "errors";
}

bool RunPhases::limit_held(const RunView& v) const {
  return v.established > 0 || (rules_.one_of_many && !limit_.empty());
}

std::optional<Decision> RunPhases::limit_found(const RunView& v) {
  if (!rules_.find_limit || !limit_.empty() || v.settled) return std::nullopt;
  if (v.errors >= sustained_errors(v.attempted))
    limit_ = "errors";
  else if (rules_.slo_p99_ns > 0 && v.slo_over_s >= kSloSeconds)
    limit_ = "ping p99 over " + rules_.slo_p99_text + " for " + std::to_string(v.slo_over_s) + " s";
  else if (stalled(v.now_ns - progress_ns_) && v.established < rules_.target)
    limit_ = "no connection added for " + format_duration_ns(v.now_ns - progress_ns_);
  if (limit_.empty()) return std::nullopt;
  Decision d;
  d.action = Decision::Action::stop_ramp;
  return d;
}

Decision RunPhases::ramp(const RunView& v) {
  if (auto found = limit_found(v)) return *found;
  // A ramp that adds nothing for the stall timeout will not add the rest: a host limit bit (a full
  // conntrack table drops SYNs without an error). Stop now, with the limit, not at the ramp timeout.
  // (--find-limit: the stall found the limit; the ramp's stop settles it.)
  if (!rules_.find_limit && stalled(v.now_ns - progress_ns_) && v.established < rules_.target)
    return stall("no connection added for " + format_duration_ns(v.now_ns - progress_ns_) + " during the ramp");
  if (v.settled) note_late_errors(v);
  if (v.settled) {
    if (v.established == 0 && !(rules_.find_limit && rules_.one_of_many && !limit_.empty()))
      return finish(false, "nothing to hold");
    phase_ = Phase::hold;
    hold_started_ns_ = v.now_ns;
    Decision d;
    d.entered_hold = true;
    return d;
  }
  if (v.now_ns - ramp_start_ns_ > rules_.ramp_timeout_ns)
    return finish(false, "the ramp did not settle within " + rules_.ramp_timeout_text);
  return {};
}

Decision RunPhases::hold(const RunView& v) {
  // Many clients (the lab's 20 containers) end their ramps at different times: each counts its hold
  // from the moment the server holds the whole target, so the target is held at once for --hold,
  // not just touched while the first clients to finish are leaving.
  if (hold_from_ns_ < 0 && (rules_.hold_until_server == 0 || v.server_peak >= rules_.hold_until_server))
    hold_from_ns_ = v.now_ns;
  if (hold_from_ns_ < 0)
    if (auto give_up = waiting_in_vain(v)) return *give_up;
  bool held = hold_from_ns_ >= 0 ? v.now_ns - hold_from_ns_ >= rules_.hold_ns
                                 : v.now_ns - ramp_start_ns_ > rules_.ramp_timeout_ns;
  if (!held) return {};
  note_late_errors(v);
  bool ok = rules_.find_limit ? limit_held(v) : v.quota_reached && v.errors == 0 && v.established == rules_.target;
  if (ok && rules_.live_ns > 0 && hold_from_ns_ >= 0) {
    phase_ = Phase::live;
    live_started_ns_ = v.now_ns;
    Decision d;
    d.action = Decision::Action::go_live;
    return d;
  }
  return finish(ok);
}

Decision RunPhases::live(const RunView& v) const {
  if (v.now_ns - live_started_ns_ < rules_.live_ns) return {};
  return finish(rules_.find_limit ? limit_held(v) : v.errors == 0 && v.established == rules_.target);
}

// Waiting for the server to hold the whole target: give up once it cannot get there. This client's
// own share is part of the target, so a share that settled short means never; a server that adds
// nothing for the stall timeout (its namespace full, or its stats unreachable) means not soon.
std::optional<Decision> RunPhases::waiting_in_vain(const RunView& v) {
  // A server that does not answer in time is not a server that adds nothing: its stall clock runs
  // only while it answers (a silent one is bounded by --ramp-timeout). At 1M on 2 cores /stats
  // took longer than the poll's 500 ms for many seconds, and clients gave up on a live ramp.
  if (v.server_peak > server_progress_peak_ || server_progress_ns_ < 0 || v.server_silent) {
    server_progress_peak_ = v.server_peak;
    server_progress_ns_ = v.now_ns;
  }
  std::string target = format_thousands(rules_.hold_until_server);
  if (v.established < rules_.target)
    return stall("this client settled at " + format_thousands(v.established) + " of its " +
                 format_thousands(rules_.target) + ", so the server cannot hold the target of " + target);
  // Silent, though, for three stall timeouts (a minute by default): that is an answer too.
  int64_t silent_ns = v.now_ns - std::max(v.server_answered_ns, hold_started_ns_);
  if (v.server_silent && stalled(silent_ns / 3))
    return stall("the server's stats have not answered for " + format_duration_ns(silent_ns) + " (" + v.server_error +
                 "), at " + format_thousands(v.server_peak) + " of " + target);
  if (stalled(v.now_ns - server_progress_ns_))
    return stall("the server holds " + format_thousands(v.server_peak) + " of " + target + " and added none for " +
                 format_duration_ns(v.now_ns - server_progress_ns_));
  return std::nullopt;
}

std::optional<std::string> server_never_held(uint64_t target, uint64_t server_peak, int64_t server_answered_ns,
                                             int64_t now_ns) {
  if (server_answered_ns <= 0 || server_peak >= target) return std::nullopt;
  return "the server's own count never reached this client's " + format_thousands(target) +
         " (its peak: " + format_thousands(server_peak) + ", in its last answer " +
         format_duration_ns(now_ns - server_answered_ns) +
         " ago): connections completed by the kernel that the server never accepted";
}

}  // namespace c1m
