#include "core/record/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/record/rank_test.hpp"
#include "core/record/record_fields.hpp"
#include "core/record/run_record.hpp"
#include "core/units.hpp"

namespace c1m {
namespace {

std::string fmt(std::optional<double> v) {
  if (!v) return "n/a";
  char b[32];
  double a = std::fabs(*v);
  if (a != 0 && (a < 0.01 || a >= 1e7))
    std::snprintf(b, sizeof b, "%.3g", *v);
  else if (a >= 1000)
    std::snprintf(b, sizeof b, "%.0f", *v);
  else
    std::snprintf(b, sizeof b, "%.3f", *v);
  return b;
}

std::string pct(std::optional<double> v) {
  if (!v) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%+.1f%%", *v * 100);
  return b;
}

// The parts of a record that explain why figures differ between hosts.
void diff_context(const ojson& a, const ojson& b, const std::string& path, std::vector<std::string>& out) {
  if (a.is_object() && b.is_object()) {
    for (auto& [k, v] : a.items()) diff_context(v, b.contains(k) ? b[k] : ojson(nullptr), path + "." + k, out);
    for (auto& [k, v] : b.items())
      if (!a.contains(k)) diff_context(ojson(nullptr), v, path + "." + k, out);
    return;
  }
  if (a != b)
    out.push_back(path.substr(1) + ": " + (a.is_string() ? a.get<std::string>() : a.dump()) + " -> " +
                  (b.is_string() ? b.get<std::string>() : b.dump()));
}

}  // namespace

// The field table's compared figures, in the record's order; a summary gives a metric a percentile.
const std::vector<Metric>& compared_metrics() {
  static const std::vector<Metric> metrics = [] {
    std::vector<Metric> out;
    for (const auto& f : record_fields()) {
      std::string at = std::string("/") + f.section + "/" + f.key;
      if (f.better != Better::not_compared)
        out.push_back({f.key, at, f.better == Better::higher ? Direction::higher_is_better : Direction::lower_is_better,
                       f.unit, f.noise_floor, f.get});
      if (!f.compared_percentiles) continue;
      std::string stem = f.key;
      stem.resize(stem.size() - 3);  // less "_ms"
      std::istringstream which(f.compared_percentiles);
      for (std::string p; which >> p;) {
        // "p999" is the 0.999 quantile: the digits after the p, read as a fraction.
        const double q = std::stod("0." + p.substr(1));
        auto from = f.summary_of;
        auto value = [from, q](const RunRecord& r) -> std::optional<double> {
          const Histogram* h = from(r);
          if (!h || h->count() == 0) return std::nullopt;
          return static_cast<double>(h->quantile(q)) / 1000.0;
        };
        out.push_back({stem + "_" + p + "_ms", at + "/" + p, Direction::lower_is_better, "ms", f.noise_floor, value});
      }
    }
    return out;
  }();
  return metrics;
}

std::vector<double> samples_of(const RunRecord& r, const Metric& m) {
  std::vector<double> out;
  // Repetitions: the reader has checked each is an object of the run's figures, by name.
  const ojson reps = r.extra.value("repetitions", ojson::array());
  if (reps.is_array() && !reps.empty()) {
    for (const auto& rep : reps)
      if (rep.is_object() && rep.contains(m.name) && rep[m.name].is_number()) out.push_back(rep[m.name].get<double>());
    return out;
  }
  if (auto v = m.value ? m.value(r) : std::nullopt) out.push_back(*v);
  return out;
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::same:
      return "same";
    case Verdict::better:
      return "better";
    case Verdict::worse:
      return "worse";
    case Verdict::regression:
      return "REGRESSION";
    case Verdict::not_comparable:
      return "n/c";
    case Verdict::missing:
      return "missing";
  }
  return "?";
}

std::string check_metric_types(const ojson& r) {
  for (const auto& m : compared_metrics()) {
    ojson::json_pointer p(m.pointer);
    if (!r.contains(p)) continue;
    const ojson& v = r.at(p);
    if (!v.is_number() && !v.is_null()) return m.pointer + ": expected a number or null, got " + v.type_name();
  }
  if (r.contains("repetitions") && !r["repetitions"].is_array()) return "/repetitions: expected an array";
  return {};
}

