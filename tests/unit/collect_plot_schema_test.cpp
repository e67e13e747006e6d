#include <gtest/gtest.h>

#include <sstream>

#include <filesystem>
#include <fstream>

#include "core/collector/collect.hpp"
#include "core/record/plot.hpp"
#include "core/record/record.hpp"
#include "core/record/record_file.hpp"
#include "core/record/target_meter.hpp"
#include "record_fixtures.hpp"
#include "schema_check.hpp"

namespace c1m {
namespace {

using test::fixture;

ojson schema() {
  std::ifstream in(std::string(C1M_FIXTURES) + "/../../results/run-record.schema.json");
  return ojson::parse(in);
}

// Two clients of 500 each, the second starting a second later.
CollectRequest two_clients() {
  CollectRequest req;
  req.approach = "multi-ip";
  req.host = fixture("base.json")["host"];  // the collector's; the merge reads no host itself
  for (int i = 0; i < 2; ++i) {
    ojson r = fixture("base.json");
    r["config"]["connections"] = 500;
    r["results"]["established_peak_client"] = 500;
    r["results"]["connected_total"] = 500;
    r["results"]["errors_total"] = i;  // the second had one error
    r["results"]["errors"]["etimedout"] = i;
    r["results"]["time_to_target_s"] = 2.0;
    r["started_at"] = i == 0 ? "2026-11-24T09:00:00.000Z" : "2026-11-24T09:00:01.000Z";
    r["host"]["addresses"] = ojson::array({"198.18.1." + std::to_string(10 + i)});
    r["server"]["connections_peak"] = 1000;
    req.clients.push_back({"client" + std::to_string(i), "x", r, ""});
  }
  return req;
}

}  // namespace

// A one-off client after a lab run of 250,000: the server's lifetime peak is not this run's.
TEST(Collect, AOneOffRunKeepsTheServersLifetimeFiguresOut) {
  CollectRequest req;
  req.approach = "multi-ip";
  ojson r = fixture("base.json");
  r["config"]["connections"] = 12500;
  r["results"]["established_peak_client"] = 12500;
  r["results"]["established_peak_server"] = 12500;  // the most this client saw it hold
  r["server"]["connections_peak"] = 250000;         // what it held for an earlier run
  r["server"]["user_bytes_per_connection"] = 27.5;
  req.clients.push_back({"host-1-ab12cd34", "", r, ""});
  req.one_off = true;
  ojson m = merge_client_records(req);
  EXPECT_EQ(m["results"]["established_peak_server"], 12500);
  EXPECT_TRUE(m["memory"]["user_bytes_per_connection_server"].is_null());
  EXPECT_NE(m["warnings"].dump().find("one-off"), std::string::npos) << m["warnings"];
  req.one_off = false;  // a joint run with a dedicated server: its own peak is the run's
  EXPECT_EQ(merge_client_records(req)["results"]["established_peak_server"], 250000);
}

TEST(Collect, TwoParticipantsOneRecord) {
  ojson m = merge_client_records(two_clients());
  EXPECT_EQ(m["status"], "complete");
  EXPECT_EQ(m["config"]["connections"], 1000);
  EXPECT_EQ(m["results"]["established_peak_client"], 1000);
  EXPECT_EQ(m["results"]["established_peak_server"], 1000);
  EXPECT_EQ(m["results"]["errors"]["etimedout"], 1);
  EXPECT_DOUBLE_EQ(m["results"]["time_to_target_s"].get<double>(), 3.0);  // the second reached at 1 s + 2 s
  EXPECT_EQ(m["topology"]["client_addresses"].size(), 2u);
  // Two copies of one histogram merge to twice its counts, and the same percentiles.
  ojson one = fixture("base.json")["results"]["connect_latency_ms"];
  EXPECT_EQ(m["results"]["connect_latency_ms"]["count"], one["count"].get<uint64_t>() * 2);
  EXPECT_EQ(m["results"]["connect_latency_ms"]["p99"], one["p99"]);
  EXPECT_EQ(m["participants"].size(), 2u);
}

// On a swarm each participant carries its node: the record names every node the run spanned, with
// what ran there, and where each participant ran (its kernel, limits and sysctls as it read them).
TEST(Collect, ASwarmRunNamesEveryNodeAndWhereEachParticipantRan) {
  CollectRequest req = two_clients();
  for (auto& c : req.clients) c.record["host"]["node"] = {{"id", "worker-id"}, {"hostname", "vm"}};
  ojson server = {{"connections_peak", 1000},
                  {"host", {{"kernel", "6.1.0"}, {"node", {{"id", "manager-id"}, {"hostname", "vm"}}}}},
                  {"limits", {{"nofile_hard", 20000}}},
                  {"sysctls", {{"namespaced", {{"net.core.somaxconn", "65535"}}}}}};
  req.server = Participant{"server", "", server, ""};
  ojson m = merge_client_records(req);
  ASSERT_EQ(m["nodes"].size(), 2u) << m["nodes"].dump();
  EXPECT_EQ(m["nodes"][0]["id"], "worker-id");
  EXPECT_EQ(m["nodes"][0]["clients"], 2);
  EXPECT_EQ(m["nodes"][0]["servers"], 0);
  EXPECT_EQ(m["nodes"][1]["id"], "manager-id");
  EXPECT_EQ(m["nodes"][1]["servers"], 1);
  EXPECT_EQ(m["nodes"][1]["kernel"], "6.1.0");
  const ojson& srv = m["participants"][2];
  EXPECT_EQ(srv["role"], "server");
  EXPECT_EQ(srv["node"]["id"], "manager-id");
  EXPECT_EQ(srv["limits"]["nofile_hard"], 20000);
  EXPECT_EQ(srv["sysctls"]["net.core.somaxconn"], "65535");
  EXPECT_EQ(m["participants"][0]["node"]["id"], "worker-id");
  EXPECT_TRUE(m["participants"][0]["kernel"].is_string());
  // Off a swarm there are no nodes to name.
  EXPECT_FALSE(merge_client_records(two_clients()).contains("nodes"));
}

// Clients sample once a second from their own starts, at other fractions of a second than each
// other and a little late each time: the merged ramp counts each client once a second, never twice.
TEST(Collect, TheMergedRampCountsEachClientOnceASecond) {
  CollectRequest req = two_clients();
  for (int i = 0; i < 2; ++i) {
    ojson series = ojson::array();
    for (int k = 1; k <= 8; ++k)  // 250 then 500 held; sampled 3 ms late more each time
      series.push_back({{"t_s", k + 0.003 * k + (i ? 0.99 : 0.0)},
                        {"established", k == 1 ? 250 : 500},
                        {"connect_rate_per_s", k <= 2 ? 250.0 : 0.0}});
    req.clients[i].record["series"] = series;
    req.clients[i].record["started_at"] = i == 0 ? "2026-11-24T09:00:00.000Z" : "2026-11-24T09:00:01.000Z";
  }
  ojson s = merge_client_records(req)["series"];
  std::vector<uint64_t> established;
  for (const auto& p : s) established.push_back(p["established"].get<uint64_t>());
  // Client 0 samples at 1.003 .. 8.024 s on the common axis; client 1 at 2.993, 3.996, 4.999, 6.002
  // .. 10.014 s: none of its samples falls within second 5, yet it held 500 all through it.
  EXPECT_EQ(established, (std::vector<uint64_t>{0, 250, 750, 1000, 1000, 1000, 1000, 1000, 500, 500}));
  EXPECT_DOUBLE_EQ(s[2]["connect_rate_per_s"].get<double>(), 250.0 + 250.0);
}

// A live hold's round trips, second by second: every client's answers count once in the merge, in
// the second they were answered, however the clients' samples fall.
TEST(Collect, TheMergedSeriesCountsEachAnswerOnceInItsSecond) {
  CollectRequest req = two_clients();
  for (int i = 0; i < 2; ++i) {
    ojson series = ojson::array();
    for (int k = 1; k <= 6; ++k) {
      SeriesPoint p;
      p.t_s = k + 0.4 * i;
      p.established = 500;
      p.machine_steal_cores = i == 0 ? 0.05 : (k == 4 ? 0.4 : 0.0);
      p.client_cores = 0.25 * (i + 1);
      p.server_cores = i == 0 ? 0.5 : 0.6;
      for (int n = 0; n < 10 * k; ++n) p.ping_rtt_us.record(k == 4 && i == 1 ? 50000 : 1000 + n);
      RunRecord r;
      r.series = {p};
      series.push_back(r.to_json()["series"][0]);
    }
    req.clients[i].record["series"] = series;
    req.clients[i].record["started_at"] = "2026-11-24T09:00:00.000Z";
  }
  ojson s = merge_client_records(req)["series"];
  ASSERT_EQ(s.size(), 6u);
  uint64_t answers = 0;
  for (const auto& p : s) answers += p.contains("ping_rtt_ms") ? p["ping_rtt_ms"]["count"].get<uint64_t>() : 0;
  EXPECT_EQ(answers, 2u * (10 + 20 + 30 + 40 + 50 + 60));
  // Client 1's points at 1.4 .. 5.4 s count in seconds 2 .. 6; its slow fourth second (at 4.4 s) in the fifth.
  EXPECT_EQ(s[0]["ping_rtt_ms"]["count"], 10);
  EXPECT_EQ(s[4]["ping_rtt_ms"]["count"], 50 + 40);
  EXPECT_NEAR(s[4]["ping_rtt_ms"]["max"].get<double>(), 50.0, 50.0 / 8);
  EXPECT_LT(s[3]["ping_rtt_ms"]["max"].get<double>(), 1.2);
  // Client 1's last point (6.4 s) is past the axis's last second: it counts in that second.
  EXPECT_EQ(s[5]["ping_rtt_ms"]["count"], 60 + 50 + 60);
  // The machine's steal, one machine's figure: the highest any client saw that second, never a sum.
  EXPECT_DOUBLE_EQ(s[4]["machine_steal_cores"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(s[2]["machine_steal_cores"].get<double>(), 0.05);
  EXPECT_FALSE(s[0].contains("machine_busy_cores"));  // no client read it
  // Each client's own cores add up; the one server's are, like the machine's, the highest seen.
  EXPECT_DOUBLE_EQ(s[2]["client_cores"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(s[0]["client_cores"].get<double>(), 0.25);  // client 1's first point is at 1.4 s
  EXPECT_DOUBLE_EQ(s[2]["server_cores"].get<double>(), 0.6);
}

TEST(Collect, ClientsThatNeverHeldTogetherFailTheRun) {
  CollectRequest req = two_clients();
  for (auto& c : req.clients) c.record["server"]["connections_peak"] = 500;  // one left before the other came
  ojson m = merge_client_records(req);
  EXPECT_EQ(m["status"], "failed");
  EXPECT_NE(m["reason"].get<std::string>().find("never held all 1000 at once (its peak: 500)"), std::string::npos)
      << m["reason"];
}

// The lab's FIND_LIMIT against a server that is not c1m's: each client found its share of the limit
// (one none: the other filled the server first), and c1m meter reported the server's side.
TEST(Collect, ALimitFoundIsEveryClientsTogetherAndTheRunsAnswer) {
  CollectRequest req = two_clients();
  const uint64_t held[] = {300, 0}, refused[] = {200, 500};
  for (int i = 0; i < 2; ++i) {
    ojson& r = req.clients[i].record;
    r["results"]["established_peak_client"] = held[i];
    r["results"]["limit_connections"] = held[i];
    r["results"]["errors"]["refused"] = refused[i];
    r["results"]["errors"]["etimedout"] = 0;
    r["results"]["errors_total"] = refused[i];
    r["server"] = nullptr;
    r["topology"]["target"] = {{"address", "198.18.0.2:6379"},
                               {"protocol", "redis"},
                               {"software", i == 0 ? ojson("redis 7.0.15") : ojson(nullptr)},
                               {"limit",
                                {{"held", held[i]},
                                 {"asked", 500},
                                 {"bound_by", "refused"},
                                 {"count", refused[i]},
                                 {"said", "x held some: the server said no (its own count)"}}}};
  }
  TargetMeter meter(0);
  TargetSample s;
  s.usage.kernel_bytes = 1'000'000;
  meter.add(s);
  s.established = 300, s.mono_ns = 1'000'000'000, *s.usage.kernel_bytes += 300 * 1540;
  meter.add(s);
  req.server = Participant{"target", "", to_json(meter.report({{"listen", {"198.18.0.2:6379"}}})), ""};
  ojson m = merge_client_records(req);
  EXPECT_EQ(m["status"], "complete") << m["reason"];
  const ojson& limit = m["topology"]["target"]["limit"];
  EXPECT_EQ(limit["held"], 300);
  EXPECT_EQ(limit["asked"], 1000);
  EXPECT_EQ(limit["bound_by"], "refused");
  EXPECT_EQ(limit["said"],
            "redis 7.0.15 held 300 of the 1,000 asked by 2 clients together: the server said no in its protocol (700 "
            "refused: a full server's error, a refusal code, an upgrade declined)");
  EXPECT_EQ(m["reason"], limit["said"]) << "the limit found is the run's answer";
  EXPECT_EQ(m["topology"]["target"]["software"], "redis 7.0.15") << "the client the server told what it is";
  EXPECT_EQ(m["results"]["limit_connections"], 300);
  EXPECT_EQ(m["results"]["established_peak_server"], 300) << "all that were held, not all that were asked";
  EXPECT_DOUBLE_EQ(m["memory"]["kernel_bytes_per_connection_server"].get<double>(), 1540.0);
  EXPECT_EQ(m["reason"].get<std::string>().find("files"), std::string::npos) << "no file limit was read";
  // A server at its processes' file limit: its files bound it, and the sentence says so.
  req.server->record["limits"] = {{"nofile_soft", 310}, {"processes", 1}};
  m = merge_client_records(req);
  EXPECT_NE(m["reason"].get<std::string>().find(
                "; its files bound it: 300 is 96% of the 310 its 1 process(es) may open (ulimit -n 310)"),
            std::string::npos)
      << m["reason"];
  req.server->record["limits"] = {{"nofile_soft", 310}, {"processes", 3}};  // nginx's master and workers
  EXPECT_EQ(merge_client_records(req)["reason"].get<std::string>().find("files"), std::string::npos);
  // mosquitto past its files: the clients held 300 by the kernel's handshake, it took 290 of them.
  req.server->record["connections_peak"] = 290;
  req.server->record["limits"] = {{"nofile_soft", 300}, {"processes", 1}};
  m = merge_client_records(req);
  EXPECT_EQ(m["status"], "complete") << m["reason"];
  EXPECT_EQ(m["results"]["limit_connections"], 290);
  EXPECT_EQ(m["topology"]["target"]["limit"]["held"], 290);
  EXPECT_EQ(m["reason"],
            "redis 7.0.15 held 290 of the 1,000 asked by 2 clients together: the server said no in its protocol (700 "
            "refused: a full server's error, a refusal code, an upgrade declined); the clients held 300: 10 waited in "
            "its accept queue, never taken; its files bound it: 290 is 96% of the 300 its 1 process(es) may open "
            "(ulimit -n 300)");
}

// The live hold's CPU of a server measured from outside: its readings over the seconds both clients
// were live (the last 10 s of each, the second ending 2 s after the first).
TEST(Collect, AMeteredServersLiveCpuIsItsReadingsOverTheLiveHold) {
  CollectRequest req = two_clients();
  const int64_t end_ms = parse_iso8601_ms("2026-11-24T09:01:00.000Z");
  for (int i = 0; i < 2; ++i) {
    ojson& r = req.clients[i].record;
    r["ended_at"] = iso8601_utc(end_ms + 2000 * i);
    r["results"]["live_hold_s"] = 10.0;
    r["results"]["live_pings_per_s"] = 500.0;
    r["results"]["live_cpu_cores_server"] = nullptr;  // no /stats to read it from
    r["server"] = nullptr;
  }
  TargetMeter meter(0);
  for (int s = 0; s <= 30; ++s) {
    TargetSample t;
    t.mono_ns = int64_t{s} * 1'000'000'000;
    t.unix_ms = end_ms - 20'000 + 1000 * s;
    t.established = 1000;
    t.usage.cpu.total_ns = static_cast<uint64_t>(s) * (s <= 10 ? 100'000'000 : 300'000'000);  // 0.3 cores once live
    meter.add(t);
  }
  req.server = Participant{"target", "", to_json(meter.report(nullptr)), ""};
  // The report keeps its readings where the merge looks for them (cmd_meter puts them there).
  req.server->record["meter"] = {{"cpu_series", meter.cpu_series()}};
  ojson m = merge_client_records(req);
  EXPECT_NEAR(m["results"]["live_cpu_cores_server"].get<double>(), 0.3, 1e-9);
  EXPECT_NEAR(m["results"]["live_cpu_cores_per_1k_pings_per_s_server"].get<double>(), 0.3, 1e-9);
  req.clients[1].record["results"]["live_hold_s"] = nullptr;  // a client with no live hold: not measured
  EXPECT_TRUE(merge_client_records(req)["results"]["live_cpu_cores_server"].is_null());
}

TEST(Collect, AMissingParticipantIsNamedAndFailsTheRun) {
  CollectRequest req = two_clients();
  req.clients.push_back({"client7", "", nullptr, "never reported (no record in results/.lab/x)"});
  ojson m = merge_client_records(req);
  EXPECT_EQ(m["status"], "failed");
  EXPECT_NE(m["reason"].get<std::string>().find("client7: never reported"), std::string::npos);
  EXPECT_EQ(m["participants"][2]["status"], "missing");
  EXPECT_TRUE(m["results"]["time_to_target_s"].is_number());  // the two that reported still count
}

// The checked-in CI baselines are records of repetitions that today's reader and schema take: a
// one-run baseline of an older layout made compare list differences that were not there.
TEST(Schema, TheCheckedInBaselinesAreTodaysRecordsOfRepetitions) {
  const ojson s = schema();
  size_t seen = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(std::string(C1M_FIXTURES) + "/../../results/baselines")) {
    if (e.path().extension() != ".json") continue;
    ++seen;
    std::string err;
    ojson r = read_record(e.path(), err);
    ASSERT_EQ(err, "") << e.path();
    EXPECT_EQ(test::validate(r, s), std::vector<std::string>{}) << e.path();
    EXPECT_GE(r["repetitions"].size(), 5u) << e.path();
    EXPECT_TRUE(r["config"].contains("asked_connections")) << e.path();
  }
  EXPECT_GE(seen, 2u);
}

TEST(Schema, RecordsValidateAndTheCheckerCanFail) {
  ojson s = schema();
  EXPECT_EQ(test::validate(fixture("base.json"), s), std::vector<std::string>{});
  EXPECT_EQ(test::validate(merge_client_records(two_clients()), s), std::vector<std::string>{});
  ClientRun run;
  run.run_id = "x";
  run.approach = "custom";
  run.config = {{"connections", 10}};
  run.limits = ojson::object();
  run.topology = ojson::object();
  run.host = fixture("base.json")["host"];
  run.sysctls = fixture("base.json")["sysctls"];
  EXPECT_EQ(test::validate(build_client_record(run).to_json(), s), std::vector<std::string>{});
  ojson broken = fixture("base.json");
  broken["status"] = "sort of";
  broken["results"].erase("errors_total");
  broken["results"]["time_to_target_s"] = "fast";
  auto errors = test::validate(broken, s);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], "/status: \"sort of\" not in [\"complete\",\"failed\",\"interrupted\"]");
}

// The points of a drawn series (data-series="NAME"), in SVG units; empty if none is drawn.
static std::vector<std::pair<double, double>> drawn_points(const std::string& svg, const std::string& name) {
  size_t at = svg.find("data-series=\"" + name + "\"");
  if (at == std::string::npos) return {};
  size_t from = svg.find("points=\"", at) + 8, to = svg.find('"', from);
  std::istringstream points(svg.substr(from, to - from));
  std::vector<std::pair<double, double>> xy;
  for (std::string pt; points >> pt;)
    xy.push_back({std::stod(pt.substr(0, pt.find(','))), std::stod(pt.substr(pt.find(',') + 1))});
  return xy;
}

// The plot reads typed records, as c1m plot gives it them.
RunRecord typed(const ojson& j) {
  std::string why;
  auto r = RunRecord::from_json(j, why);
  EXPECT_TRUE(r) << why;
  return r ? *r : RunRecord{};
}

TEST(Plot, SvgWithAxesSeriesAndLegend) {
  RunRecord a = typed(fixture("base.json")), b = typed(fixture("improved.json"));
  std::string svg = render_svg({{"host <a> & b", a}, {"host-b", b}});
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_NE(svg.find("data-series=\"ramp:host &lt;a&gt; &amp; b\""), std::string::npos);
  EXPECT_NE(svg.find("data-series=\"latency:host-b\""), std::string::npos);
  EXPECT_NE(svg.find("established connections"), std::string::npos);
  EXPECT_NE(svg.find("connect latency (ms, log scale)"), std::string::npos);
  EXPECT_NE(svg.find("time since the ramp started (s)"), std::string::npos);
  size_t legends = 0;
  for (size_t at = 0; (at = svg.find("class=\"legend\"", at)) != std::string::npos; ++at) ++legends;
  EXPECT_EQ(legends, 2u);
  // Balanced: every opened element closes (a cheap well-formedness check).
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '<'), std::count(svg.begin(), svg.end(), '>'));
  // The ramp line, as drawn: its last point is its highest and rightmost (the run ends holding all
  // 1M, its peak), and it starts at the origin.
  auto xy = drawn_points(svg, "ramp:host-b");
  ASSERT_GT(xy.size(), 10u);
  double top = xy[0].second, right = xy[0].first;
  for (auto [x, y] : xy) top = std::min(top, y), right = std::max(right, x);
  EXPECT_DOUBLE_EQ(xy.back().second, top);
  EXPECT_DOUBLE_EQ(xy.back().first, right);
  EXPECT_GT(xy.front().second, top);  // from the bottom up
}

