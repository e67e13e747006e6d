// One run of many clients from their records: each figure by its field table row's rule
// (core/record/record_fields.cpp), and here what no rule says: the series on one wall-clock axis, the time
// to target on one clock, the machine's CPU machine by machine.
#include <algorithm>
#include <cmath>
#include <map>

#include "core/record/record_fields.hpp"
#include "core/record/run_record.hpp"

namespace c1m {

namespace {

// The ramp, summed over clients on one wall-clock axis, a point a second. Each client samples once a
// second from its own start, so its samples fall at other fractions of a second than another's:
// at each second of the axis every client counts once, with its latest sample, and only while it
// ran (before its first sample and after its last it holds nothing we know of).
std::vector<SeriesPoint> merged_series(const std::vector<RunRecord>& clients, int64_t start_ms) {
  struct Sample {
    int64_t at_ms;
    const SeriesPoint* point;
  };
  std::vector<std::vector<Sample>> timelines;
  int64_t last_ms = 0;
  for (const auto& c : clients) {
    std::vector<Sample> samples;
    for (const auto& p : c.series)
      samples.push_back({c.started_unix_ms - start_ms + static_cast<int64_t>(std::llround(p.t_s * 1000)), &p});
    if (samples.empty()) continue;
    std::stable_sort(samples.begin(), samples.end(),
                     [](const Sample& a, const Sample& b) { return a.at_ms < b.at_ms; });
    last_ms = std::max(last_ms, samples.back().at_ms);
    timelines.push_back(std::move(samples));
  }
  std::vector<SeriesPoint> series;
  for (int64_t second = 1; second * 1000 <= last_ms; ++second) {
    int64_t at_ms = second * 1000;
    SeriesPoint sum;
    sum.t_s = static_cast<double>(second);
    sum.errors = 0;
    for (const auto& samples : timelines) {
      if (at_ms < samples.front().at_ms || at_ms > samples.back().at_ms) continue;
      auto it = std::upper_bound(samples.begin(), samples.end(), at_ms,
                                 [](int64_t t, const Sample& s) { return t < s.at_ms; });
      const SeriesPoint& p = *std::prev(it)->point;
      sum.established += p.established;
      sum.connect_rate_per_s += p.connect_rate_per_s;
      *sum.errors += p.errors.value_or(0);
      if (p.client_cores) sum.client_cores = sum.client_cores.value_or(0) + *p.client_cores;
      // One machine's figures, and one server's, not to be added up: the highest any client saw.
      for (auto field :
           {&SeriesPoint::machine_busy_cores, &SeriesPoint::machine_steal_cores, &SeriesPoint::server_cores})
        if (p.*field) sum.*field = std::max(sum.*field, p.*field);
    }
    series.push_back(sum);
  }
  // A point's pings were answered in the second before it: each counts once, in the second of the
  // axis that ends at or after it (the last second holds a client's final part-second too).
  for (const auto& samples : timelines)
    for (const Sample& s : samples) {
      if (s.point->ping_rtt_us.count() == 0 || series.empty()) continue;
      int64_t second = std::clamp<int64_t>((s.at_ms + 999) / 1000, 1, static_cast<int64_t>(series.size()));
      series[static_cast<size_t>(second - 1)].ping_rtt_us.merge(s.point->ping_rtt_us);
    }
  return series;
}

// Which machine a client ran on: its swarm node's id, or "" (one machine) outside a swarm.
std::string machine_of(const RunRecord& c) {
  const ojson node = c.host.is_object() ? c.host.value("node", ojson(nullptr)) : ojson(nullptr);
  return node.is_object() && node.contains("id") && node["id"].is_string() ? node["id"].get<std::string>() : "";
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The machine's cores over the live hold: the clients on one machine read the same machine over
// nearly the same window (they go live together), so each machine counts once, at the median of its
// clients' readings; machines add up.
std::optional<double> merge_machine_cores(const std::vector<RunRecord>& clients,
                                          std::optional<double> RunResults::*field) {
  std::map<std::string, std::vector<double>> by_machine;
  for (const auto& c : clients)
    if (c.results.*field) by_machine[machine_of(c)].push_back(*(c.results.*field));
  if (by_machine.empty()) return std::nullopt;
  double total = 0;
  for (const auto& [machine, readings] : by_machine) total += median_of(readings);
  return total;
}

// The machine's ramp CPU over many clients (see merge).
void merge_machine_cpu(const std::vector<RunRecord>& clients, RunResults& x) {
  struct Window {
    double busy0 = 1e300, busy1 = 0, steal0 = 1e300, steal1 = 0;
  };
  std::map<std::string, Window> by_machine;
  bool all_counted = true;
  for (const auto& c : clients) {
    const ojson& k = c.results.ramp_cpu_machine_counters;
    if (!k.is_object()) {
      all_counted = false;
      continue;
    }
    Window& w = by_machine[machine_of(c)];
    w.busy0 = std::min(w.busy0, k["busy_s_start"].get<double>());
    w.busy1 = std::max(w.busy1, k["busy_s_end"].get<double>());
    w.steal0 = std::min(w.steal0, k["steal_s_start"].get<double>());
    w.steal1 = std::max(w.steal1, k["steal_s_end"].get<double>());
  }
  if (all_counted && !by_machine.empty()) {
    double busy = 0, steal = 0;
    for (const auto& [machine, w] : by_machine) {
      busy += std::max(0.0, w.busy1 - w.busy0);
      steal += std::max(0.0, w.steal1 - w.steal0);
    }
    x.ramp_cpu_busy_s = busy;
    x.ramp_cpu_steal_s = steal;
    return;
  }
  for (const auto& c : clients)
    if (c.results.ramp_cpu_busy_s && (!x.ramp_cpu_busy_s || *c.results.ramp_cpu_busy_s > *x.ramp_cpu_busy_s)) {
      x.ramp_cpu_busy_s = c.results.ramp_cpu_busy_s;
      x.ramp_cpu_steal_s = c.results.ramp_cpu_steal_s;
    }
}

// Slab and sockstat's alloc are host-wide: the client whose window saw the most sockets appear
// measured everyone's, so its readings stand for the run (null: no client measured the kernel's bytes).
const RunRecord* widest_window(const std::vector<RunRecord>& clients) {
  const RunRecord* widest = nullptr;
  double best_alloc_delta = -1;
  for (const auto& c : clients) {
    const RunResults& r = c.results;
    auto a0 = r.sockstat_before.find("TCP.alloc"), a1 = r.sockstat_at_peak.find("TCP.alloc");
    double alloc_delta = a0 != r.sockstat_before.end() && a1 != r.sockstat_at_peak.end()
                             ? static_cast<double>(a1->second) - static_cast<double>(a0->second)
                             : -1;
    if (c.memory.kernel_bytes_per_socket && alloc_delta > best_alloc_delta) {
      best_alloc_delta = alloc_delta;
      widest = &c;
    }
  }
  return widest;
}

// A scalar merged as its row says; derived and custom ones are merge()'s own. Counts go through a
// double exactly (they are at most 1e12); sums add in the clients' order.
void merge_by_rule(const RecordField& f, const std::vector<RunRecord>& clients, const RunRecord* widest, RunRecord& m) {
  std::vector<double> present;
  for (const auto& c : clients)
    if (auto v = f.get(c)) present.push_back(*v);
  double total = 0;
  for (double v : present) total += v;
  switch (f.merge) {
    case MergeRule::sum:
      f.set(m, total);
      break;
    case MergeRule::sum_if_all:
      f.set(m, present.size() == clients.size() ? std::optional<double>(total) : std::nullopt);
      break;
    case MergeRule::max:
      if (!present.empty()) f.set(m, *std::max_element(present.begin(), present.end()));
      break;
    case MergeRule::median:
      if (!present.empty()) f.set(m, median_of(present));
      break;
    case MergeRule::widest:
      if (widest) f.set(m, f.get(*widest));
      break;
    case MergeRule::derived:
    case MergeRule::custom:
      break;
  }
}

}  // namespace

void derive_per_unit_figures(RunResults& x) {
  if (x.ramp_cpu_busy_s && x.connected_total > 0)
    x.ramp_cpu_busy_us_per_connection = *x.ramp_cpu_busy_s * 1e6 / static_cast<double>(x.connected_total);
  if (x.tls_handshakes && *x.tls_handshakes > 0) {
    const double handshakes = static_cast<double>(*x.tls_handshakes);
    if (x.ramp_cpu_client_s) x.tls_ramp_cpu_us_per_handshake_client = *x.ramp_cpu_client_s * 1e6 / handshakes;
    if (x.ramp_cpu_server_s) x.tls_ramp_cpu_us_per_handshake_server = *x.ramp_cpu_server_s * 1e6 / handshakes;
    if (double window = x.time_to_target_s.value_or(x.ramp_duration_s.value_or(0)); window > 0)
      x.tls_handshakes_per_s = handshakes / window;
  }
  if (!x.live_pings_per_s || *x.live_pings_per_s <= 0) return;
  double thousands = *x.live_pings_per_s / 1000;
  if (x.live_cpu_cores_client) x.live_cpu_cores_per_1k_pings_per_s_client = *x.live_cpu_cores_client / thousands;
  if (x.live_cpu_cores_server) x.live_cpu_cores_per_1k_pings_per_s_server = *x.live_cpu_cores_server / thousands;
}

RunRecord merge(const std::vector<RunRecord>& clients) {
  RunRecord m;
  m.status = clients.empty() ? "failed" : "complete";
  if (clients.empty()) return m;
  m.started_unix_ms = INT64_MAX;
  for (const auto& c : clients) {
    m.started_unix_ms = std::min(m.started_unix_ms, c.started_unix_ms);
    m.ended_unix_ms = std::max(m.ended_unix_ms, c.ended_unix_ms);
    if (c.status == "interrupted")
      m.status = "interrupted";
    else if (c.status != "complete" && m.status == "complete")
      m.status = "failed";
  }
  // Each describes the clients alike (the lab starts them from one definition): the first stands.
  m.limits = clients[0].limits;
  m.sysctls = clients[0].sysctls;

  RunResults& x = m.results;
  const RunRecord* widest = widest_window(clients);
  for (const auto& f : record_fields())
    if (f.kind != FigureKind::structured) merge_by_rule(f, clients, widest, m);
  // What no rule says: the structures, the time to target on one clock, the machine's CPU.
  double user_growth = 0, tls_growth = 0;
  bool all_tls = true;
  bool all_reached = true, all_settled = true;
  int64_t reached_ms = 0, settled_ms = 0;
  for (const auto& c : clients) {
    const RunResults& r = c.results;
    for (const auto& [k, v] : r.errors) x.errors[k] += v;
    for (const auto& [k, v] : r.tcpext_delta) x.tcpext_delta[k] += v;
    x.connect_us.merge(r.connect_us);
    x.rtt_us.merge(r.rtt_us);
    x.tls_handshake_us.merge(r.tls_handshake_us);
    if (x.tls_first_error.is_null()) x.tls_first_error = r.tls_first_error;
    user_growth +=
        c.memory.user_bytes_per_connection_client.value_or(0) * static_cast<double>(r.established_peak_client);
    if (c.memory.tls_library_bytes_per_connection_client)
      tls_growth += *c.memory.tls_library_bytes_per_connection_client * static_cast<double>(r.established_peak_client);
    else
      all_tls = false;
    if (r.time_to_target_s)
      reached_ms =
          std::max(reached_ms, c.started_unix_ms + static_cast<int64_t>(std::llround(*r.time_to_target_s * 1000)));
    else
      all_reached = false;
    if (r.ramp_duration_s)
      settled_ms =
          std::max(settled_ms, c.started_unix_ms + static_cast<int64_t>(std::llround(*r.ramp_duration_s * 1000)));
    else
      all_settled = false;
  }
  // The ramp's CPU. The machine's: each client read its machine's counters at its own ramp's ends;
  // the clients of one machine (by swarm node; natively and in the compose lab, all) merge to the
  // union of their windows, the first start to the last end, and machines add up. Records without
  // the counters: the widest window stands.
  merge_machine_cpu(clients, x);
  x.live_cpu_machine_busy_cores = merge_machine_cores(clients, &RunResults::live_cpu_machine_busy_cores);
  x.live_cpu_machine_steal_cores = merge_machine_cores(clients, &RunResults::live_cpu_machine_steal_cores);
  if (all_reached && reached_ms > 0) x.time_to_target_s = static_cast<double>(reached_ms - m.started_unix_ms) / 1000.0;
  if (all_settled && settled_ms > 0) x.ramp_duration_s = static_cast<double>(settled_ms - m.started_unix_ms) / 1000.0;
  double window = x.time_to_target_s.value_or(x.ramp_duration_s.value_or(0));
  if (window > 0) x.connect_rate_per_s = static_cast<double>(x.connected_total) / window;
  derive_per_unit_figures(x);  // after the time to target, which the handshakes' rate is over
  if (widest) {
    x.sockstat_before = widest->results.sockstat_before;
    x.sockstat_at_peak = widest->results.sockstat_at_peak;
    x.conntrack_at_peak = widest->results.conntrack_at_peak;
    m.memory.slab_caches = widest->memory.slab_caches;
    m.memory.slab_caches_note = widest->memory.slab_caches_note;
  }
  if (x.established_peak_client) {
    m.memory.user_bytes_per_connection_client = user_growth / static_cast<double>(x.established_peak_client);
    if (all_tls)
      m.memory.tls_library_bytes_per_connection_client = tls_growth / static_cast<double>(x.established_peak_client);
  }
  m.series = merged_series(clients, m.started_unix_ms);
  return m;
}

}  // namespace c1m