namespace {

// Where the records ran (host, limits, sysctls: figures may differ for these reasons) and what they
// asked (the experiment: when it differs, no figure is a regression).
void compare_context(const ojson& base, const ojson& now, Comparison& c) {
  for (const char* part : {"host", "limits", "sysctls"}) {
    ojson a = base.contains(part) ? base[part] : ojson(nullptr), b = now.contains(part) ? now[part] : ojson(nullptr);
    // The machine, not the moment: a container's name and addresses change with every run.
    if (std::string(part) == "host") {
      for (ojson* h : {&a, &b})
        if (h->is_object()) {
          h->erase("hostname");
          h->erase("addresses");
        }
    }
    diff_context(a, b, std::string(".") + part, c.context_differences);
  }
  // The server measured: two servers on one host compare like two hosts (what it said it is, what
  // the user named it); an older record without them is not held against a newer one.
  for (const char* key : {"software", "name", "image"}) {
    const ojson::json_pointer at(std::string("/topology/target/") + key);
    if (base.contains(at) && now.contains(at))
      diff_context(base[at], now[at], std::string(".topology.target.") + key, c.context_differences);
  }
  // What defines the experiment: a record that lacks a key (an older one) is not held against it.
  for (const char* key :
       {"/approach", "/config/protocol", "/config/per_client/protocol", "/config/per_client/http_path",
        "/config/http_path", "/config/connections", "/config/clients", "/config/hold_s", "/config/live_s",
        "/config/ping_interval_s", "/config/rate_per_s", "/config/per_client/connections", "/config/per_client/hold_s",
        "/config/per_client/live_s", "/config/per_client/ping_interval_s", "/config/per_client/rate_per_s"}) {
    const ojson::json_pointer at(key);
    if (base.contains(at) && now.contains(at) && base[at] != now[at]) {
      std::string name = std::string(key).substr(1);
      std::replace(name.begin(), name.end(), '/', '.');
      c.experiment_differences.push_back(name + ": " + base[at].dump() + " -> " + now[at].dump());
    }
  }
}

// Whether repetitions on both sides tell the medians apart: false (with the note saying why) when
// chance could explain the difference. A single run on each side decides by the threshold alone.
bool significant(const std::vector<double>& bs, const std::vector<double>& ns, bool new_higher, MetricComparison& mc) {
  if ((mc.base_n >= 2) != (mc.new_n >= 2)) {
    // Repetitions against a single run: that run's luck decides, whichever side it is on.
    mc.note = "repetitions on one side only (" + std::to_string(mc.base_n) + " vs " + std::to_string(mc.new_n) +
              "): make the other the same way";
    return false;
  }
  if (mc.base_n < 2) return true;
  mc.spread = spread(bs);
  if (mc.base_n >= kMinRepetitionsForU && mc.new_n >= kMinRepetitionsForU) {
    mc.p_value = mann_whitney_p(bs, ns);
  } else {
    // Too few for the U test's normal approximation: its exact distribution instead, one-sided in
    // the direction the medians moved. One slow baseline run no longer hides a slowdown that
    // every other pair shows (a rule of no overlap at all did).
    if (exact_rank_p(mc.base_n, mc.new_n, 0) > kSignificance) {
      mc.note = "too few repetitions to tell (" + std::to_string(mc.base_n) + " vs " + std::to_string(mc.new_n) + ")";
      return false;
    }
    double against = 0;  // pairs in which new lies the other way, ties half
    for (double x : bs)
      for (double y : ns) against += (new_higher ? y < x : y > x) ? 1.0 : (y == x ? 0.5 : 0.0);
    mc.p_value = exact_rank_p(mc.base_n, mc.new_n, against);
  }
  bool chance = mc.base_n >= kMinRepetitionsForU && mc.new_n >= kMinRepetitionsForU ? *mc.p_value >= kSignificance
                                                                                    : *mc.p_value > kSignificance;
  if (chance) mc.note = "not significantly different";
  return !chance;
}

// One metric's verdict: its medians, the change, the threshold and noise floor, then significance.
// Nothing when neither record measured it.
std::optional<MetricComparison> compare_metric(const Metric& m, const std::optional<RunRecord>& base,
                                               const std::optional<RunRecord>& now, const CompareOptions& o) {
  MetricComparison mc;
  mc.metric = &m;
  auto bs = base ? samples_of(*base, m) : std::vector<double>{}, ns = now ? samples_of(*now, m) : std::vector<double>{};
  mc.base_n = bs.size();
  mc.new_n = ns.size();
  mc.base = median(bs);
  mc.now = median(ns);
  mc.threshold = o.per_metric.count(m.name) ? o.per_metric.at(m.name) : o.threshold;
  if (!mc.base && !mc.now) return std::nullopt;
  if (!mc.now) {
    // Time to target null means the target was never reached: that is a regression, not a gap.
    bool unreached = m.name == "time_to_target_s";
    mc.verdict = unreached ? Verdict::regression : Verdict::missing;
    mc.note = unreached ? "target not reached in new" : "not measured in new";
    return mc;
  }
  if (!mc.base) {
    mc.verdict = Verdict::missing;
    mc.note = "not measured in base";
    return mc;
  }
  double b = *mc.base, n = *mc.now;
  mc.change = b != 0 ? (n - b) / std::fabs(b) : (n == 0 ? 0.0 : (n > 0 ? 1.0 : -1.0));
  bool improved = m.direction == Direction::higher_is_better ? n > b : n < b;
  bool past = std::fabs(*mc.change) > mc.threshold && std::fabs(n - b) >= m.noise_floor;
  if (std::fabs(*mc.change) > mc.threshold && !past)
    mc.note = "within the noise floor (" + fmt(m.noise_floor) + " " + m.unit + ")";
  bool decided = significant(bs, ns, improved == (m.direction == Direction::higher_is_better), mc);
  if (n == b || !past)
    mc.verdict = Verdict::same;
  else if (!decided)
    mc.verdict = improved ? Verdict::same : Verdict::worse;  // past the threshold, but not significant
  else
    mc.verdict = improved ? Verdict::better : Verdict::regression;
  return mc;
}

}  // namespace