// A record whose connections were pinged while held gets a third panel, its round trips beside the
// connect latency; one that never pinged draws none (an empty panel would read as "no answers").
TEST(Plot, PingRoundTripsGetAPanelOfTheirOwn) {
  ojson idle_json = fixture("base.json"), live_json = fixture("improved.json");
  RunRecord idle = typed(idle_json);
  EXPECT_EQ(render_svg({{"idle", idle}}).find("ping round-trip time"), std::string::npos);
  // 900 pings answered within bucket 40's bound, 100 within bucket 60's.
  RunRecord live = typed(live_json);
  live.results.rtt_us = Histogram{};
  for (int i = 0; i < 900; ++i) live.results.rtt_us.record(Histogram::bucket_low(40));
  for (int i = 0; i < 100; ++i) live.results.rtt_us.record(Histogram::bucket_low(60));
  std::string svg = render_svg({{"idle", idle}, {"live", live}});
  EXPECT_NE(svg.find("ping round-trip time (ms, log scale)"), std::string::npos);
  EXPECT_EQ(svg.find("data-series=\"rtt:idle\""), std::string::npos);
  auto xy = drawn_points(svg, "rtt:live");
  ASSERT_EQ(xy.size(), 2u);
  EXPECT_GT(xy[0].second, xy[1].second);  // 90% then 100%: the curve climbs (SVG's y grows downwards)
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '<'), std::count(svg.begin(), svg.end(), '>'));
}

