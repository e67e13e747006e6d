// The server's account of itself: built from its counters, written as its /stats document, read back
// by the client, the collector and the record to the same figures, and refused when it is not one.
#include "core/record/server_stats.hpp"

#include <gtest/gtest.h>

namespace c1m {
namespace {

ServerStats sample() {
  ServerCounters t;
  t.connections = 7;
  t.accepted_total = 9;
  t.connections_peak = 8;
  t.rss_baseline_bytes = 1000;
  t.rss_at_peak_bytes = 1800;
  t.errors.add(ErrorClass::emfile_enfile, 2);
  procfs::KernelSnapshot start, now;
  start.tcpext = {{"ListenOverflows", 1}};
  now.tcpext = {{"ListenOverflows", 4}};
  now.conntrack_count = 12;
  now.conntrack_max = 262144;
  ojson context =
      server_context_json(ojson::array({"127.0.0.1:9000"}), ojson::object(), {{"kernel", "6.1"}}, ojson::object());
  context["sched"] = "normal";
  return server_stats_of(t, 8, 2, 2, ServerCpu{1.5, 0.75, 0.25}, context, start, now);
}

}  // namespace

TEST(ServerStats, TheDocumentSaysEachFigureOnce) {
  ojson j = to_json(sample());
  EXPECT_EQ(j["kind"], "server_stats");
  EXPECT_EQ(j["listen"][0], "127.0.0.1:9000");
  EXPECT_EQ(j["sched"], "normal");
  EXPECT_TRUE(j["host"].contains("kernel"));
  EXPECT_EQ(j["tcpext_since_start"]["ListenOverflows"], 3);
  EXPECT_EQ(j["conntrack"]["count"], 12);  // the server's own namespace: a lab client cannot read it
  EXPECT_EQ(j["conntrack"]["max"], 262144);
  EXPECT_DOUBLE_EQ(j["cpu_seconds"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(j["ramp_cpu_seconds"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["ramp_cpu_user_seconds"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(j["user_bytes_per_connection"].get<double>(), 100.0);
  EXPECT_EQ(j["connections"], 7);
  EXPECT_EQ(j["connections_peak"], 8);
  EXPECT_EQ(j["errors"]["emfile_enfile"], 2);
  EXPECT_FALSE(j.contains("workers_lost_reason")) << "said only in the stats it prints as it stops";
  ServerStats last = sample();
  last.stopped = true;
  EXPECT_TRUE(to_json(last)["workers_lost_reason"].is_null());
}

TEST(ServerStats, WhatIsWrittenReadsBackToTheSameFigures) {
  ServerStats s = sample();
  s.ended_because = "the server stopped";
  s.workers_sched_policy = "fifo";
  ojson j = to_json(s);
  j["participant"] = "server-a";  // a report to the collector names its sender: not a figure
  j["role"] = "server";
  std::string why;
  auto back = server_stats_from_json(j, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(to_json(*back), to_json(s));
  EXPECT_EQ(back->errors[ErrorClass::emfile_enfile], 2u);
  EXPECT_EQ(back->conntrack_max, 262144u);
  EXPECT_EQ(back->ramp_cpu(), 0.75);
  EXPECT_EQ(back->ramp_cpu_user(), 0.25);
  EXPECT_FALSE(back->context.contains("participant"));
}

TEST(ServerStats, WhatIsNotAServersStatsIsRefusedByName) {
  struct Case {
    ojson doc;
    const char* says;
  };
  ojson good = to_json(sample());
  auto with = [&](const char* key, ojson v) {
    ojson j = good;
    j[key] = std::move(v);
    return j;
  };
  ojson no_peak = good;
  no_peak.erase("connections_peak");
  for (const Case& c : std::vector<Case>{
           {ojson::array(), "expected a JSON object"},
           {no_peak, "connections_peak"},
           {with("connections", -1), "connections: expected a whole number"},
           {with("errors", "many"), "errors: expected an object"},
           {with("errors", {{"emfile_enfile", "2"}}), "errors.emfile_enfile"},
           {with("conntrack", {{"count", 1.5}}), "conntrack.count"},
           {with("cpu_seconds", "1"), "cpu_seconds: expected a number"},
           {with("workers_lost", 3), "workers_lost: expected an array"},
       }) {
    std::string why;
    EXPECT_FALSE(server_stats_from_json(c.doc, &why)) << c.doc.dump();
    EXPECT_NE(why.find(c.says), std::string::npos) << why;
  }
  // A ramp CPU that is no plausible number of seconds is not taken as one.
  EXPECT_FALSE(server_stats_from_json(with("ramp_cpu_seconds", 1e12))->ramp_cpu());
  // Nor a user part larger than the whole, nor one without a whole.
  ojson more_user = to_json(sample());
  more_user["ramp_cpu_user_seconds"] = 2.0;
  EXPECT_FALSE(server_stats_from_json(more_user)->ramp_cpu_user());
  EXPECT_FALSE(server_stats_from_json(with("ramp_cpu_seconds", 1e12))->ramp_cpu_user());
}

TEST(ServerStats, Prometheus) {
  std::string m = server_metrics_text(sample());
  EXPECT_NE(m.find("# TYPE c1m_server_connections gauge\nc1m_server_connections 7\n"), std::string::npos);
  EXPECT_NE(m.find("c1m_server_errors_total{class=\"emfile_enfile\"} 2\n"), std::string::npos);
  EXPECT_NE(m.find("c1m_server_workers_alive 2\n"), std::string::npos);
  EXPECT_NE(m.find("c1m_build_info{version="), std::string::npos);
}

}  // namespace c1m
