// `c1m compare BASE NEW...`: is NEW better or worse than BASE, metric by metric, and why might it
// differ? Exit 1 when any metric regresses past its threshold, 0 otherwise, 2 on bad input and on
// runs that asked for different things (not comparable: no verdict).
#include <cstdio>
#include <memory>

#include "app/cli.hpp"
#include "core/host/atomic_file.hpp"
#include "core/record/compare.hpp"
#include "core/record/record_file.hpp"

namespace c1m::app {
namespace {

struct CompareCliOptions {
  std::vector<std::string> files;
  std::string threshold = "10%";
  std::vector<std::string> metric_thresholds;
  std::vector<std::string> gate;
  std::string format = "text";
  std::string export_kind;
  std::string export_dir = ".";
};

ojson load(const std::string& path) {
  std::string err;
  ojson r = read_record(path, err);
  if (!err.empty()) throw UsageError(err);
  std::string type_err = check_metric_types(r);
  if (!type_err.empty()) throw UsageError(path + ": " + type_err);
  return r;
}

int run_compare(const CompareCliOptions& o) {
  if (o.files.size() < 2) throw UsageError("compare needs a BASE record and at least one NEW record");
  CompareOptions opts;
  opts.threshold = require(parse_fraction(o.threshold), "--threshold", o.threshold);
  for (const auto& mt : o.metric_thresholds) {
    size_t eq = mt.find('=');
    if (eq == std::string::npos)
      throw UsageError("--metric-threshold '" + mt + "': expected NAME=FRACTION, like time_to_target_s=5%");
    std::string name = mt.substr(0, eq);
    bool known = false;
    for (const auto& m : compared_metrics()) known = known || name == m.name;
    if (!known) throw UsageError("--metric-threshold '" + mt + "': no metric named '" + name + "'");
    opts.per_metric[name] = require(parse_fraction(mt.substr(eq + 1)), "--metric-threshold", mt);
  }
  for (const std::string& names : o.gate)
    for (size_t at = 0; at <= names.size();) {
      size_t comma = std::min(names.find(',', at), names.size());
      std::string name = names.substr(at, comma - at);
      at = comma + 1;
      if (name.empty()) continue;
      bool known = false;
      for (const auto& m : compared_metrics()) known = known || name == m.name;
      if (!known) throw UsageError("--gate '" + names + "': no metric named '" + name + "'");
      opts.gated.insert(name);
    }
  // Every file is read and checked before anything is printed.
  ojson base = load(o.files[0]);
  std::vector<ojson> news;
  for (size_t i = 1; i < o.files.size(); ++i) news.push_back(load(o.files[i]));

  bool regressed = false, incomparable = false;
  ojson all = ojson::array();
  for (size_t i = 0; i < news.size(); ++i) {
    Comparison c = compare_records(base, news[i], opts);
    c.base_file = o.files[0];
    c.new_file = o.files[i + 1];
    regressed = regressed || c.regressed;
    if (!c.experiment_differences.empty()) {
      incomparable = true;
      std::fprintf(stderr, "c1m compare: %s and %s are not comparable: %s\n", c.base_file.c_str(), c.new_file.c_str(),
                   c.experiment_differences[0].c_str());
    }
    if (o.format == "json")
      all.push_back(format_json(c));
    else
      std::fputs((o.format == "md" ? format_markdown(c) : format_text(c)).c_str(), stdout);
  }
  if (o.format == "json") std::printf("%s\n", (all.size() == 1 ? all[0] : all).dump(2).c_str());
  if (o.export_kind == "benchmark-action") {
    const ojson& latest = news.back();
    for (auto [dir, name] : {std::pair{Direction::higher_is_better, "benchmark-bigger-is-better.json"},
                             std::pair{Direction::lower_is_better, "benchmark-smaller-is-better.json"}}) {
      std::string path = o.export_dir + "/" + name;
      std::string e = write_file_atomically(path, benchmark_action_entries(latest, dir).dump(2) + "\n");
      if (!e.empty()) throw UsageError("--export-dir " + o.export_dir + ": " + e);
      std::fprintf(stderr, "c1m compare: wrote %s\n", path.c_str());
    }
  }
  return incomparable ? 2 : regressed ? 1 : 0;
}

}  // namespace

Command add_compare_command(CLI::App& root) {
  auto o = std::make_shared<CompareCliOptions>();
  CLI::App* c = root.add_subcommand(
      "compare", "compare run records: better or worse, by how much, and why (exit 1 on a regression)");
  c->add_option("records", o->files, "BASE NEW [NEW...]")->required();
  c->add_option("--threshold", o->threshold, "a change worse than this is a regression")->capture_default_str();
  c->add_option("--metric-threshold", o->metric_thresholds, "NAME=FRACTION for one metric (repeatable)")
      ->allow_extra_args(false);
  c->add_option("--gate", o->gate,
                "only these metrics (comma list) can be a regression; the others are reported (default: all)")
      ->allow_extra_args(false);
  c->add_option("--format", o->format, "text, md (CI job summary) or json")
      ->check(CLI::IsMember({"text", "md", "json"}))
      ->capture_default_str();
  c->add_option("--export", o->export_kind, "benchmark-action: write customBiggerIsBetter / customSmallerIsBetter JSON")
      ->check(CLI::IsMember({"benchmark-action"}));
  c->add_option("--export-dir", o->export_dir, "where --export writes")->capture_default_str();
  return {c, [o] { return run_compare(*o); }};
}

}  // namespace c1m::app