Comparison compare_records(const ojson& base, const ojson& now, const CompareOptions& o) {
  Comparison c;
  c.gated = o.gated;
  c.base_status = text_of(base, "status", "?");
  c.new_status = text_of(now, "status", "?");
  compare_context(base, now, c);
  const bool comparable = c.experiment_differences.empty();
  if (comparable && c.base_status == "complete" && c.new_status != "complete") c.regressed = true;
  // The figures from the typed records (the callers have read them through the same reader); one
  // that does not read has no figures to compare.
  std::string why;
  const std::optional<RunRecord> b = RunRecord::from_json(base, why), n = RunRecord::from_json(now, why);
  for (const auto& m : compared_metrics()) {
    std::optional<MetricComparison> compared = compare_metric(m, b, n, o);
    if (!compared) continue;
    MetricComparison& mc = *compared;
    if (!o.gated.empty() && !o.gated.count(m.name) && mc.verdict == Verdict::regression) {
      mc.verdict = Verdict::worse;  // reported, but this gate does not fail on it
      append_clause(mc.note, "not gated");
    }
    if (!comparable && mc.verdict != Verdict::missing) mc.verdict = Verdict::not_comparable;
    if (mc.verdict == Verdict::regression) c.regressed = true;
    c.metrics.push_back(mc);
  }
  return c;
}

std::string format_text(const Comparison& c) {
  std::string out = "c1m compare: " + c.base_file + " -> " + c.new_file + "\n";
  out += "status: " + c.base_status + " -> " + c.new_status + "\n";
  if (!c.context_differences.empty()) {
    out += "the records differ in where they ran (figures may differ for these reasons):\n";
    for (const auto& d : c.context_differences) out += "  " + d + "\n";
  }
  if (!c.experiment_differences.empty()) {
    out += "NOT COMPARABLE: the runs asked for different things (no metric gets a verdict):\n";
    for (const auto& d : c.experiment_differences) out += "  " + d + "\n";
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-34s %14s %14s %9s  %-10s %s\n", "metric", "base", "new", "change", "verdict",
                "note");
  out += line;
  for (const auto& m : c.metrics) {
    std::string note = m.note;
    if (m.p_value) append_clause(note, "p=" + fmt(*m.p_value));
    std::snprintf(line, sizeof line, "%-34s %14s %14s %9s  %-10s %s\n", m.metric->name.c_str(), fmt(m.base).c_str(),
                  fmt(m.now).c_str(), pct(m.change).c_str(), verdict_name(m.verdict), note.c_str());
    out += line;
  }
  if (!c.gated.empty()) {
    auto percent = [](double v) {
      char b[32];
      std::snprintf(b, sizeof b, "%.1f%%", v * 100);
      return std::string(b);
    };
    std::string gate;
    for (const auto& m : c.metrics)
      if (c.gated.count(m.metric->name))
        append_clause(gate, m.metric->name + " (base noise " + (m.spread ? percent(*m.spread) : "n/a") +
                                ", threshold " + percent(m.threshold) + ")");
    out += "gated on: " + gate + "; the other metrics are reported, never a regression\n";
  }
  out += !c.experiment_differences.empty() ? "verdict: NOT COMPARABLE\n"
         : c.regressed                     ? "verdict: REGRESSION\n"
                                           : "verdict: no regression\n";
  return out;
}