// The live hold's p99 second by second: a line for each record whose series has answers, higher on
// the page where the p99 is lower.
TEST(Plot, EachSecondsRoundTripP99IsALine) {
  RunRecord idle = typed(fixture("base.json")), live = typed(fixture("improved.json"));
  live.series.clear();
  for (uint64_t p99_us : {2000, 30000, 2000}) {
    SeriesPoint p;
    p.t_s = static_cast<double>(live.series.size()) + 40.0;
    p.established = 1000000;
    for (int i = 0; i < 100; ++i) p.ping_rtt_us.record(p99_us);  // a second's answers, all alike
    live.series.push_back(p);
  }
  live.results.rtt_us = Histogram{};
  for (int i = 0; i < 900; ++i) live.results.rtt_us.record(Histogram::bucket_low(40));
  std::string svg = render_svg({{"idle", idle}, {"live", live}});
  EXPECT_TRUE(drawn_points(svg, "rtt-by-second:idle").empty());
  auto xy = drawn_points(svg, "rtt-by-second:live");
  ASSERT_EQ(xy.size(), 3u);
  EXPECT_LT(xy[1].second, xy[0].second);  // the slow second stands higher (SVG's y grows downwards)
  EXPECT_DOUBLE_EQ(xy[0].second, xy[2].second);
}

