#include "core/record/run_record.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "core/record/record_fields.hpp"

namespace c1m {

namespace {

constexpr double kMaxCount = 1e12;             // far above any run, far below where sums overflow
constexpr double kMaxSeconds = 366.0 * 86400;  // a year

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

// Reads one record, validating as it goes: the first problem ends it, with its path.
class Reader {
 public:
  explicit Reader(std::string& error) : error_(error) {}
  bool ok() const { return error_.empty(); }

  bool fail(const std::string& path, const std::string& what) {
    if (error_.empty()) error_ = path + ": " + what;
    return false;
  }
  const ojson* member(const ojson& obj, const char* key) const {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  std::optional<double> number(const ojson* v, const std::string& path, double lo, double hi, const char* what) {
    if (!v) return std::nullopt;
    if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < lo || v->get<double>() > hi) {
      fail(path, std::string("expected ") + what);
      return std::nullopt;
    }
    return v->get<double>();
  }
  std::optional<uint64_t> count(const ojson* v, const std::string& path) {
    auto d = number(v, path, 0, kMaxCount, "a count from 0 to 1e12");
    if (d && std::floor(*d) != *d) {
      fail(path, "expected a whole count");
      return std::nullopt;
    }
    return d ? std::optional<uint64_t>(static_cast<uint64_t>(*d)) : std::nullopt;
  }
  std::optional<int64_t> delta(const ojson* v, const std::string& path) {
    auto d = number(v, path, -kMaxCount, kMaxCount, "an integer within 1e12");
    if (d && std::floor(*d) != *d) {
      fail(path, "expected an integer within 1e12");
      return std::nullopt;
    }
    return d ? std::optional<int64_t>(static_cast<int64_t>(*d)) : std::nullopt;
  }
  std::optional<double> seconds(const ojson* v, const std::string& path) {
    return number(v, path, 0, kMaxSeconds, "seconds from 0 to a year");
  }
  std::optional<double> figure(const ojson* v, const std::string& path) {
    return number(v, path, -kMaxCount, kMaxCount, "a number within 1e12");
  }
  // A figure of the field table, checked as its kind says.
  std::optional<double> figure_of(const RecordField& f, const ojson* v, const std::string& path) {
    switch (f.kind) {
      case FigureKind::count: {
        auto c = count(v, path);
        return c ? std::optional<double>(static_cast<double>(*c)) : std::nullopt;
      }
      case FigureKind::delta: {
        auto d = delta(v, path);
        return d ? std::optional<double>(static_cast<double>(*d)) : std::nullopt;
      }
      case FigureKind::seconds:
        return seconds(v, path);
      case FigureKind::rate:
        return number(v, path, 0, kMaxCount, "a rate from 0 to 1e12");
      case FigureKind::cores:
        return number(v, path, 0, 1e6, "cores from 0 to 1e6");
      case FigureKind::amount:
        return number(v, path, 0, 1e9, "a figure from 0 to 1e9");
      case FigureKind::figure:
        return figure(v, path);
      case FigureKind::structured:
        break;
    }
    return std::nullopt;
  }
  // A latency summary as written ({count, min, p50, ..., max, mean}): every figure a number or null,
  // so plot and compare never read "fast" as a time.
  void summary(const ojson* v, const std::string& path) {
    if (!v || v->is_null()) return;
    if (!v->is_object()) return (void)fail(path, "expected an object");
    for (const auto& [key, value] : v->items())
      if (!value.is_null()) figure(&value, path + "/" + key);
  }
  ojson object(const ojson* v, const std::string& path) {
    if (!v) return nullptr;
    if (!v->is_object()) fail(path, "expected an object");
    return v->is_object() ? *v : ojson(nullptr);
  }
  template <typename T>
  std::map<std::string, T> table(const ojson* v, const std::string& path, bool signed_values) {
    std::map<std::string, T> out;
    if (!v) return out;
    if (!v->is_object()) {
      fail(path, "expected an object");
      return out;
    }
    for (const auto& [k, x] : v->items()) {
      std::string at = path + "/" + k;
      if (signed_values) {
        if (auto d = delta(&x, at)) out[k] = static_cast<T>(*d);
      } else if (auto c = count(&x, at)) {
        out[k] = static_cast<T>(*c);
      }
    }
    return out;
  }
  template <typename H = Histogram>
  H histogram(const ojson* v, const std::string& path) {
    H h;
    if (!v) return h;
    if (!v->is_object()) return fail(path, "expected an object"), h;
    const ojson* buckets = member(*v, "buckets");
    if (!buckets || !buckets->is_array() || buckets->size() > H::kBuckets)
      return fail(path + "/buckets",
                  "expected an array of at most " + std::to_string(H::kBuckets) + " [index, count] pairs"),
             h;
    std::vector<std::pair<int, uint64_t>> sparse;
    for (size_t i = 0; i < buckets->size(); ++i) {
      const ojson& b = (*buckets)[i];
      std::string at = path + "/buckets/" + std::to_string(i);
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || b[0].get<int64_t>() < 0 ||
          b[0].get<int64_t>() >= H::kBuckets)
        return fail(at, "expected [index from 0 to " + std::to_string(H::kBuckets - 1) + ", count]"), h;
      auto c = count(&b[1], at + "/1");
      if (!c) return fail(at + "/1", "expected a count"), h;
      sparse.emplace_back(static_cast<int>(b[0].get<int64_t>()), *c);
    }
    auto sum = number(member(*v, "sum"), path + "/sum", 0, 1.8e19, "a sum of microseconds");
    auto lo = count(member(*v, "min"), path + "/min"), hi = count(member(*v, "max"), path + "/max");
    if (ok() && !H::from_sparse(sparse, static_cast<uint64_t>(sum.value_or(0)), lo.value_or(0), hi.value_or(0), h))
      fail(path, "buckets, min and max do not agree");
    return h;
  }

