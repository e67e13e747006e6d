#include "core/record/target_meter.hpp"

#include <algorithm>

#include "build_info.hpp"
#include "core/record/record.hpp"  // per_connection

namespace c1m {
namespace {

ojson usage_json(const TargetSample& s) {
  auto opt = [](const std::optional<uint64_t>& v) { return v ? ojson(*v) : ojson(nullptr); };
  return {{"established", s.established},
          {"memory_bytes", s.usage.memory_bytes},
          {"user_bytes", s.usage.user_bytes},
          {"kernel_bytes", opt(s.usage.kernel_bytes)},
          {"socket_bytes", opt(s.usage.socket_bytes)},
          {"cpu_s", s.usage.cpu.total_s()},
          {"cpu_user_s", s.usage.cpu.user_s() ? ojson(*s.usage.cpu.user_s()) : ojson(nullptr)}};
}

}  // namespace

void TargetMeter::add(const TargetSample& s) {
  if (!first_) first_ = s;
  // The ramp starts at the last reading before the count first rises above where it began (the
  // CPU of accepting the first connections falls inside it), and ends when all expected are held,
  // or, when nothing is expected, at the peak.
  const bool not_risen_yet = !peak_ || peak_->established <= first_->established;
  if (not_risen_yet && s.established <= first_->established) ramp_start_ = s;
  if (!peak_ || s.established > peak_->established) peak_ = s;
  // Held: as many as a reading ago, give or take 1%. A server that refuses (redis past maxclients) has
  // the refused in its namespace's count for a moment, between the kernel's handshake and its close,
  // so the peak is not what it held. On the highest such plateau the last reading is taken: the
  // count is the kernel's, and a server still accepting from its queues (nginx's 67 workers at 1M)
  // has not yet allocated what it keeps a connection.
  auto near = [](uint64_t a, uint64_t b) {
    return (a > b ? a - b : b - a) <= std::max<uint64_t>(10, std::max(a, b) / 100);
  };
  if (last_ && near(s.established, last_->established) && s.established > first_->established &&
      (s.established > plateau_top_ || near(s.established, plateau_top_))) {
    plateau_top_ = std::max(plateau_top_, s.established);
    held_ = s;
  }
  if (!ramp_end_ && expect_ > 0 && s.established >= first_->established + expect_) ramp_end_ = s;
  last_ = s;
  cpu_series_.push_back({s.unix_ms, s.usage.cpu.total_s()});
}

ServerStats TargetMeter::report(const ojson& context) const {
  ServerStats r;
  r.context = context.is_object() ? context : ojson::object();
  r.version = kVersion;
  r.git_sha = kGitSha;
  if (!first_) return r;
  const uint64_t base = first_->established;
  r.connections = last_->established > base ? last_->established - base : 0;
  r.connections_peak = peak();
  r.cpu_seconds = last_->usage.cpu.since(first_->usage.cpu).total_s();
  const TargetSample& held = held_ ? *held_ : *peak_;
  const TargetSample& end = ramp_end_ ? *ramp_end_ : held;
  if (ramp_start_ && r.connections_peak > 0 && end.mono_ns >= ramp_start_->mono_ns) {
    const procfs::CpuTime ramp = end.usage.cpu.since(ramp_start_->usage.cpu);
    r.ramp_cpu_seconds = ramp.total_s();
    r.ramp_cpu_user_seconds = ramp.user_s();
  }
  r.rss_bytes = last_->usage.user_bytes;
  r.rss_baseline_bytes = first_->usage.user_bytes;
  r.user_bytes_per_connection = per_connection(held.usage.user_bytes, first_->usage.user_bytes, r.connections_peak);
  if (held.usage.kernel_bytes && first_->usage.kernel_bytes)
    r.kernel_bytes_per_connection =
        per_connection(*held.usage.kernel_bytes, *first_->usage.kernel_bytes, r.connections_peak);
  return r;
}

ojson TargetMeter::readings() const {
  if (!first_) return nullptr;
  return {{"before", usage_json(*first_)},
          {"held", usage_json(held_ ? *held_ : *peak_)},
          {"at_peak", usage_json(*peak_)},
          {"now", usage_json(*last_)}};
}

}  // namespace c1m
