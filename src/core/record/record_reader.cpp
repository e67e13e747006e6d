// RunRecord::from_json: the one check every reader of a record uses. A bad field is refused with
// its JSON path, never met later as a crash; the first problem ends the reading.
#include <algorithm>
#include <cmath>

#include "core/record/record_fields.hpp"
#include "core/record/run_record.hpp"

namespace c1m {
namespace {

constexpr double kMaxCount = 1e12;             // far above any run, far below where sums overflow
constexpr double kMaxSeconds = 366.0 * 86400;  // a year

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

// One schema_version, one layout: limits is flat (a limit's name to a number, text or null), and
// sysctls is {namespaced, host}, each a sysctl's name to its value as read (text, or null where
// unreadable). The records kept under schema_version 1 from before that layout settled were made
// again (results/baselines/, 2026-12-06), so another shape here is a damaged record, said as one.
void check_context_layout(Reader& in, const ojson& limits, const ojson& sysctls) {
  if (limits.is_object())
    for (const auto& [k, v] : limits.items())
      if (v.is_object() || v.is_array()) return (void)in.fail("/limits/" + k, "expected a number, text or null");
  if (!sysctls.is_object()) return;
  for (const auto& [k, v] : sysctls.items()) {
    if (k != "namespaced" && k != "host") return (void)in.fail("/sysctls/" + k, "expected only namespaced and host");
    if (!v.is_object() && !v.is_null()) return (void)in.fail("/sysctls/" + k, "expected an object of sysctls");
    if (v.is_object())
      for (const auto& [name, value] : v.items())
        if (!value.is_string() && !value.is_null())
          return (void)in.fail("/sysctls/" + k + "/" + name, "expected the value as read (text) or null");
  }
}

// What the record is and when: its status, why, its dates and approach, and the sections that only
// describe. False when it cannot be read on.
bool read_header(Reader& in, const ojson& j, RunRecord& r) {
  const ojson* status = in.member(j, "status");
  if (!status || !status->is_string()) return in.fail("/status", "missing or not a string");
  r.status = status->get<std::string>();
  if (r.status != "complete" && r.status != "failed" && r.status != "interrupted")
    return in.fail("/status", "expected complete, failed or interrupted");
  if (const ojson* v = in.member(j, "run_id")) {
    if (!v->is_string()) return in.fail("/run_id", "expected a string");
    r.run_id = v->get<std::string>();
  }
  if (const ojson* v = in.member(j, "reason")) {
    if (!v->is_string()) return in.fail("/reason", "expected a string or null");
    r.reason = v->get<std::string>();
  }
  if (const ojson* v = in.member(j, "warnings")) {
    if (!v->is_array()) return in.fail("/warnings", "expected an array of strings");
    for (const auto& w : *v) {
      if (!w.is_string()) return in.fail("/warnings", "expected an array of strings");
      r.warnings.push_back(w.get<std::string>());
    }
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
  if (!in.ok()) return false;
  if (r.ended_unix_ms < 0) r.ended_unix_ms = r.started_unix_ms;
  if (const ojson* v = in.member(j, "approach")) {
    if (!v->is_string()) return in.fail("/approach", "expected a string");
    r.approach = v->get<std::string>();
    // It names the record's file: free text ("x/y", a newline) is refused here, once, for every reader.
    if (r.approach != "multi-ip" && r.approach != "multi-port" && r.approach != "custom")
      return in.fail("/approach", "expected multi-ip, multi-port or custom");
  }
  r.tool = in.object(in.member(j, "tool"), "/tool");
  r.config = in.object(in.member(j, "config"), "/config");
  r.topology = in.object(in.member(j, "topology"), "/topology");
  r.host = in.object(in.member(j, "host"), "/host");
  if (r.host.is_object() && r.host.contains("addresses") && !r.host["addresses"].is_array())
    in.fail("/host/addresses", "expected an array");
  r.limits = in.object(in.member(j, "limits"), "/limits");
  r.sysctls = in.object(in.member(j, "sysctls"), "/sysctls");
  check_context_layout(in, r.limits, r.sysctls);
  r.server = in.object(in.member(j, "server"), "/server");
  if (r.server.is_object()) in.count(in.member(r.server, "connections_peak"), "/server/connections_peak");
  if (const ojson* v = in.member(j, "server_stats_error"); v && v->is_string())
    r.server_stats_error = v->get<std::string>();
  if (const ojson* c = in.member(j, "config")) in.count(in.member(*c, "connections"), "/config/connections");
  return true;
}

// The figures: the field table's scalars, each checked as its kind says, then the structures.
bool read_figures(Reader& in, const ojson& res, const ojson* mem, RunRecord& r) {
  for (const auto& f : record_fields()) {
    if (f.kind == FigureKind::structured) continue;
    const ojson* section = std::string_view(f.section) == "results" ? &res : mem;
    const std::string path = std::string("/") + f.section + "/" + f.key;
    const ojson* v = section ? in.member(*section, f.key) : nullptr;
    if (!v && f.presence == Presence::reader_requires) return in.fail(path, "missing");
    f.set(r, in.figure_of(f, v, path));
    if (!in.ok()) return false;
  }
  RunResults& x = r.results;
  auto R = [&](const char* key) { return in.member(res, key); };
  auto P = [](const char* key) { return std::string("/results/") + key; };
  in.summary(R("connect_latency_ms"), P("connect_latency_ms"));
  in.summary(R("ping_rtt_ms"), P("ping_rtt_ms"));
  x.connect_us = in.histogram(R("connect_latency_histogram"), P("connect_latency_histogram"));
  x.rtt_us = in.histogram(R("ping_rtt_histogram"), P("ping_rtt_histogram"));
  in.summary(R("tls_handshake_latency_ms"), P("tls_handshake_latency_ms"));
  if (const ojson* h = R("tls_handshake_latency_histogram"); h && !h->is_null())
    x.tls_handshake_us = in.histogram(h, P("tls_handshake_latency_histogram"));
  if (const ojson* e = R("tls_first_error"); e && e->is_string()) x.tls_first_error = *e;
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
  return true;
}

// A point a second: its time and count required, the rest numbers or null.
bool read_series(Reader& in, const ojson& s, std::vector<SeriesPoint>& series) {
  if (!s.is_array() || s.size() > kMaxSeconds)
    return in.fail("/series", "expected an array of at most a year of seconds");
  for (size_t i = 0; i < s.size() && in.ok(); ++i) {
    const ojson& p = s[i];
    std::string at = "/series/" + std::to_string(i);
    if (!p.is_object()) return in.fail(at, "expected an object");
    SeriesPoint point;
    if (!in.member(p, "t_s")) return in.fail(at + "/t_s", "missing");
    if (!in.member(p, "established")) return in.fail(at + "/established", "missing");
    point.t_s = in.seconds(in.member(p, "t_s"), at + "/t_s").value_or(0);
    point.established = in.count(in.member(p, "established"), at + "/established").value_or(0);
    in.summary(in.member(p, "ping_rtt_ms"), at + "/ping_rtt_ms");
    point.connect_rate_per_s =
        in.number(in.member(p, "connect_rate_per_s"), at + "/connect_rate_per_s", 0, kMaxCount, "a rate from 0 to 1e12")
            .value_or(0);
    point.errors = in.count(in.member(p, "errors"), at + "/errors");
    point.server_connections = in.count(in.member(p, "server_connections"), at + "/server_connections");
    point.machine_busy_cores =
        in.number(in.member(p, "machine_busy_cores"), at + "/machine_busy_cores", 0, 1e6, "cores from 0 to 1e6");
    point.machine_steal_cores =
        in.number(in.member(p, "machine_steal_cores"), at + "/machine_steal_cores", 0, 1e6, "cores from 0 to 1e6");
    point.client_cores = in.number(in.member(p, "client_cores"), at + "/client_cores", 0, 1e6, "cores from 0 to 1e6");
    point.server_cores = in.number(in.member(p, "server_cores"), at + "/server_cores", 0, 1e6, "cores from 0 to 1e6");
    point.ping_rtt_us = in.histogram<CoarseHistogram>(in.member(p, "ping_rtt_histogram"), at + "/ping_rtt_histogram");
    series.push_back(point);
  }
  return true;
}

// Each repetition is a run's figures, as compare reads them: a count of what it held, numbers or null.
void read_repetitions(Reader& in, const ojson& v) {
  if (!v.is_array()) return (void)in.fail("/repetitions", "expected an array");
  for (size_t k = 0; k < v.size() && in.ok(); ++k) {
    const ojson& rep = v[k];
    const std::string at = "/repetitions/" + std::to_string(k);
    if (!rep.is_object()) return (void)in.fail(at, "expected an object");
    if (!rep.contains("established_peak_client")) in.fail(at + "/established_peak_client", "missing");
    in.count(in.member(rep, "established_peak_client"), at + "/established_peak_client");
    for (const auto& [key, value] : rep.items())
      if (!value.is_number() && !value.is_null() && !value.is_string())
        in.fail(at + "/" + key, "expected a number, a string or null");
  }
}

}  // namespace

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
  if (!read_header(in, j, r)) return std::nullopt;
  const ojson* res = in.member(j, "results");
  if (!res || !res->is_object()) return in.fail("/results", "missing or not an object"), std::nullopt;
  const ojson* mem = in.member(j, "memory");
  if (mem && !mem->is_object()) return in.fail("/memory", "expected an object"), std::nullopt;
  if (!read_figures(in, *res, mem, r)) return std::nullopt;
  if (const ojson* s = in.member(j, "series"); s && !read_series(in, *s, r.series)) return std::nullopt;
  if (const ojson* v = in.member(j, "repetitions")) read_repetitions(in, *v);
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
