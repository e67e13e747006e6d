// Comparing run records, for people and for CI: per metric, base and new, the relative change, and
// whether that is better or worse (each metric knows its direction). With repetitions on both sides
// a Mann-Whitney U test decides whether the difference is real. When the records come from different
// hosts, what differs in the fingerprint, limits and sysctls is listed first, so a reader sees why.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <functional>

#include "core/record/rank_test.hpp"  // the U test and its exact form, which decide between repetitions
#include "core/record/run_record.hpp"

namespace c1m {

using ojson = nlohmann::ordered_json;

enum class Direction { higher_is_better, lower_is_better };

struct Metric {
  std::string name;     // snake_case with unit, as in the record
  std::string pointer;  // where a record keeps it (what check_metric_types looks at)
  Direction direction;
  std::string unit;
  double noise_floor;  // differences smaller than this, in the metric's unit, are not changes
  std::function<std::optional<double>(const RunRecord&)> value;  // read from the typed record
};
// From the record's field table (core/record/record_fields.hpp): its compared figures and summaries' percentiles.
const std::vector<Metric>& compared_metrics();

// The samples of a metric in a record: one per repetition if the record has `repetitions`, else its
// own value. Empty if the record has no value (null or absent).
std::vector<double> samples_of(const RunRecord& record, const Metric& m);

// From this many on both sides the U test's normal approximation decides; below it, its exact
// distribution (one-sided, in the direction the medians moved), where the repetitions are enough to
// reach significance at all: 3 a side and up.
inline constexpr size_t kMinRepetitionsForU = 9;
inline constexpr double kSignificance = 0.05;

enum class Verdict { same, better, worse, regression, missing, not_comparable };
const char* verdict_name(Verdict v);

struct MetricComparison {
  const Metric* metric;
  std::optional<double> base, now;  // medians
  std::optional<double> change;     // relative: (new - base) / base
  size_t base_n = 0, new_n = 0;
  std::optional<double> p_value;  // when both sides have repetitions: the U test's, or exact for few
  std::optional<double> spread;   // the base's repetitions: (max - min) / median, their noise
  std::string note;               // "too few repetitions to tell (3 vs 3)", "not reached in new", ...
  double threshold = 0;
  Verdict verdict = Verdict::same;
};

struct Comparison {
  std::string base_file, new_file;
  std::vector<std::string> context_differences;  // "host.kernel: 6.1.0 -> 6.18.44"
  // What the runs asked for, where it differs ("config.connections: 20000 -> 250000"): such runs are
  // different experiments, and no metric of theirs gets a verdict.
  std::vector<std::string> experiment_differences;
  std::string base_status, new_status;
  std::vector<MetricComparison> metrics;
  std::set<std::string> gated;  // the metrics that can fail it (CompareOptions::gated); empty: all
  bool regressed = false;
};

struct CompareOptions {
  double threshold = 0.10;
  std::map<std::string, double> per_metric;  // metric name -> threshold
  std::set<std::string> gated;               // only these can be a regression; empty: every metric
};

Comparison compare_records(const ojson& base, const ojson& now, const CompareOptions& options);

// Checks that every compared metric present in a record is a number or null: empty if fine, else
// "/results/time_to_target_s: expected a number or null, got string".
std::string check_metric_types(const ojson& record);

std::string format_text(const Comparison& c);
std::string format_markdown(const Comparison& c);
ojson format_json(const Comparison& c);

// github-action-benchmark style entries ({name, unit, value}) of the new record, by direction.
ojson benchmark_action_entries(const ojson& record, Direction direction);

}  // namespace c1m
