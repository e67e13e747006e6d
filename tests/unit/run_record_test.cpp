// The typed run record: what it reads back, what it refuses, how many clients merge, and that the
// schema file and docs/record.md's key table say what it writes.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/collector/collect.hpp"
#include "core/record/record_file.hpp"
#include "core/record/run_record.hpp"
#include "record_fixtures.hpp"

namespace c1m {
namespace {

using test::fixture;

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string refusal(const ojson& j) {
  std::string err;
  EXPECT_FALSE(RunRecord::from_json(j, err).has_value()) << j.dump().substr(0, 200);
  return err;
}

TEST(RunRecord, ReadsBackWhatItWrites) {
  ojson base = fixture("base.json");
  std::string err;
  auto r = RunRecord::from_json(base, err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->results.established_peak_client, 1000000u);
  EXPECT_EQ(r->results.connect_us.count(), base["results"]["connect_latency_ms"]["count"].get<uint64_t>());
  ojson again = r->to_json();
  // Every figure survives the round trip (the summaries are recomputed from the histograms; maps
  // come back in key order; a key this fixture predates comes back null).
  auto unordered = [](const ojson& j) { return nlohmann::json::parse(j.dump()); };
  for (const char* newer :
       {"conntrack_at_peak", "http_replies_2xx", "http_replies_3xx", "http_replies_4xx", "http_replies_5xx",
        "limit_connections", "tls_handshakes", "tls_resumed", "tls_tickets", "tls_library_peak_bytes_client",
        "tls_handshake_latency_ms", "tls_handshake_latency_histogram", "tls_first_error", "tls_handshakes_per_s",
        "tls_ramp_cpu_us_per_handshake_client", "tls_ramp_cpu_us_per_handshake_server", "ramp_cpu_client_user_s",
        "ramp_cpu_server_user_s"}) {
    ASSERT_TRUE(again["results"][newer].is_null()) << newer;
    again["results"].erase(newer);
  }
  for (const char* newer : {"kernel_bytes_per_connection_server", "tls_library_bytes_per_connection_client",
                            "tls_library_bytes_per_connection_server"}) {
    ASSERT_TRUE(again["memory"][newer].is_null()) << newer;
    again["memory"].erase(newer);
  }
  EXPECT_EQ(unordered(again["results"]), unordered(base["results"]));
  EXPECT_EQ(again["memory"], base["memory"]);
  EXPECT_EQ(again["series"], base["series"]);
  EXPECT_EQ(again["started_at"], base["started_at"]);
  again = r->to_json();
  auto twice = RunRecord::from_json(again, err);
  ASSERT_TRUE(twice) << err;
  EXPECT_EQ(twice->to_json(), again);
}

TEST(RunRecord, ASeriesPointKeepsItsSecondsRoundTrips) {
  ojson j = fixture("base.json");
  std::string err;
  auto r = RunRecord::from_json(j, err);
  ASSERT_TRUE(r) << err;
  ASSERT_GE(r->series.size(), 2u);
  for (uint64_t us : {800u, 900u, 1000u, 30000u}) r->series[1].ping_rtt_us.record(us);
  ojson written = r->to_json();
  EXPECT_FALSE(written["series"][0].contains("ping_rtt_ms"));  // no answers in that second: no figures
  const ojson& p = written["series"][1]["ping_rtt_ms"];
  EXPECT_EQ(p["count"], 4);
  EXPECT_NEAR(p["p50"].get<double>(), 0.9, 0.9 / 16);
  EXPECT_NEAR(p["max"].get<double>(), 30.0, 30.0 / 8);
  auto again = RunRecord::from_json(written, err);
  ASSERT_TRUE(again) << err;
  EXPECT_EQ(again->series[1].ping_rtt_us.buckets(), r->series[1].ping_rtt_us.buckets());
  written["series"][1]["ping_rtt_histogram"]["buckets"][0] = {300, 1};
  EXPECT_EQ(refusal(written), "/series/1/ping_rtt_histogram/buckets/0: expected [index from 0 to 255, count]");
}

TEST(RunRecord, RefusesWhatNoReaderCouldUseNamingTheField) {
  ojson good = fixture("base.json");
  auto with = [&](auto edit) {
    ojson r = good;
    edit(r);
    return refusal(r);
  };
  EXPECT_EQ(with([](ojson& r) {
              r["results"]["connect_latency_histogram"]["buckets"][0] = {5000, 1};
            }),
            "/results/connect_latency_histogram/buckets/0: expected [index from 0 to 2047, count]");
  EXPECT_EQ(with([](ojson& r) { r["results"]["connect_latency_histogram"]["buckets"][0] = {1}; }),
            "/results/connect_latency_histogram/buckets/0: expected [index from 0 to 2047, count]");
  EXPECT_EQ(with([](ojson& r) {
              r["results"]["connect_latency_histogram"]["buckets"][0] = {5, "x"};
            }),
            "/results/connect_latency_histogram/buckets/0/1: expected a count from 0 to 1e12");
  EXPECT_EQ(with([](ojson& r) { r["approach"] = 5; }), "/approach: expected a string");
  // Latency summaries are figures: plot once drew "fast" as a time.
  EXPECT_EQ(with([](ojson& r) { r["results"]["connect_latency_ms"]["p50"] = "fast"; }),
            "/results/connect_latency_ms/p50: expected a number within 1e12");
  EXPECT_EQ(with([](ojson& r) {
              r["series"][3]["ping_rtt_ms"] = {{"p50", "fast"}};
            }),
            "/series/3/ping_rtt_ms/p50: expected a number within 1e12");
  // It names the record's file: what is not one of the schema's is refused by every reader.
  EXPECT_EQ(with([](ojson& r) { r["approach"] = "x/y"; }), "/approach: expected multi-ip, multi-port or custom");
  // compare reads repetitions' figures: what is not a run's figures is refused, not read as "missing".
  EXPECT_EQ(with([](ojson& r) { r["repetitions"] = {{{"x", 1}}}; }), "/repetitions/0/established_peak_client: missing");
  EXPECT_EQ(with([](ojson& r) { r["repetitions"] = {5}; }), "/repetitions/0: expected an object");
  EXPECT_EQ(with([](ojson& r) {
              r["repetitions"] = {{{"established_peak_client", 10}, {"time_to_target_s", {{"p50", "fast"}}}}};
            }),
            "/repetitions/0/time_to_target_s: expected a number, a string or null");
  EXPECT_EQ(with([](ojson& r) { r["status"] = "sort of"; }), "/status: expected complete, failed or interrupted");
  EXPECT_EQ(with([](ojson& r) { r["results"]["errors_total"] = 18446744073709551613.0; }),
            "/results/errors_total: expected a count from 0 to 1e12");
  EXPECT_EQ(with([](ojson& r) { r["results"]["attempted"] = -1; }),
            "/results/attempted: expected a count from 0 to 1e12");
  EXPECT_EQ(with([](ojson& r) { r["results"]["attempted"] = 2.5; }), "/results/attempted: expected a whole count");
  EXPECT_EQ(with([](ojson& r) { r["series"][3] = "x"; }), "/series/3: expected an object");
  EXPECT_EQ(with([](ojson& r) { r["results"]["hold_cpu_cores_client"] = "busy"; }),
            "/results/hold_cpu_cores_client: expected cores from 0 to 1e6");
  EXPECT_EQ(with([](ojson& r) { r["memory"]["kernel_bytes_per_socket"] = "big"; }),
            "/memory/kernel_bytes_per_socket: expected a number within 1e12");
  // One schema_version, one layout: the sysctls as {namespaced, host}, the limits flat.
  EXPECT_EQ(with([](ojson& r) {
              r["sysctls"] = {{"net.core.somaxconn", "4096"}};
            }),
            "/sysctls/net.core.somaxconn: expected only namespaced and host");
  EXPECT_EQ(with([](ojson& r) { r["sysctls"]["host"]["fs.file-max"] = 2466246; }),
            "/sysctls/host/fs.file-max: expected the value as read (text) or null");
  EXPECT_EQ(with([](ojson& r) {
              r["limits"]["nofile"] = {{"soft", 1024}};
            }),
            "/limits/nofile: expected a number, text or null");
}

TEST(RunRecord, AServersStatsDocumentIsNamedNotMisread) {
  // What c1m server --json writes carries schema_version 1 too; it is refused by name.
  ojson stats = {{"kind", "server_stats"}, {"schema_version", 1}, {"connections", 0}, {"connections_peak", 20000}};
  EXPECT_NE(refusal(stats).find("a c1m server's stats document"), std::string::npos);
  stats.erase("kind");  // one written before it said so
  EXPECT_NE(refusal(stats).find("a c1m server's stats document"), std::string::npos);
}

TEST(RunRecord, AMergedRecordHasTheClientRecordsShape) {
  ojson client = fixture("base.json");
  CollectRequest req;
  req.approach = "multi-ip";
  req.host = client["host"];
  req.run_id = "r";
  req.clients = {{"a", "", client, ""}, {"b", "", client, ""}};
  ojson merged = merge_client_records(req);
  for (const char* section : {"results", "memory"})
    for (const auto& [k, v] : client[section].items())
      EXPECT_TRUE(merged[section].contains(k)) << section << "." << k << " missing from a merged record";
  EXPECT_EQ(merged["limits"], client["limits"]);  // the clients' limits, as a client record has them
  EXPECT_TRUE(merged["results"]["hold_cpu_cores_client"].is_number());
  EXPECT_DOUBLE_EQ(merged["results"]["hold_cpu_cores_client"].get<double>(),
                   2 * client["results"]["hold_cpu_cores_client"].get<double>());
  EXPECT_EQ(merged["results"]["kernel_tcp_inuse_delta"],
            2 * client["results"]["kernel_tcp_inuse_delta"].get<int64_t>());
  std::string err;
  EXPECT_TRUE(RunRecord::from_json(merged, err)) << err;  // and reads back as a record
}

// docs/record.md's key table and the schema file describe what to_json writes: every key the table
// names is in the schema and in a written record, and every results/memory key written is in both.
// The ramp's CPU over many clients: the machine's from the widest window (the clients ramp
// together, so it covers the rest), per connection over all of them; the clients' own processes
// add up; the server's is its own figure.
TEST(RunRecord, MergesTheRampsCpuAsTheFloorProbeWouldMeasureIt) {
  std::vector<RunRecord> clients;
  for (double busy : {40.0, 50.0}) {
    std::string err;
    ojson j = fixture("base.json");
    j["results"]["connected_total"] = 500000;
    j["results"]["ramp_cpu_busy_s"] = busy;
    j["results"]["ramp_cpu_steal_s"] = busy / 100;
    j["results"]["ramp_cpu_client_s"] = 10.0;
    j["results"]["ramp_cpu_server_s"] = 20.0;
    clients.push_back(*RunRecord::from_json(j, err));
  }
  RunResults m = merge(clients).results;
  EXPECT_EQ(m.ramp_cpu_busy_s, 50.0);
  EXPECT_EQ(m.ramp_cpu_steal_s, 0.5);
  EXPECT_DOUBLE_EQ(*m.ramp_cpu_busy_us_per_connection, 50.0);  // 50 s over 1,000,000 connections
  EXPECT_EQ(m.ramp_cpu_client_s, 20.0);
  EXPECT_EQ(m.ramp_cpu_server_s, 20.0);
  // With the machine's counters: the union of the windows on one machine, machines added up. Two
  // clients on one machine, 100-140 s and 110-160 s of its busy time: 60 s, not the wider 50.
  auto with_counters = [&](double b0, double b1, const char* node) {
    std::string err;
    ojson j = fixture("base.json");
    j["results"]["connected_total"] = 500000;
    j["results"]["ramp_cpu_busy_s"] = b1 - b0;
    j["results"]["ramp_cpu_machine_counters"] = {
        {"busy_s_start", b0}, {"busy_s_end", b1}, {"steal_s_start", 1.0}, {"steal_s_end", 1.5}};
    if (node) j["host"]["node"] = {{"id", node}, {"hostname", "vm"}};
    return *RunRecord::from_json(j, err);
  };
  EXPECT_EQ(merge({with_counters(100, 140, nullptr), with_counters(110, 160, nullptr)}).results.ramp_cpu_busy_s, 60.0);
  // On two swarm nodes (two machines): each node's own window, added.
  RunResults two = merge({with_counters(100, 140, "a"), with_counters(110, 160, "b")}).results;
  EXPECT_EQ(two.ramp_cpu_busy_s, 90.0);
  EXPECT_EQ(two.ramp_cpu_steal_s, 1.0);
  ojson broken = fixture("base.json");
  broken["results"]["ramp_cpu_machine_counters"] = {{"busy_s_start", 1}};
  EXPECT_NE(refusal(broken).find("/results/ramp_cpu_machine_counters"), std::string::npos);

  ojson bad = fixture("base.json");
  bad["results"]["ramp_cpu_busy_s"] = -1;
  EXPECT_NE(refusal(bad).find("/results/ramp_cpu_busy_s"), std::string::npos);
}

// The machine over the live hold: the clients of one machine read it over nearly one window, so it
// counts once, at their median; machines add up. A client without the reading is left out.
TEST(RunRecord, MergesTheLiveHoldsMachineCoresOncePerMachine) {
  auto client = [](std::optional<double> busy, const char* node) {
    std::string err;
    ojson j = fixture("base.json");
    j["results"]["live_cpu_machine_busy_cores"] = busy ? ojson(*busy) : ojson(nullptr);
    j["results"]["live_cpu_machine_steal_cores"] = busy ? ojson(*busy / 10) : ojson(nullptr);
    if (node) j["host"]["node"] = {{"id", node}, {"hostname", "vm"}};
    return *RunRecord::from_json(j, err);
  };
  RunResults one = merge({client(1.2, nullptr), client(1.5, nullptr), client(1.4, nullptr)}).results;
  EXPECT_EQ(one.live_cpu_machine_busy_cores, 1.4);
  EXPECT_DOUBLE_EQ(*one.live_cpu_machine_steal_cores, 0.14);
  RunResults two = merge({client(1.2, "a"), client(1.6, "b"), client(std::nullopt, "b")}).results;
  EXPECT_DOUBLE_EQ(*two.live_cpu_machine_busy_cores, 2.8);
  EXPECT_FALSE(merge({client(std::nullopt, nullptr)}).results.live_cpu_machine_busy_cores);
  ojson bad = fixture("base.json");
  bad["results"]["live_cpu_machine_steal_cores"] = -0.5;
  EXPECT_NE(refusal(bad).find("/results/live_cpu_machine_steal_cores"), std::string::npos);
}

TEST(RunRecord, SchemaAndReadmeNameWhatIsWritten) {
  ojson client = fixture("base.json");
  std::string err;
  ojson written = RunRecord::from_json(client, err)->to_json();
  CollectRequest req;  // a merged record writes one key more (the server's namespace)
  req.clients = {{"a", "", client, ""}};
  req.server =
      Participant{"server", "", {{"connections_peak", 1000000}, {"tcpext_since_start", {{"ListenOverflows", 0}}}}, ""};
  ojson merged = merge_client_records(req);
  ojson schema = ojson::parse(text_of(std::string(C1M_FIXTURES) + "/../../results/run-record.schema.json"));
  std::string readme = text_of(std::string(C1M_FIXTURES) + "/../../docs/record.md");
  std::set<std::string> documented;
  std::regex key_cell(R"(`((results|memory)\.[a-z0-9_]+)`)");
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), key_cell); it != std::sregex_iterator(); ++it)
    documented.insert((*it)[1]);
  ASSERT_GT(documented.size(), 15u);
  for (const std::string& key : documented) {
    std::string section = key.substr(0, key.find('.')), name = key.substr(key.find('.') + 1);
    EXPECT_TRUE(written[section].contains(name) || merged[section].contains(name))
        << "docs/record.md names " << key << ", which no record has";
    EXPECT_TRUE(schema["properties"][section]["properties"].contains(name))
        << "docs/record.md names " << key << ", which the schema does not";
  }
  for (const ojson* record : {&written, &merged})
    for (const char* section : {"results", "memory"})
      for (const auto& [k, v] : (*record)[section].items()) {
        std::string key = std::string(section) + "." + k;
        EXPECT_TRUE(documented.count(key)) << key << " is written but not in docs/record.md's table";
        EXPECT_TRUE(schema["properties"][section]["properties"].contains(k))
            << key << " is written but not in the schema";
      }
}

}  // namespace
}  // namespace c1m
