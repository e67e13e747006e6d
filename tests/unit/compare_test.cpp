#include "core/record/compare.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/record/record_file.hpp"
#include "record_fixtures.hpp"

namespace c1m {
namespace {

using test::fixture;

const MetricComparison& metric(const Comparison& c, const std::string& name) {
  for (const auto& m : c.metrics)
    if (m.metric->name == name) return m;
  static MetricComparison none;
  ADD_FAILURE() << "no metric " << name;
  return none;
}

}  // namespace

TEST(MannWhitney, KnownCases) {
  // Fully separated samples of 10: p is far below 0.05; identical samples: p = 1.
  std::vector<double> a{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, b{11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  EXPECT_LT(mann_whitney_p(a, b), 0.001);
  EXPECT_NEAR(mann_whitney_p(a, b), mann_whitney_p(b, a), 1e-12);
  EXPECT_DOUBLE_EQ(mann_whitney_p({5, 5, 5}, {5, 5, 5}), 1.0);
  // Interleaved: no difference to find.
  EXPECT_GT(mann_whitney_p({1, 3, 5, 7, 9, 11, 13, 15, 17, 19}, {2, 4, 6, 8, 10, 12, 14, 16, 18, 20}), 0.5);
  // By hand: ranks of a are 1,2,3,6,9, so U = 21 - 15 = 6; mean 12.5, sd 4.787; with continuity
  // z = 6 / 4.787 = 1.2535, and the two-sided p = 0.2101.
  EXPECT_NEAR(mann_whitney_p({1, 2, 3, 6, 9}, {4, 5, 7, 8, 10}), 0.2101, 0.0005);
}

TEST(Compare, EqualRecordsPass) {
  Comparison c = compare_records(fixture("base.json"), fixture("same.json"), {});
  EXPECT_FALSE(c.regressed);
  EXPECT_TRUE(c.context_differences.empty());
  for (const auto& m : c.metrics) EXPECT_EQ(m.verdict, Verdict::same) << m.metric->name;
}

TEST(Compare, RegressionPastThresholdFails) {
  Comparison c = compare_records(fixture("base.json"), fixture("regressed.json"), {});
  EXPECT_TRUE(c.regressed);
  EXPECT_EQ(metric(c, "time_to_target_s").verdict, Verdict::regression);
  EXPECT_NEAR(*metric(c, "time_to_target_s").change, 0.5, 1e-9);
  EXPECT_EQ(metric(c, "connect_rate_per_s").verdict, Verdict::regression);  // rate down is worse
  // A looser threshold for one metric lets that one through, not the other.
  CompareOptions loose;
  loose.per_metric["time_to_target_s"] = 0.6;
  Comparison c2 = compare_records(fixture("base.json"), fixture("regressed.json"), loose);
  EXPECT_EQ(metric(c2, "time_to_target_s").verdict, Verdict::same);
  EXPECT_TRUE(c2.regressed);
}

// 250,000 connections against 20,000 is another experiment, not a 92% regression.
TEST(Compare, RunsThatAskedForDifferentThingsGetNoVerdict) {
  ojson smaller = fixture("regressed.json");
  smaller["config"]["connections"] = 20000;
  Comparison c = compare_records(fixture("base.json"), smaller, {});
  EXPECT_FALSE(c.regressed);
  ASSERT_EQ(c.experiment_differences.size(), 1u);
  EXPECT_EQ(c.experiment_differences[0], "config.connections: 1000000 -> 20000");
  for (const auto& m : c.metrics) EXPECT_NE(m.verdict, Verdict::regression) << m.metric->name;
  EXPECT_NE(format_text(c).find("verdict: NOT COMPARABLE"), std::string::npos);
  EXPECT_FALSE(format_json(c)["comparable"].get<bool>());
  ojson other_approach = fixture("same.json");
  other_approach["approach"] = "multi-port";
  EXPECT_EQ(compare_records(fixture("base.json"), other_approach, {}).experiment_differences.size(), 1u);
  ojson older = fixture("same.json");
  older["config"].erase("hold_s");  // a key one record lacks is not a difference
  EXPECT_TRUE(compare_records(fixture("base.json"), older, {}).experiment_differences.empty());
}

TEST(Compare, ImprovementPasses) {
  Comparison c = compare_records(fixture("base.json"), fixture("improved.json"), {});
  EXPECT_FALSE(c.regressed);
  EXPECT_EQ(metric(c, "time_to_target_s").verdict, Verdict::better);
  EXPECT_EQ(metric(c, "connect_rate_per_s").verdict, Verdict::better);
}

TEST(Compare, DifferentHostsListWhatDiffers) {
  Comparison c = compare_records(fixture("base.json"), fixture("other_host.json"), {});
  std::string all;
  for (const auto& d : c.context_differences) all += d + "\n";
  EXPECT_NE(all.find("host.kernel: 6.18.44-fc-v669 -> 6.1.0-28-amd64"), std::string::npos) << all;
  EXPECT_NE(all.find("host.cpus: 2 -> 8"), std::string::npos) << all;
  EXPECT_NE(all.find("sysctls.namespaced.net.core.somaxconn: 65535 -> 4096"), std::string::npos) << all;
  EXPECT_NE(all.find("limits.nofile_hard: 20000 -> 1048576"), std::string::npos) << all;
  EXPECT_EQ(all.find("hostname"), std::string::npos) << all;
  EXPECT_NE(format_text(c).find("differ in where they ran"), std::string::npos);
}

TEST(Compare, TwoServersOnOneHostDifferAsTwoHostsDo) {
  // The same experiment against two servers: a verdict, with the servers named as where it ran.
  ojson base = fixture("base.json"), now = fixture("same.json");
  base["topology"]["target"] = {{"software", "nginx/1.22.1"}, {"name", "nginx, 1 worker"}};
  now["topology"]["target"] = {{"software", "nginx/1.25.3"}, {"name", "nginx, 1 worker"}};
  Comparison c = compare_records(base, now, {});
  EXPECT_TRUE(c.experiment_differences.empty());
  ASSERT_EQ(c.context_differences.size(), 1u);
  EXPECT_EQ(c.context_differences[0], "topology.target.software: nginx/1.22.1 -> nginx/1.25.3");
  // The same software from two images (the lab's TARGET=): the image is where it ran too.
  base["topology"]["target"]["image"] = "c1m-target-nginx@sha256:aaaaaaaaaaaa";
  now["topology"]["target"] = base["topology"]["target"];
  now["topology"]["target"]["image"] = "c1m-target-nginx@sha256:bbbbbbbbbbbb";
  c = compare_records(base, now, {});
  ASSERT_EQ(c.context_differences.size(), 1u);
  EXPECT_EQ(c.context_differences[0],
            "topology.target.image: c1m-target-nginx@sha256:aaaaaaaaaaaa -> c1m-target-nginx@sha256:bbbbbbbbbbbb");
  now["topology"].erase("target");  // an older record, which did not name its target
  EXPECT_TRUE(compare_records(base, now, {}).context_differences.empty());
}

TEST(Compare, AContainersAddressesAreNotWhereItRan) {
  // The lab's collector gets new bridge addresses with every run: not a difference between hosts.
  ojson base = fixture("base.json"), now = fixture("base.json");
  base["host"]["addresses"] = ojson::array({"192.168.96.2", "198.18.0.3"});
  now["host"]["addresses"] = ojson::array({"192.168.240.2", "198.18.0.3"});
  EXPECT_TRUE(compare_records(base, now, {}).context_differences.empty());
}

TEST(Compare, NeverReachingTheTargetIsARegression) {
  Comparison c = compare_records(fixture("base.json"), fixture("never_reached.json"), {});
  EXPECT_TRUE(c.regressed);
  EXPECT_EQ(metric(c, "time_to_target_s").verdict, Verdict::regression);
  EXPECT_EQ(metric(c, "time_to_target_s").note, "target not reached in new");
  EXPECT_EQ(c.new_status, "failed");
}

TEST(Compare, RepetitionsDecideWithTheUTest) {
  Comparison slower = compare_records(fixture("reps_a.json"), fixture("reps_slower.json"), {});
  const auto& t = metric(slower, "time_to_target_s");
  EXPECT_EQ(t.base_n, 10u);
  ASSERT_TRUE(t.p_value.has_value());
  EXPECT_LT(*t.p_value, 0.001);
  EXPECT_EQ(t.verdict, Verdict::regression);

  Comparison same = compare_records(fixture("reps_a.json"), fixture("reps_same.json"), {});
  EXPECT_FALSE(same.regressed);
  EXPECT_EQ(metric(same, "time_to_target_s").verdict, Verdict::same);

  // Three repetitions, every one slower than every one of the ten: 1 chance in C(13, 3) = 286.
  Comparison few = compare_records(fixture("reps_a.json"), fixture("reps_few.json"), {});
  EXPECT_EQ(metric(few, "time_to_target_s").verdict, Verdict::regression);
  EXPECT_NEAR(*metric(few, "time_to_target_s").p_value, 1.0 / 286, 1e-9);
}

// A gate on few repetitions (make ci-bench: five a side) decides by the U test's exact distribution;
// two a side can never say (1 chance in 6); a metric outside the gate is reported, never a regression.
TEST(Compare, FewRepetitionsDecideOnlyWhenApartAndOnlyGatedMetricsFail) {
  auto reps = [](std::vector<double> times) {
    ojson r = fixture("base.json");
    r["repetitions"] = ojson::array();
    for (double t : times)
      r["repetitions"].push_back(
          {{"established_peak_client", 1000000}, {"time_to_target_s", t}, {"connect_latency_p99_ms", t * 10}});
    return r;
  };
  ojson base = reps({1.0, 1.1, 0.9, 1.05, 0.95});
  Comparison apart = compare_records(base, reps({1.5, 1.6, 1.7, 1.55, 1.65}), {});
  EXPECT_EQ(metric(apart, "time_to_target_s").verdict, Verdict::regression);
  EXPECT_NEAR(*metric(apart, "time_to_target_s").spread, 0.2, 1e-9);  // (1.1 - 0.9) / 1.0
  // One new repetition among the base ones: 2.5 pairs of 25 the other way, P(U <= 3) = 7/252.
  Comparison one_in = compare_records(base, reps({1.5, 1.6, 1.7, 1.55, 1.0}), {});
  EXPECT_EQ(metric(one_in, "time_to_target_s").verdict, Verdict::regression);
  EXPECT_NEAR(*metric(one_in, "time_to_target_s").p_value, 7.0 / 252, 1e-9);
  // Two of them: 6 pairs the other way, P(U <= 6) = 28/252: not a regression, however far the median.
  Comparison overlap = compare_records(base, reps({1.5, 1.6, 1.0, 0.95, 1.7}), {});
  EXPECT_EQ(metric(overlap, "time_to_target_s").verdict, Verdict::worse);
  EXPECT_NEAR(*metric(overlap, "time_to_target_s").p_value, 28.0 / 252, 1e-9);
  EXPECT_NE(metric(overlap, "time_to_target_s").note.find("not significantly different"), std::string::npos);
  Comparison two = compare_records(reps({1.0, 1.1}), reps({1.5, 1.6}), {});
  EXPECT_FALSE(two.regressed);
  EXPECT_NE(metric(two, "time_to_target_s").note.find("too few repetitions to tell (2 vs 2)"), std::string::npos);
  ojson one = fixture("base.json");
  one["results"]["time_to_target_s"] = 1.0;
  Comparison single = compare_records(one, reps({1.5, 1.6, 1.7, 1.55, 1.65}), {});
  EXPECT_FALSE(single.regressed);  // a one-run baseline cannot judge five runs
  EXPECT_NE(metric(single, "time_to_target_s").note.find("repetitions on one side only (1 vs 5)"), std::string::npos);
  CompareOptions gate;
  gate.gated = {"time_to_target_s"};
  Comparison gated = compare_records(base, reps({1.05, 1.0, 0.95, 1.1, 0.9}), gate);
  EXPECT_FALSE(gated.regressed);
  ojson tail = reps({1.05, 1.0, 0.95, 1.1, 0.9});
  for (auto& r : tail["repetitions"]) r["connect_latency_p99_ms"] = 99.0;  // the tail alone got worse
  Comparison tail_only = compare_records(base, tail, gate);
  EXPECT_FALSE(tail_only.regressed);
  EXPECT_EQ(metric(tail_only, "connect_latency_p99_ms").verdict, Verdict::worse);
  EXPECT_NE(format_text(tail_only).find("gated on: time_to_target_s (base noise 20.0%"), std::string::npos)
      << format_text(tail_only);
}

TEST(Compare, NoiseFloorKeepsTinyFiguresFromFailingCi) {
  ojson a = fixture("base.json"), b = fixture("base.json");
  a["results"]["hold_cpu_cores_client"] = 0.003;
  b["results"]["hold_cpu_cores_client"] = 0.008;  // +167%, but 0.005 of a core
  Comparison c = compare_records(a, b, {});
  EXPECT_EQ(metric(c, "hold_cpu_cores_client").verdict, Verdict::same);
  EXPECT_NE(metric(c, "hold_cpu_cores_client").note.find("noise floor"), std::string::npos);
  b["results"]["errors_total"] = 3;  // from none to some is always a change
  EXPECT_EQ(metric(compare_records(a, b, {}), "errors_total").verdict, Verdict::regression);
}

TEST(Compare, Formats) {
  Comparison c = compare_records(fixture("base.json"), fixture("regressed.json"), {});
  c.base_file = "base.json";
  c.new_file = "regressed.json";
  std::string md = format_markdown(c);
  EXPECT_NE(md.find("| metric | base | new | change | verdict | note |"), std::string::npos);
  EXPECT_NE(md.find("**REGRESSION**"), std::string::npos);
  ojson j = format_json(c);
  EXPECT_TRUE(j["regressed"].get<bool>());
  EXPECT_EQ(j["metrics"][2]["metric"], "time_to_target_s");
  EXPECT_EQ(j["metrics"][2]["direction"], "lower_is_better");
  EXPECT_NE(format_text(c).find("verdict: REGRESSION"), std::string::npos);
}

TEST(Compare, BenchmarkActionEntries) {
  ojson big = benchmark_action_entries(fixture("base.json"), Direction::higher_is_better);
  ojson small = benchmark_action_entries(fixture("base.json"), Direction::lower_is_better);
  ASSERT_FALSE(big.empty());
  EXPECT_EQ(big[0]["name"], "c1m multi-ip established_peak_client");
  EXPECT_EQ(big[0]["value"], 1000000.0);
  bool has_time = false;
  for (const auto& e : small) has_time = has_time || e["name"] == "c1m multi-ip time_to_target_s";
  EXPECT_TRUE(has_time);
  for (const auto& e : small) EXPECT_TRUE(e.contains("unit") && e["value"].is_number());
}

TEST(RecordFile, BadRecordsSayWhichFileAndWhere) {
  std::string dir = std::string(C1M_RECORDS) + "/";
  struct Case {
    const char* file;
    const char* says;
  } cases[] = {
      {"malformed.json", "malformed.json: not valid JSON"},
      {"empty.json", "empty.json: empty file"},
      {"not_object.json", "not_object.json: /: expected an object"},
      {"missing_field.json", "missing_field.json: /results/established_peak_client: missing"},
      {"unknown_schema.json", "unknown_schema.json: /schema_version: 99 is not a version this build reads (1)"},
      {"no_such_file.json", "no_such_file.json: cannot read it"},
  };
  for (const auto& c : cases) {
    std::string err;
    ojson r = read_record(dir + c.file, err);
    EXPECT_TRUE(r.is_null()) << c.file;
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
  }
  std::string err;
  read_record(dir, err);
  EXPECT_NE(err.find("is a directory"), std::string::npos) << err;
  read_record(dir + "base.json", err, 1000);  // a cap far below the file: refused before parsing
  EXPECT_NE(err.find("larger than any record"), std::string::npos) << err;
  EXPECT_TRUE(read_record(dir + "wrong_type.json", err).is_null());
  EXPECT_NE(err.find("wrong_type.json: /results/time_to_target_s: expected seconds from 0 to a year"),
            std::string::npos)
      << err;
  ojson summary_edited = fixture("base.json");  // the summaries compare reads are checked by compare
  summary_edited["results"]["connect_latency_ms"]["p99"] = "slow";
  EXPECT_EQ(check_metric_types(summary_edited),
            "/results/connect_latency_ms/p99: expected a number or null, got string");
}

TEST(RecordFile, UnknownExtraFieldsAreIgnored) {
  Comparison c = compare_records(fixture("base.json"), fixture("extra_fields.json"), {});
  EXPECT_FALSE(c.regressed);
}

}  // namespace c1m