TEST(Plot, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 50, 5), (std::vector<double>{0, 10, 20, 30, 40, 50}));
  EXPECT_EQ(nice_ticks(0, 1.05e6, 5), (std::vector<double>{0, 500000, 1000000}));  // step 210k rounds up to 500k
  EXPECT_EQ(nice_ticks(0, 1.05e6, 8), (std::vector<double>{0, 200000, 400000, 600000, 800000, 1000000}));
}

}  // namespace c1m

namespace c1m {

// The records that crashed the collector at merge (robustness issue, items 1, 2 and 4): each is
// refused by check_mergeable with the field named, and whatever passes merges without a crash.
TEST(Collect, RecordsThatCrashedTheMergeAreRefusedWithTheField) {
  std::string err;
  ojson good = read_record(std::string(C1M_RECORDS) + "/base.json", err);
  ASSERT_EQ(err, "");
  EXPECT_EQ(check_mergeable(good), "");
  auto refused = [&](const std::function<void(ojson&)>& edit) {
    ojson r = good;
    edit(r);
    return check_mergeable(r);
  };
  EXPECT_EQ(refused([](ojson& r) { r["series"][0].erase("established"); }), "/series/0/established: missing");
  EXPECT_EQ(refused([](ojson& r) { r["series"][0]["t_s"] = 1e9; }), "/series/0/t_s: expected seconds from 0 to a year");
  EXPECT_EQ(refused([](ojson& r) { r["series"][0]["t_s"] = "x"; }), "/series/0/t_s: expected seconds from 0 to a year");
  EXPECT_EQ(refused([](ojson& r) { r["series"][0] = 5; }), "/series/0: expected an object");
  EXPECT_NE(refused([](ojson& r) { r["started_at"] = "not-a-time"; }).find("/started_at: expected a UTC time"),
            std::string::npos);
  EXPECT_NE(refused([](ojson& r) {
              r["results"]["established_peak_client"] = 1e300;
            }).find("/results/established_peak_client"),
            std::string::npos);
  EXPECT_NE(refused([](ojson& r) { r["results"]["errors_total"] = -3; }).find("/results/errors_total"),
            std::string::npos);
  EXPECT_NE(refused([](ojson& r) { r["results"]["errors"]["other"] = -1; }).find("/results/errors/other"),
            std::string::npos);
  EXPECT_NE(refused([](ojson& r) { r["host"] = "a-string"; }).find("/host: expected an object"), std::string::npos);
  // Two records lacking memory and time_to_target_s: accepted, and merged without reading past them.
  ojson bare = good;
  bare.erase("memory");
  bare["results"].erase("time_to_target_s");
  EXPECT_EQ(check_mergeable(bare), "");
  CollectRequest req;
  req.approach = "multi-ip";
  req.clients = {{"a", "", bare, ""}, {"b", "", bare, ""}};
  ojson merged = merge_client_records(req);
  EXPECT_TRUE(merged["memory"]["kernel_bytes_per_socket"].is_null());
  EXPECT_TRUE(merged["results"]["time_to_target_s"].is_null());
}

TEST(RecordFile, NestingIsBoundedBeforeTheParserRecurses) {
  std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_FALSE(json_nesting_within(deep));
  EXPECT_TRUE(json_nesting_within(
      R"({"a": [[1]], "s": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})"));
  std::string err;
  EXPECT_TRUE(parse_record(deep, "deep", err).is_null());
  EXPECT_NE(err.find("nested deeper than 64 levels"), std::string::npos) << err;
}

}  // namespace c1m