std::string format_markdown(const Comparison& c) {
  std::string out = "### c1m compare: `" + c.base_file + "` → `" + c.new_file + "`\n\n";
  out += "Status: " + c.base_status + " → " + c.new_status +
         (!c.experiment_differences.empty() ? " — **not comparable**\n\n"
          : c.regressed                     ? " — **regression**\n\n"
                                            : " — no regression\n\n");
  for (const auto& d : c.experiment_differences) out += "- asked for differently: `" + d + "`\n";
  if (!c.gated.empty()) {
    out += "Gated on:";
    for (const auto& name : c.gated) out += " `" + name + "`";
    out += " (the other metrics are reported, never a regression)\n\n";
  }
  if (!c.experiment_differences.empty()) out += "\n";
  if (!c.context_differences.empty()) {
    out += "<details><summary>The runs differ in where they ran (" + std::to_string(c.context_differences.size()) +
           ")</summary>\n\n";
    for (const auto& d : c.context_differences) out += "- `" + d + "`\n";
    out += "\n</details>\n\n";
  }
  out += "| metric | base | new | change | verdict | note |\n|---|---:|---:|---:|---|---|\n";
  for (const auto& m : c.metrics) {
    std::string note = m.note;
    if (m.p_value) append_clause(note, "p=" + fmt(*m.p_value));
    out += "| " + m.metric->name + " | " + fmt(m.base) + " | " + fmt(m.now) + " | " + pct(m.change) + " | " +
           (m.verdict == Verdict::regression ? "**REGRESSION**" : verdict_name(m.verdict)) + " | " + note + " |\n";
  }
  return out;
}

ojson format_json(const Comparison& c) {
  ojson j;
  j["base"] = c.base_file;
  j["new"] = c.new_file;
  j["status"] = {{"base", c.base_status}, {"new", c.new_status}};
  j["context_differences"] = c.context_differences;
  j["regressed"] = c.regressed;
  j["comparable"] = c.experiment_differences.empty();
  j["gated"] = c.gated;
  j["experiment_differences"] = c.experiment_differences;
  ojson ms = ojson::array();
  auto o = [](std::optional<double> v) { return v ? ojson(*v) : ojson(nullptr); };
  for (const auto& m : c.metrics)
    ms.push_back(
        {{"metric", m.metric->name},
         {"unit", m.metric->unit},
         {"direction", m.metric->direction == Direction::higher_is_better ? "higher_is_better" : "lower_is_better"},
         {"base", o(m.base)},
         {"new", o(m.now)},
         {"change", o(m.change)},
         {"threshold", m.threshold},
         {"base_repetitions", m.base_n},
         {"new_repetitions", m.new_n},
         {"p_value", o(m.p_value)},
         {"base_spread", o(m.spread)},
         {"verdict", verdict_name(m.verdict)},
         {"note", m.note}});
  j["metrics"] = ms;
  return j;
}

ojson benchmark_action_entries(const ojson& record, Direction d) {
  ojson out = ojson::array();
  std::string why;
  const std::optional<RunRecord> typed = RunRecord::from_json(record, why);
  if (!typed) return out;
  for (const auto& m : compared_metrics()) {
    if (m.direction != d) continue;
    auto s = samples_of(*typed, m);
    if (s.empty()) continue;
    out.push_back({{"name", std::string("c1m ") + text_of(record, "approach", "") + " " + m.name},
                   {"unit", m.unit},
                   {"value", *median(s)}});
  }
  return out;
}

}  // namespace c1m
