#include "net/client/server_watch.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/host/clock.hpp"
#include "net/http/http_client.hpp"
#include "net/http/stats_poller.hpp"

namespace c1m::net {
namespace {

// An answer older than this means the server is not answering now (it is polled once a second).
constexpr int64_t kServerFreshNs = 3'000'000'000;

}  // namespace

ServerWatch::ServerWatch(std::optional<Endpoint> server, int target_pid)
    : server_(std::move(server)), target_pid_(target_pid) {
  if (target_pid_) target_cgroup_ = procfs::own_cgroup_of(target_pid_, target_cgroup_not_read_);
}
ServerWatch::~ServerWatch() = default;

void ServerWatch::start(event_base* base) {
  if (server_) poller_ = std::make_unique<StatsPoller>(base, *server_);
}

void ServerWatch::stop() {
  if (poller_) error_ = poller_->error();
  poller_.reset();
}

std::optional<uint64_t> ServerWatch::poll() {
  if (target_pid_) read_tree();
  if (!poller_) return std::nullopt;
  poller_->poll();
  take(poller_->latest(), poller_->answered_ns());
  error_ = poller_->error();
  if (silent(monotonic_ns())) return std::nullopt;
  return latest_->connections;
}

void ServerWatch::final_reading(bool settle) {
  if (!server_) return;
  if (settle) std::this_thread::sleep_for(std::chrono::milliseconds(600));
  auto res = http_get(*server_, "/stats", 2000);
  if (res.status != 200) return;
  if (auto stats = server_stats_from_json(ojson::parse(res.body, nullptr, false))) take(stats, monotonic_ns());
}

void ServerWatch::take(const std::optional<ServerStats>& s, int64_t answered_ns) {
  if (!s || answered_ns <= answered_ns_) return;
  answered_ns_ = answered_ns;
  // The server's own peak is monotonic: once it has held the target at once, every client may go
  // (the current count drops as soon as the first one leaves).
  joint_peak_ = std::max(joint_peak_, s->connections_peak);
  most_seen_ = std::max(most_seen_.value_or(0), s->connections);
  latest_ = s;
}

bool ServerWatch::silent(int64_t now_ns) const { return answered_ns_ == 0 || now_ns - answered_ns_ > kServerFreshNs; }

void ServerWatch::read_tree() {
  target_ = procfs::tree_usage(target_pid_);
  target_at_ns_ = monotonic_ns();
}

std::optional<TargetReading> ServerWatch::read_target() {
  if (!target_pid_) return std::nullopt;
  read_tree();
  if (!target_) return std::nullopt;
  TargetReading r{*target_, target_cgroup_, target_cgroup_not_read_, std::nullopt};
  if (target_cgroup_) r.cgroup = procfs::read_cgroup(*target_cgroup_);
  return r;
}

std::optional<CpuReading> ServerWatch::cpu() const {
  if (target_pid_) return target_ ? std::optional(CpuReading{target_->cpu.total_s(), target_at_ns_}) : std::nullopt;
  if (!latest_) return std::nullopt;
  return CpuReading{latest_->cpu_seconds, answered_ns_};
}

std::optional<double> ServerWatch::cores_since(const std::optional<CpuReading>& start) const {
  auto now = cpu();
  if (!now || !start) return std::nullopt;
  return cores_between(*start, *now, 1'000'000'000);
}

}  // namespace c1m::net
