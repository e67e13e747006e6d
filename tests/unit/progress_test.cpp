#include "core/progress/progress.hpp"

#include <gtest/gtest.h>

namespace c1m {
namespace {
using ojson = nlohmann::ordered_json;

ojson status(const char* phase, uint64_t established, double rate, ojson outcome = nullptr, ojson reason = nullptr) {
  return {{"phase", phase}, {"established", established}, {"target", 50000}, {"connect_rate_per_s", rate},
          {"errors", 0},    {"status", outcome},          {"reason", reason}};
}
}  // namespace

TEST(Progress, SumsTheClientsAndReadsTheServer) {
  std::vector<ojson> s = {status("ramp", 30000, 1500.5), status("wait", 50000, 0)};
  LabProgress p = summarize_lab(s, 79000, 20, 1'000'000);
  EXPECT_EQ(p.established_clients, 80000u);
  EXPECT_EQ(p.established_server, 79000u);
  EXPECT_DOUBLE_EQ(p.connect_rate_per_s, 1500.5);
  EXPECT_EQ(p.phase, "ramp");
  std::string line = progress_line(p, 12.3);
  EXPECT_NE(line.find("client 80.0k  server 79.0k of 1.00M"), std::string::npos) << line;
  EXPECT_NE(line.find("clients done 0/20"), std::string::npos) << line;
  EXPECT_NE(line.find("18 client(s) not heard from"), std::string::npos) << line;
}

TEST(Progress, SaysWhatTheRunWaitsFor) {
  LabProgress waiting = summarize_lab({status("wait", 50000, 0), status("wait", 50000, 0)}, std::nullopt, 2, 100000);
  EXPECT_EQ(waiting.phase, "wait");
  EXPECT_NE(waiting.waiting_for.find("the server to hold all 100.0k"), std::string::npos) << waiting.waiting_for;
  // The server's /stats did not answer: said as n/a, never as 0.
  EXPECT_NE(progress_line(waiting, 1).find("server n/a"), std::string::npos);
}

TEST(Progress, DoneWhenEveryClientSaidHowItEnded) {
  std::vector<ojson> s = {status("stop", 50000, 0, "complete"),
                          status("stop", 1200, 0, "failed", "stalled: no connection added")};
  LabProgress p = summarize_lab(s, 0, 2, 100000);
  EXPECT_EQ(p.phase, "done");
  EXPECT_EQ(p.clients_done, 2u);
  EXPECT_EQ(p.clients_failed, 1u);
  EXPECT_EQ(p.first_failure, "stalled: no connection added");
  EXPECT_NE(progress_line(p, 3).find("clients done 2/2 (1 failed)"), std::string::npos);
  // Done, the server is closing what it held (or too busy to answer): the line says the most it was seen holding.
  EXPECT_NE(progress_line(p, 3).find("server 0 of 100.0k"), std::string::npos) << progress_line(p, 3);
  p.established_server = std::nullopt;
  p.server_peak_seen = 51200;
  EXPECT_NE(progress_line(p, 3).find("client 51.2k  server peak 51.2k of 100.0k"), std::string::npos)
      << progress_line(p, 3);
  LabProgress ramping = summarize_lab({status("ramp", 30000, 10)}, std::nullopt, 1, 100000);
  ramping.server_peak_seen = 29000;  // before done, the line says what the server holds now
  EXPECT_NE(progress_line(ramping, 3).find("server n/a of"), std::string::npos) << progress_line(ramping, 3);
  // One of two has not ended: not done.
  EXPECT_NE(summarize_lab({s[0], status("hold", 50000, 0)}, std::nullopt, 2, 100000).phase, "done");
}

// A client's own line and the status document the lab's watcher reads back (summarize_lab above).
TEST(Progress, AClientsLineAndStatusSayTheSameThing) {
  SeriesPoint p;
  p.t_s = 6.31;
  p.established = 183200;
  p.connect_rate_per_s = 29100;
  p.errors = 2;
  p.server_connections = 183000;
  ClientNow now{.phase = "ramp", .target = 500000, .in_flight = 200, .errors = 2};
  std::string line = client_progress_line(now, p);
  EXPECT_EQ(line.rfind("ramp  183.2k/500.0k established  29.1k/s  in-flight 200  errors 2  6.31s  server 183.0k", 0),
            0u)
      << line;
  EXPECT_EQ(line.find("rtt"), std::string::npos) << "no answers in that second: no rtt";
  ojson st = client_status_json(now, p);
  EXPECT_EQ(st["phase"], "ramp");
  EXPECT_EQ(st["established"], 183200);
  EXPECT_TRUE(st["status"].is_null()) << "running: no outcome yet";
  std::string failed = "failed";
  now.status = &failed;
  now.reason = "stalled";
  st = client_status_json(now, p);
  EXPECT_EQ(st["status"], "failed");
  EXPECT_EQ(st["reason"], "stalled");
  // The watcher reads it as a client that ended.
  EXPECT_EQ(summarize_lab({st}, std::nullopt, 1, 500000).first_failure, "stalled");
}

}  // namespace c1m
