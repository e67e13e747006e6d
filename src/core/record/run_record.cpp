#include "core/record/run_record.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "core/record/record_fields.hpp"

namespace c1m {

namespace {

double ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

template <typename T>
ojson opt(const std::optional<T>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}

// A scalar of the field table as JSON: counts as whole numbers, the rest as they are.
ojson scalar_json(const RecordField& f, std::optional<double> v) {
  if (!v) return nullptr;
  if (f.kind == FigureKind::count) return static_cast<uint64_t>(*v);
  if (f.kind == FigureKind::delta) return static_cast<int64_t>(*v);
  return *v;
}

ojson latency_summary_ms(const Histogram& h) {
  ojson j;
  j["count"] = h.count();
  if (h.count() == 0) {
    for (const char* k : {"min", "p50", "p90", "p99", "p999", "max", "mean"}) j[k] = nullptr;
    return j;
  }
  j["min"] = ms(h.min());
  j["p50"] = ms(h.quantile(0.50));
  j["p90"] = ms(h.quantile(0.90));
  j["p99"] = ms(h.quantile(0.99));
  j["p999"] = ms(h.quantile(0.999));
  j["max"] = ms(h.max());
  j["mean"] = h.mean() / 1000.0;
  return j;
}

// {unit, sum, min, max, buckets: [[index, count], ...]}: non-empty buckets only, so records merge exactly.
template <typename H>
ojson histogram_json(const H& h) {
  ojson buckets = ojson::array();
  for (int b = 0; b < H::kBuckets; ++b)
    if (h.buckets()[b]) buckets.push_back({b, h.buckets()[b]});
  return {{"unit", "us"}, {"sum", h.sum()}, {"min", h.min()}, {"max", h.max()}, {"buckets", buckets}};
}

}  // namespace

std::string iso8601_utc(int64_t unix_ms) {
  time_t s = static_cast<time_t>(unix_ms / 1000);
  tm t{};
  gmtime_r(&s, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

int64_t parse_iso8601_ms(const std::string& s) {
  tm t{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min,
                  &t.tm_sec, &ms) != 7)
    return -1;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&t)) * 1000 + ms;
}

ojson RunRecord::to_json() const {
  ojson r;
  r["schema_version"] = kSchemaVersion;
  r["run_id"] = run_id;
  r["status"] = status;
  r["reason"] = opt(reason);
  r["warnings"] = warnings;
  r["tool"] = tool;
  r["started_at"] = iso8601_utc(started_unix_ms);
  r["ended_at"] = iso8601_utc(ended_unix_ms);
  r["duration_s"] = static_cast<double>(ended_unix_ms - started_unix_ms) / 1000.0;
  r["approach"] = approach;
  r["config"] = config;
  r["topology"] = topology;
  r["host"] = host;
  r["limits"] = limits;
  r["sysctls"] = sysctls;

  // The figures in the field table's order: its scalars from their members, the structures here.
  const RunResults& x = results;
  ojson structures = {
      {"connect_latency_ms", latency_summary_ms(x.connect_us)},
      {"ping_rtt_ms", latency_summary_ms(x.rtt_us)},
      {"connect_latency_histogram", histogram_json(x.connect_us)},
      {"ping_rtt_histogram", histogram_json(x.rtt_us)},
      {"tls_handshake_latency_ms", x.tls_handshakes ? latency_summary_ms(x.tls_handshake_us) : nullptr},
      {"tls_handshake_latency_histogram", x.tls_handshakes ? histogram_json(x.tls_handshake_us) : nullptr},
      {"tls_first_error", x.tls_first_error},
      {"ramp_cpu_machine_counters", x.ramp_cpu_machine_counters},
      {"errors", x.errors},
      {"tcpext_delta", x.tcpext_delta},
      {"sockstat_before", x.sockstat_before},
      {"sockstat_at_peak", x.sockstat_at_peak},
      {"conntrack_at_peak", x.conntrack_at_peak},
      {"slab_caches", memory.slab_caches},
      {"slab_caches_note", memory.slab_caches_note}};
  if (x.tcpext_delta_server) structures["tcpext_delta_server"] = *x.tcpext_delta_server;  // merged records only
  r["results"] = ojson::object();
  r["memory"] = ojson::object();
  size_t placed = 0;
  for (const auto& f : record_fields()) {
    ojson& section = r[f.section];
    if (f.kind != FigureKind::structured) {
      section[f.key] = scalar_json(f, f.get(*this));
    } else if (auto it = structures.find(f.key); it != structures.end()) {
      section[f.key] = *it;
      ++placed;
    }
  }
  if (placed != structures.size())
    throw std::logic_error("a structured figure of the record has no row in record_fields");
  ojson points = ojson::array();
  for (const auto& p : series) {
    points.push_back({{"t_s", p.t_s},
                      {"established", p.established},
                      {"connect_rate_per_s", p.connect_rate_per_s},
                      {"errors", opt(p.errors)},
                      {"server_connections", opt(p.server_connections)}});
    // Written only where read (a record from before they were kept reads back as it was).
    if (p.machine_busy_cores) points.back()["machine_busy_cores"] = *p.machine_busy_cores;
    if (p.machine_steal_cores) points.back()["machine_steal_cores"] = *p.machine_steal_cores;
    if (p.client_cores) points.back()["client_cores"] = *p.client_cores;
    if (p.server_cores) points.back()["server_cores"] = *p.server_cores;
    if (p.ping_rtt_us.count() == 0) continue;
    points.back()["ping_rtt_ms"] = {{"count", p.ping_rtt_us.count()},
                                    {"p50", ms(p.ping_rtt_us.quantile(0.50))},
                                    {"p99", ms(p.ping_rtt_us.quantile(0.99))},
                                    {"max", ms(p.ping_rtt_us.max())}};
    points.back()["ping_rtt_histogram"] = histogram_json(p.ping_rtt_us);
  }
  r["series"] = points;
  r["server"] = server;
  if (server_stats_error) r["server_stats_error"] = *server_stats_error;
  for (const auto& [k, v] : extra.items()) r[k] = v;
  return r;
}

}  // namespace c1m