 private:
  std::string& error_;
};

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
  ojson structures = {{"connect_latency_ms", latency_summary_ms(x.connect_us)},
                      {"ping_rtt_ms", latency_summary_ms(x.rtt_us)},
                      {"connect_latency_histogram", histogram_json(x.connect_us)},
                      {"ping_rtt_histogram", histogram_json(x.rtt_us)},
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

std::optional<RunRecord> RunRecord::from_json(const ojson& j, std::string& error) {
  error.clear();
  Reader in(error);
  if (!j.is_object()) return in.fail("/", "expected an object"), std::nullopt;
  // The server's stats (GET /stats, c1m server --json) look like a record but are not one.
  if (text_of(j, "kind", "") == "server_stats" || (j.contains("connections_peak") && !j.contains("results")))
    return in.fail("/",
                   "a c1m server's stats document (its /stats or --json), not a run record: read the client's or the "
                   "collector's record"),
           std::nullopt;
  if (!j.contains("schema_version") || !j["schema_version"].is_number_integer())
    return in.fail("/schema_version", "missing or not an integer"), std::nullopt;
  if (j["schema_version"] != kSchemaVersion)
    return in.fail("/schema_version", j["schema_version"].dump() + " is not a version this build reads (" +
                                          std::to_string(kSchemaVersion) + ")"),
           std::nullopt;

  RunRecord r;
  const ojson* status = in.member(j, "status");
  if (!status || !status->is_string()) return in.fail("/status", "missing or not a string"), std::nullopt;
  r.status = status->get<std::string>();
  if (r.status != "complete" && r.status != "failed" && r.status != "interrupted")
    return in.fail("/status", "expected complete, failed or interrupted"), std::nullopt;
  if (const ojson* v = in.member(j, "run_id")) {
    if (!v->is_string()) return in.fail("/run_id", "expected a string"), std::nullopt;
    r.run_id = v->get<std::string>();
  }
  if (const ojson* v = in.member(j, "reason")) {
    if (!v->is_string()) return in.fail("/reason", "expected a string or null"), std::nullopt;
    r.reason = v->get<std::string>();
  }
  if (const ojson* v = in.member(j, "warnings")) {
    if (!v->is_array()) return in.fail("/warnings", "expected an array of strings"), std::nullopt;
    for (const auto& w : *v)
      if (w.is_string())
        r.warnings.push_back(w.get<std::string>());
      else
        return in.fail("/warnings", "expected an array of strings"), std::nullopt;
  }
  auto date = [&](const char* key, bool required) -> int64_t {
    const ojson* v = in.member(j, key);
    if (!v) return required ? (in.fail(std::string("/") + key, "missing"), -1) : -1;
    int64_t ms = v->is_string() ? parse_iso8601_ms(v->get<std::string>()) : -1;
    if (ms < 946684800000LL || ms > 7258118400000LL)
      in.fail(std::string("/") + key, "expected a UTC time like 2026-11-25T01:00:00.000Z");
    return ms;
  };
  r.started_unix_ms = date("started_at", true);
  r.ended_unix_ms = date("ended_at", false);
  if (!in.ok()) return std::nullopt;
  if (r.ended_unix_ms < 0) r.ended_unix_ms = r.started_unix_ms;
  if (const ojson* v = in.member(j, "approach")) {
    if (!v->is_string()) return in.fail("/approach", "expected a string"), std::nullopt;
    r.approach = v->get<std::string>();
    // It names the record's file: free text ("x/y", a newline) is refused here, once, for every reader.
    if (r.approach != "multi-ip" && r.approach != "multi-port" && r.approach != "custom")
      return in.fail("/approach", "expected multi-ip, multi-port or custom"), std::nullopt;
  }
  r.tool = in.object(in.member(j, "tool"), "/tool");
  r.config = in.object(in.member(j, "config"), "/config");
  r.topology = in.object(in.member(j, "topology"), "/topology");
  r.host = in.object(in.member(j, "host"), "/host");
  if (r.host.is_object() && r.host.contains("addresses") && !r.host["addresses"].is_array())
    in.fail("/host/addresses", "expected an array");
  r.limits = in.object(in.member(j, "limits"), "/limits");
  r.sysctls = in.object(in.member(j, "sysctls"), "/sysctls");
  r.server = in.object(in.member(j, "server"), "/server");
  if (r.server.is_object()) in.count(in.member(r.server, "connections_peak"), "/server/connections_peak");
  if (const ojson* v = in.member(j, "server_stats_error"); v && v->is_string())
    r.server_stats_error = v->get<std::string>();
  if (const ojson* c = in.member(j, "config")) in.count(in.member(*c, "connections"), "/config/connections");

  const ojson* res = in.member(j, "results");
  if (!res || !res->is_object()) return in.fail("/results", "missing or not an object"), std::nullopt;
  RunResults& x = r.results;
  const ojson* mem = in.member(j, "memory");
  if (mem && !mem->is_object()) return in.fail("/memory", "expected an object"), std::nullopt;
  // The table's scalars, each checked as its kind says.
  for (const auto& f : record_fields()) {
    if (f.kind == FigureKind::structured) continue;
    const ojson* section = std::string_view(f.section) == "results" ? res : mem;
    const std::string path = std::string("/") + f.section + "/" + f.key;
    const ojson* v = section ? in.member(*section, f.key) : nullptr;
    if (!v && f.presence == Presence::reader_requires) return in.fail(path, "missing"), std::nullopt;
    f.set(r, in.figure_of(f, v, path));
    if (!in.ok()) return std::nullopt;
  }
  // The structures.
  auto R = [&](const char* key) { return in.member(*res, key); };
  auto P = [](const char* key) { return std::string("/results/") + key; };
  in.summary(R("connect_latency_ms"), P("connect_latency_ms"));
  in.summary(R("ping_rtt_ms"), P("ping_rtt_ms"));
  x.connect_us = in.histogram(R("connect_latency_histogram"), P("connect_latency_histogram"));
  x.rtt_us = in.histogram(R("ping_rtt_histogram"), P("ping_rtt_histogram"));
  if (const ojson* c = R("ramp_cpu_machine_counters")) {
    bool whole = c->is_object();
    for (const char* k : {"busy_s_start", "busy_s_end", "steal_s_start", "steal_s_end"}) {
      const ojson* v = whole ? in.member(*c, k) : nullptr;
      whole = whole && in.number(v, P("ramp_cpu_machine_counters/") + k, 0, 1e12, "seconds from 0 to 1e12");
    }
    if (whole)
      x.ramp_cpu_machine_counters = *c;
    else
      in.fail(P("ramp_cpu_machine_counters"), "expected {busy_s_start, busy_s_end, steal_s_start, steal_s_end}");
  }
  x.errors = in.table<uint64_t>(R("errors"), P("errors"), false);
  x.tcpext_delta = in.table<int64_t>(R("tcpext_delta"), P("tcpext_delta"), true);
  if (const ojson* v = R("tcpext_delta_server")) x.tcpext_delta_server = in.object(v, P("tcpext_delta_server"));
  x.sockstat_before = in.table<uint64_t>(R("sockstat_before"), P("sockstat_before"), false);
  x.sockstat_at_peak = in.table<uint64_t>(R("sockstat_at_peak"), P("sockstat_at_peak"), false);
  x.conntrack_at_peak = in.object(R("conntrack_at_peak"), P("conntrack_at_peak"));
  if (mem) {
    r.memory.slab_caches = in.object(in.member(*mem, "slab_caches"), "/memory/slab_caches");
    if (const ojson* note = in.member(*mem, "slab_caches_note"); note && note->is_string())
      r.memory.slab_caches_note = *note;
  }
  if (const ojson* s = in.member(j, "series")) {
    if (!s->is_array() || s->size() > kMaxSeconds)
      return in.fail("/series", "expected an array of at most a year of seconds"), std::nullopt;
    for (size_t i = 0; i < s->size() && in.ok(); ++i) {
      const ojson& p = (*s)[i];
      std::string at = "/series/" + std::to_string(i);
      if (!p.is_object()) return in.fail(at, "expected an object"), std::nullopt;
      SeriesPoint point;
      if (!in.member(p, "t_s")) return in.fail(at + "/t_s", "missing"), std::nullopt;
      if (!in.member(p, "established")) return in.fail(at + "/established", "missing"), std::nullopt;
      point.t_s = in.seconds(in.member(p, "t_s"), at + "/t_s").value_or(0);
      point.established = in.count(in.member(p, "established"), at + "/established").value_or(0);
      in.summary(in.member(p, "ping_rtt_ms"), at + "/ping_rtt_ms");
      point.connect_rate_per_s = in.number(in.member(p, "connect_rate_per_s"), at + "/connect_rate_per_s", 0, kMaxCount,
                                           "a rate from 0 to 1e12")
                                     .value_or(0);
      point.errors = in.count(in.member(p, "errors"), at + "/errors");
      point.server_connections = in.count(in.member(p, "server_connections"), at + "/server_connections");
      point.machine_busy_cores =
          in.number(in.member(p, "machine_busy_cores"), at + "/machine_busy_cores", 0, 1e6, "cores from 0 to 1e6");
      point.machine_steal_cores =
          in.number(in.member(p, "machine_steal_cores"), at + "/machine_steal_cores", 0, 1e6, "cores from 0 to 1e6");
      point.ping_rtt_us = in.histogram<CoarseHistogram>(in.member(p, "ping_rtt_histogram"), at + "/ping_rtt_histogram");
      r.series.push_back(point);
    }
  }
  if (const ojson* v = in.member(j, "repetitions"); v && !v->is_array()) {
    in.fail("/repetitions", "expected an array");
  } else if (v) {
    // Each one is a run's figures, as compare reads them: a count of what it held, numbers or null.
    for (size_t k = 0; k < v->size() && in.ok(); ++k) {
      const ojson& rep = (*v)[k];
      const std::string at = "/repetitions/" + std::to_string(k);
      if (!rep.is_object()) {
        in.fail(at, "expected an object");
        break;
      }
      if (!rep.contains("established_peak_client")) in.fail(at + "/established_peak_client", "missing");
      in.count(in.member(rep, "established_peak_client"), at + "/established_peak_client");
      for (const auto& [key, value] : rep.items())
        if (!value.is_number() && !value.is_null() && !value.is_string())
          in.fail(at + "/" + key, "expected a number, a string or null");
    }
  }
  if (const ojson* v = in.member(j, "participants"); v && !v->is_array()) in.fail("/participants", "expected an array");
  if (!in.ok()) return std::nullopt;
  static const char* kTyped[] = {"schema_version", "run_id",     "status",   "reason",     "warnings",
                                 "tool",           "started_at", "ended_at", "duration_s", "approach",
                                 "config",         "topology",   "host",     "limits",     "sysctls",
                                 "results",        "memory",     "series",   "server",     "server_stats_error"};
  for (const auto& [k, v] : j.items())
    if (std::find(std::begin(kTyped), std::end(kTyped), k) == std::end(kTyped)) r.extra[k] = v;
  return r;
}

}  // namespace c1m
