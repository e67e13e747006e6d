// The engine on loopback: real server and client processes, several workers each side.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "process.hpp"

namespace c1m::test {
namespace {

using json = nlohmann::json;

json read_json(const std::string& path) {
  auto j = json::parse(read_file(path), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << path;
  return j;
}

class Engine : public ::testing::Test {
 protected:
  std::string dir = temp_dir();
  std::string record = dir + "/record.json";
};

TEST_F(Engine, TwentyPortsTwentySourcesReachTwentyThousandAndAllCountsAgree) {
  PortBlock port(21);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0) + "-" + port.str(19), "--expect", "20k", "--workers",
                  "4", "--admin", "127.0.0.1:" + port.str(20), "--duration", "60s"});
  ASSERT_NE(http_get_local(port[20], "/stats", 5000), "") << server.err();
  Process client({"client", "--target", "127.0.0.1:" + port.str(0) + "-" + port.str(19), "--source",
                  "127.0.0.2-127.0.0.21", "--connections", "20k", "--workers", "4", "--hold", "1s", "--ping-interval",
                  "500ms", "--server-stats", "127.0.0.1:" + port.str(20), "--json", record, "--progress", "off"});
  ASSERT_EQ(client.wait(60000), 0) << client.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "complete") << r["reason"];
  EXPECT_EQ(r["config"]["connections"], 20000);
  EXPECT_EQ(r["limits"]["workers"], 4);
  EXPECT_EQ(r["limits"]["sched_policy"], "batch");  // the default
  EXPECT_EQ(r["results"]["established_peak_client"], 20000);
  EXPECT_EQ(r["results"]["established_peak_server"], 20000);
  // The kernel's own count (the article's `ss` check): both ends of every connection, in this namespace.
  // (Not the delta from before the run: a worker that filled has closed its 20 listeners by then.)
  EXPECT_GE(r["results"]["sockstat_at_peak"]["TCP.inuse"].get<int64_t>(), 40000);
  EXPECT_EQ(r["results"]["errors_total"], 0);
  EXPECT_GT(r["results"]["time_to_target_s"].get<double>(), 0);
  EXPECT_GT(r["results"]["connect_latency_ms"]["count"].get<int>(), 19999);
  EXPECT_GT(r["results"]["pongs_received"].get<int>(), 0);
  EXPECT_EQ(r["results"]["ping_rtt_ms"]["count"], r["results"]["pongs_received"]);
  EXPECT_EQ(r["topology"]["sources"].size(), 20u);
  EXPECT_EQ(r["topology"]["targets"].size(), 20u);
  EXPECT_EQ(r["approach"], "custom");  // 20 x 20: neither of the article's two layouts
  EXPECT_LT(r["memory"]["user_bytes_per_connection_client"].get<double>(), memory_bound(400));

  std::string metrics = http_get_local(port[20], "/metrics", 2000);
  EXPECT_NE(metrics.find("c1m_server_accepted_total 20000"), std::string::npos) << metrics;
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait(10000), 0) << server.err();
  json final_stats = json::parse(server.out());
  EXPECT_EQ(final_stats["connections_peak"], 20000);
  EXPECT_EQ(final_stats["errors"]["emfile_enfile"], 0);
  EXPECT_EQ(final_stats["workers"], 4);
  // The steering program was accepted on every listener (a refused one is counted, not fatal).
  EXPECT_EQ(final_stats["spread"], "port-block");
  EXPECT_EQ(final_stats["spread_fallbacks"], 0);
  // and it spread them: no worker filled up (one that takes every run would, at 19,900).
  EXPECT_EQ(final_stats["accept_paused"], 0);
  EXPECT_EQ(final_stats["tcpext_since_start"]["ListenOverflows"], 0);  // its own namespace's counters
}

// The kernel's own hash, the alternative to steering by source-port block, also reaches the target.
TEST_F(Engine, SpreadByHashAlsoHoldsEveryConnection) {
  PortBlock port(1);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "4k", "--workers", "3", "--spread",
                  "hash", "--duration", "30s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "--source", "127.0.0.2-127.0.0.5", "-n", "4000",
                  "--hold", "1s", "--json", record, "--progress",
                  "off"});  // held a moment: the server accepts the last ones
  ASSERT_EQ(client.wait(30000), 0) << client.err();
  EXPECT_EQ(read_json(record)["results"]["established_peak_client"], 4000);
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait(10000), 0) << server.err();
  json final_stats = json::parse(server.out());
  EXPECT_EQ(final_stats["spread"], "hash");
  EXPECT_EQ(final_stats["accepted_total"], 4000);
  EXPECT_EQ(final_stats["connections_peak"], 4000);
}

// The lab's clients finish their ramps at different times; --hold counts from the moment the server
// holds them all, so the whole target is held at once for --hold. A ramps early and waits for B.
TEST_F(Engine, HoldUntilServerCountsTheHoldFromTheFullServer) {
  PortBlock port(2);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "2k", "--workers", "2", "--admin",
                  "127.0.0.1:" + port.str(1), "--duration", "60s"});
  ASSERT_NE(http_get_local(port[1], "/stats", 5000), "") << server.err();
  Process a({"client", "--target", "127.0.0.1:" + port.str(0), "--source", "127.0.0.2", "-n", "1000", "--hold", "3s",
             "--hold-until-server", "2000", "--server-stats", "127.0.0.1:" + port.str(1), "--json", record,
             "--progress", "off"});
  sleep(4);  // A has ramped and held past its own 3 s: it waits only for the server's count
  ASSERT_TRUE(a.running()) << a.err();
  Process b({"client", "--target", "127.0.0.1:" + port.str(0), "--source", "127.0.0.3", "-n", "1000", "--hold", "2s",
             "--json", dir + "/b.json", "--progress", "off"});
  ASSERT_EQ(b.wait(30000), 0) << b.err();
  // The server has held 2,000 for about 2 s: A's hold from that moment (3 s) is not over yet.
  EXPECT_TRUE(a.running()) << "A left before holding 3 s beside B";
  ASSERT_EQ(a.wait(30000), 0) << a.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "complete") << r["reason"];
  EXPECT_EQ(r["results"]["established_peak_server"], 2000);
}

std::vector<std::string> worker_pids(pid_t server) {
  std::istringstream children(
      read_file("/proc/" + std::to_string(server) + "/task/" + std::to_string(server) + "/children"));
  return {std::istream_iterator<std::string>(children), {}};
}

size_t fds_of(const std::string& pid) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + pid + "/fd"))
    n += e.path().filename().string()[0] != '.';
  return n;
}

// The policy a process runs under, as the kernel has it: field 41 of /proc/PID/stat (after the
// command name, which may hold spaces, in parentheses).
int kernel_sched_policy(const std::string& pid) {
  std::string stat = read_file("/proc/" + pid + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 41 && fields >> field; ++i) {}
  return std::stoi(field);
}

// The workers inherit the policy the parent sets before it forks them, and the record says which.
TEST_F(Engine, WorkersRunUnderTheChosenSchedulingPolicy) {
  PortBlock port(2);
  for (auto [flag, policy] : {std::pair{"batch", SCHED_BATCH}, std::pair{"normal", SCHED_OTHER}}) {
    Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "100", "--workers", "2", "--admin",
                    "127.0.0.1:" + port.str(1), "--duration", "30s", "--sched", flag});
    ASSERT_NE(http_get_local(port[1], "/stats", 5000), "") << server.err();
    std::vector<std::string> workers = worker_pids(server.pid());
    ASSERT_EQ(workers.size(), 2u) << flag;
    for (const auto& w : workers) EXPECT_EQ(kernel_sched_policy(w), policy) << flag << ": worker " << w;
    server.signal(SIGTERM);
    ASSERT_EQ(server.wait(10000), 0) << server.err();
    json final_stats = json::parse(server.out());
    EXPECT_EQ(final_stats["limits"]["sched_policy"], flag);
    EXPECT_EQ(final_stats["sched"], flag);
  }
}

// The ramp runs under --sched, the live hold under --live-sched: the client's workers switch at their
// first ping, each server worker at the first bytes it echoes, and both sides say what was in force.
TEST_F(Engine, WorkersTakeTheLivePolicyOnceThePingsBegin) {
  PortBlock port(2);
  for (auto [flag, policy] : {std::pair{"normal", SCHED_OTHER}, std::pair{"batch", SCHED_BATCH}}) {
    Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "400", "--workers", "2", "--admin",
                    "127.0.0.1:" + port.str(1), "--duration", "30s", "--live-sched", flag});
    ASSERT_NE(http_get_local(port[1], "/stats", 5000), "") << server.err();
    json before = json::parse(http_get_local(port[1], "/stats", 5000));
    EXPECT_EQ(before["workers_sched_policy"], "batch") << "no ping yet: the ramp's policy";
    Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "400", "--workers", "2", "--hold", "500ms",
                    "--live", "2s", "--ping-interval", "500ms", "--live-sched", flag, "--json", record, "--progress",
                    "off"});
    ASSERT_EQ(client.wait(30000), 0) << client.err();
    json r = read_json(record);
    EXPECT_EQ(r["status"], "complete") << r["reason"];
    EXPECT_EQ(r["config"]["live_sched"], flag);
    EXPECT_EQ(r["limits"]["sched_policy"], "batch");
    EXPECT_EQ(r["limits"]["live_sched_policy"], flag) << "read back from a worker at the live hold's end";
    for (const auto& w : worker_pids(server.pid()))
      EXPECT_EQ(kernel_sched_policy(w), policy) << flag << ": worker " << w;
    json after = json::parse(http_get_local(port[1], "/stats", 5000));
    EXPECT_EQ(after["workers_sched_policy"], flag);
    EXPECT_EQ(after["live_sched"], flag);
    server.signal(SIGTERM);
    ASSERT_EQ(server.wait(10000), 0) << server.err();
  }
}

// /stats' open_fds is the workers' real descriptor count (it was connections + listeners + 5, a guess).
TEST_F(Engine, OpenFdsIsWhatTheWorkersHold) {
  PortBlock port(4);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0) + "-" + port.str(2), "--expect", "300", "--workers",
                  "2", "--admin", "127.0.0.1:" + port.str(3), "--duration", "30s"});
  ASSERT_NE(http_get_local(port[3], "/stats", 5000), "") << server.err();
  Process client({"client", "--target", "127.0.0.1:" + port.str(0) + "-" + port.str(2), "-n", "300", "--hold", "20s",
                  "--progress", "off"});
  json stats;
  for (int i = 0; i < 100; ++i) {  // until the server holds all 300 and has reported them (twice a second)
    stats = json::parse(http_get_local(port[3], "/stats", 2000), nullptr, false);
    if (stats.is_object() && stats["connections"] == 300) break;
    usleep(100000);
  }
  ASSERT_EQ(stats["connections"], 300) << server.err();
  usleep(1200000);  // a report after the last accept
  stats = json::parse(http_get_local(port[3], "/stats", 2000));
  size_t real = 0;
  for (const auto& w : worker_pids(server.pid())) real += fds_of(w);
  EXPECT_EQ(stats["open_fds"].get<size_t>(), real);
  client.signal(SIGTERM);
  client.wait(10000);
}

TEST_F(Engine, ArticleApproachesAreNamedFromTheLayout) {
  PortBlock port(20);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0) + "-" + port.str(19), "--expect", "2k", "--workers",
                  "2", "--duration", "30s"});
  usleep(300000);
  Process a1({"client", "--target", "127.0.0.1:" + port.str(0), "--source", "127.0.0.2-127.0.0.21", "-n", "1000",
              "--hold", "0", "--json", record, "--progress", "off"});
  ASSERT_EQ(a1.wait(30000), 0) << a1.err();
  EXPECT_EQ(read_json(record)["approach"], "multi-ip");
  Process a2({"client", "--target", "127.0.0.1:" + port.str(0) + "-" + port.str(19), "--source", "127.0.0.2", "-n",
              "1000", "--hold", "0", "--json", record, "--progress", "off"});
  ASSERT_EQ(a2.wait(30000), 0) << a2.err();
  EXPECT_EQ(read_json(record)["approach"], "multi-port");
}

TEST_F(Engine, ServerSurvivesEmfileAndKeepsServing) {
  PortBlock port(2);
  // 200 files, but told to hold up to 1000: it runs out of descriptors for real.
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--workers", "1", "--max-per-worker", "1000",
                  "--admin", "127.0.0.1:" + port.str(1), "--duration", "60s"},
                 200);
  ASSERT_NE(http_get_local(port[1], "/stats", 5000), "") << server.err();
  Process flood({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "400", "--workers", "1", "--hold", "2s",
                 "--ping-interval", "200ms", "--server-stats", "127.0.0.1:" + port.str(1), "--connect-timeout", "3s",
                 "--json", record, "--progress", "off"});
  EXPECT_EQ(flood.wait(30000), 1) << flood.err();  // not everything got in: a failed run, said so
  json r = read_json(record);
  EXPECT_EQ(r["status"], "failed");
  int64_t held = r["results"]["established_peak_server"].get<int64_t>();
  EXPECT_GT(held, 100);
  EXPECT_LT(held, 200);
  // Turned away promptly (reset or closed), not left to time out.
  EXPECT_EQ(r["results"]["errors"]["etimedout"], 0) << r["reason"];
  EXPECT_GT(r["results"]["errors"]["econnreset"].get<int>() + r["results"]["errors"]["peer_closed"].get<int>(), 0);
  EXPECT_GT(r["results"]["pongs_received"].get<int>(), 0);  // the held ones were served all along

  ASSERT_TRUE(server.running()) << server.err();
  json stats = json::parse(http_get_local(port[1], "/stats", 2000));
  EXPECT_GT(stats["errors"]["emfile_enfile"].get<int>(), 0);
  // Once the flood has gone, a new client gets every connection: the server did not wedge.
  Process after({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "100", "--workers", "1", "--hold", "500ms",
                 "--json", record, "--progress", "off"});
  EXPECT_EQ(after.wait(30000), 0) << after.err();
  EXPECT_EQ(read_json(record)["results"]["established_peak_client"], 100);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(10000), 0);
}

// An HTTP port out of file descriptors: the service says so a bounded number of times (it once spun
// on accept() and wrote millions of lines), and answers again once files free up. `service` runs
// with an open-files limit of 64 and serves GET `path` on `port`.
void expect_out_of_files_bounded_then_recovered(Process& service, uint16_t port, const std::string& path) {
  ASSERT_NE(http_get_local(port, path, 5000), "") << service.err();
  std::vector<int> held;
  for (int i = 0; i < 120; ++i)  // idle connections, past the process's 64 files
    if (int fd = connect_local(port); fd >= 0) held.push_back(fd);
  usleep(2000000);
  std::string err = service.err();
  size_t lines = std::count(err.begin(), err.end(), '\n');
  EXPECT_LT(lines, 20u) << err.substr(0, 2000);
  EXPECT_NE(err.find("HTTP accept failed (Too many open files)"), std::string::npos) << err.substr(0, 2000);
  for (int fd : held) close(fd);
  EXPECT_NE(http_get_local(port, path, 5000), "") << "the port did not recover";
  EXPECT_TRUE(service.running());
}

TEST_F(Engine, AdminPortOutOfFilesLogsBoundedAndRecovers) {
  PortBlock port(2);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--workers", "1", "--expect", "10", "--admin",
                  "127.0.0.1:" + port.str(1), "--duration", "60s"},
                 64);
  expect_out_of_files_bounded_then_recovered(server, port[1], "/stats");
}

TEST_F(Engine, CollectorPortOutOfFilesLogsBoundedAndRecovers) {
  PortBlock port(1);
  Process collector({"collect", "--listen", "127.0.0.1:" + port.str(0), "--out", temp_dir()}, 64);
  expect_out_of_files_bounded_then_recovered(collector, port[0], "/health");
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(10000), 130) << collector.err();
}

TEST_F(Engine, SigintMidRampLeavesAnInterruptedRecord) {
  PortBlock port(1);
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "20k", "--workers", "2", "--duration", "60s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "--source", "127.0.0.2-127.0.0.21", "-n", "20k",
                  "--rate", "2k", "--workers", "2", "--json", record, "--progress", "off"});
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  client.signal(SIGINT);
  EXPECT_EQ(client.wait(10000), 130) << client.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "interrupted");
  EXPECT_NE(r["reason"].get<std::string>().find("SIGINT"), std::string::npos);
  uint64_t got = r["results"]["established_peak_client"].get<uint64_t>();
  EXPECT_GT(got, 1000u);
  EXPECT_LT(got, 20000u);
  EXPECT_TRUE(r["results"]["time_to_target_s"].is_null());
}

// The live hold: after the idle hold, every connection is pinged once an interval, each answering in
// every interval; the record counts it and gives each side's CPU for it, and the ramp's CPU as the
// floor probe measures its own.
TEST_F(Engine, ALiveHoldPingsEveryConnectionEveryIntervalAndSaysWhatItCost) {
  PortBlock port(2);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "4000", "--workers", "2", "--admin",
                  "127.0.0.1:" + port.str(1), "--duration", "60s"});
  ASSERT_NE(http_get_local(port[1], "/stats", 5000), "") << server.err();
  Process client({"client",
                  "--target",
                  "127.0.0.1:" + port.str(0),
                  "--source",
                  "127.0.0.2-127.0.0.5",
                  "-n",
                  "4000",
                  "--workers",
                  "2",
                  "--hold",
                  "1s",
                  "--live",
                  "3s",
                  "--ping-interval",
                  "1s",
                  "--server-stats",
                  "127.0.0.1:" + port.str(1),
                  "--json",
                  record,
                  "--progress",
                  "off"});
  ASSERT_EQ(client.wait(60000), 0) << client.err();
  json r = read_json(record);
  const json& x = r["results"];
  EXPECT_EQ(r["status"], "complete") << r["reason"];
  EXPECT_EQ(x["errors"]["no_answer"], 0);
  EXPECT_EQ(x["pings_late"], 0);
  // Three intervals of 4,000: each connection pinged and answered in each (the tick's pacing may
  // start a fourth round for a few before the end).
  EXPECT_GE(x["pongs_received"].get<uint64_t>(), 3 * 4000u - 100);
  EXPECT_LE(x["pings_sent"].get<uint64_t>(), 4 * 4000u);
  EXPECT_NEAR(x["live_hold_s"].get<double>(), 3.0, 0.3);
  EXPECT_NEAR(x["live_pings_per_s"].get<double>(), 4000.0, 800.0);
  EXPECT_GT(x["ping_rtt_ms"]["count"].get<uint64_t>(), 0u);
  // Second by second: every answer in exactly one point of the series, and only in the live hold's.
  uint64_t answers_by_second = 0, seconds_with_answers = 0;
  for (const json& p : r["series"])
    if (p.contains("ping_rtt_ms")) {
      answers_by_second += p["ping_rtt_ms"]["count"].get<uint64_t>();
      ++seconds_with_answers;
      EXPECT_GE(p["ping_rtt_ms"]["max"].get<double>(), p["ping_rtt_ms"]["p99"].get<double>());
    }
  // Each second's machine beside it: busy cores at most every CPU, steal apart.
  for (const json& p : r["series"]) {
    ASSERT_TRUE(p["machine_busy_cores"].is_number()) << p.dump();
    EXPECT_LE(p["machine_busy_cores"].get<double>(), r["host"]["cpus"].get<double>() + 0.01);
    EXPECT_GE(p["machine_steal_cores"].get<double>(), 0.0);
    // Whose CPU that second was: the client's processes' and the server's beside the machine's.
    ASSERT_TRUE(p["client_cores"].is_number()) << p.dump();
    EXPECT_GE(p["client_cores"].get<double>(), 0.0);
    EXPECT_LE(p["client_cores"].get<double>(), r["host"]["cpus"].get<double>() + 0.05);
  }
  uint64_t seconds_with_server_cores = 0;
  for (const json& p : r["series"]) seconds_with_server_cores += p.contains("server_cores") ? 1 : 0;
  EXPECT_GE(seconds_with_server_cores, 3u);
  EXPECT_EQ(answers_by_second, x["pongs_received"].get<uint64_t>());
  EXPECT_GE(seconds_with_answers, 3u);
  EXPECT_LE(seconds_with_answers, 5u);
  EXPECT_GE(x["live_cpu_cores_client"].get<double>(), 0.0);
  EXPECT_GE(x["live_cpu_cores_server"].get<double>(), 0.0);
  EXPECT_TRUE(x["live_cpu_cores_per_1k_pings_per_s_client"].is_number());
  // The machine over the live hold: busy cores, at most every CPU it has; steal apart.
  EXPECT_GT(x["live_cpu_machine_busy_cores"].get<double>(), 0.0);
  EXPECT_LE(x["live_cpu_machine_busy_cores"].get<double>(), r["host"]["cpus"].get<double>() + 0.01);
  EXPECT_GE(x["live_cpu_machine_steal_cores"].get<double>(), 0.0);
  // The ramp's CPU: the machine's busy seconds, per connection, and each side's own.
  EXPECT_GT(x["ramp_cpu_busy_s"].get<double>(), 0.0);
  EXPECT_GE(x["ramp_cpu_steal_s"].get<double>(), 0.0);
  EXPECT_NEAR(x["ramp_cpu_busy_us_per_connection"].get<double>(), x["ramp_cpu_busy_s"].get<double>() * 1e6 / 4000,
              1e-6);
  EXPECT_GE(x["ramp_cpu_client_s"].get<double>(), 0.0);
  EXPECT_TRUE(x["ramp_cpu_server_s"].is_number()) << r["server"].dump();
  // Each side's user-mode part, from /proc/PID/stat's utime: a part of the whole, never more.
  ASSERT_TRUE(x["ramp_cpu_client_user_s"].is_number()) << x.dump();
  EXPECT_LE(x["ramp_cpu_client_user_s"].get<double>(), x["ramp_cpu_client_s"].get<double>());
  ASSERT_TRUE(x["ramp_cpu_server_user_s"].is_number()) << r["server"].dump();
  EXPECT_LE(x["ramp_cpu_server_user_s"].get<double>(), x["ramp_cpu_server_s"].get<double>());
}

// A server that never echoes: every pinged connection is an error of its own class, and the run fails.
TEST_F(Engine, ALiveHoldNamesConnectionsThatNeverAnswer) {
  PortBlock port(1);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "500", "--workers", "1", "--no-echo",
                  "--duration", "60s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "500", "--workers", "1", "--hold", "1s",
                  "--live", "2s", "--ping-interval", "1s", "--json", record, "--progress", "off"});
  EXPECT_EQ(client.wait(60000), 1) << client.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["results"]["errors"]["no_answer"], 500);
  EXPECT_GT(r["results"]["pings_late"].get<uint64_t>(), 0u);  // the second interval found the first unanswered
  EXPECT_EQ(r["results"]["pongs_received"], 0);
}

// A peer of the test's own on 127.0.0.1:port, on a thread: it accepts `count` connections, then does
// `act` to each in turn. Its sockets time out after 10 s, so it ends even if the client never comes.
class RawPeer {
 public:
  RawPeer(uint16_t port, int count, std::function<void(int fd)> act) {
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval limit{10, 0};
    setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    listening_ = bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(ls, count) == 0;
    thread_ = std::thread([=] {
      std::vector<int> fds;
      for (int fd; static_cast<int>(fds.size()) < count && (fd = accept(ls, nullptr, nullptr)) >= 0;) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        fds.push_back(fd);
      }
      for (int fd : fds) act(fd);
      for (int fd : fds) close(fd);
      close(ls);
    });
  }
  ~RawPeer() { thread_.join(); }
  bool listening() const { return listening_; }

 private:
  bool listening_ = false;
  std::thread thread_;
};

// The client watches a connection edge-triggered: an echo and the hang-up that came with it are one
// report, and both must be read, the hang-up counted as the peer's close (not missed, nor later a reset).
TEST_F(Engine, AnEchoFollowedByAHangUpIsAnsweredThenClosedByThePeer) {
  PortBlock port(1);
  RawPeer peer(port[0], 50, [](int fd) {
    char frame[16];
    if (recv(fd, frame, sizeof frame, MSG_WAITALL) == sizeof frame) send(fd, frame, sizeof frame, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);  // the FIN straight after the echo
  });
  ASSERT_TRUE(peer.listening());
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "50", "--workers", "1", "--hold", "1s",
                  "--live", "3s", "--ping-interval", "1s", "--json", record, "--progress", "off"});
  EXPECT_EQ(client.wait(30000), 1) << client.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["results"]["established_peak_client"], 50);
  EXPECT_EQ(r["results"]["pongs_received"], 50);
  EXPECT_EQ(r["results"]["errors"]["peer_closed"], 50) << r["results"]["errors"].dump();
  EXPECT_EQ(r["results"]["errors"]["econnreset"], 0) << r["results"]["errors"].dump();
}

// A peer that speaks before it is pinged sends what no ping asked for: a bad echo, whether its bytes
// came with the connect's report or after it.
TEST_F(Engine, APeerThatSpeaksFirstIsABadEcho) {
  PortBlock port(1);
  RawPeer peer(port[0], 50, [](int fd) { send(fd, "hello, client!!!", 16, MSG_NOSIGNAL); });
  ASSERT_TRUE(peer.listening());
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "50", "--workers", "1", "--hold", "2s",
                  "--json", record, "--progress", "off"});
  EXPECT_EQ(client.wait(30000), 1) << client.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["results"]["errors"]["bad_echo"], 50) << r["results"]["errors"].dump();
}

// --start-delay (the lab's window to set each container's namespace up): a SIGTERM in it still leaves a record.
TEST_F(Engine, ASigtermDuringTheStartDelayLeavesAnInterruptedRecord) {
  PortBlock port(1);
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "10", "--start-delay", "30s", "--json",
                  record, "--progress", "off"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  client.signal(SIGTERM);
  EXPECT_EQ(client.wait(5000), 130) << client.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "interrupted");
  EXPECT_NE(r["reason"].get<std::string>().find("start delay"), std::string::npos);
  EXPECT_EQ(r["results"]["attempted"], 0);
}

// The lab's start line: the ramp waits for --start-file, and the run's clock starts when it comes.
TEST_F(Engine, TheRampWaitsForTheStartFile) {
  PortBlock port(1);
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "200", "--workers", "1", "--duration", "30s"});
  usleep(300000);
  std::string go = record + ".go";
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "200", "--hold", "0", "--start-file", go,
                  "--json", record, "--progress", "off"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(std::filesystem::exists(record)) << "the client ran before its start file";
  auto created = std::chrono::steady_clock::now();
  std::ofstream(go).put('\n');
  ASSERT_EQ(client.wait(30000), 0) << client.err();
  std::chrono::duration<double> since_created = std::chrono::steady_clock::now() - created;
  json r = read_json(record);
  EXPECT_EQ(r["status"], "complete") << r["reason"];
  EXPECT_EQ(r["results"]["established_peak_client"], 200);
  // The run began at the start file, not with the process 1.5 s before it.
  EXPECT_LE(r["duration_s"].get<double>(), since_created.count() + 0.05);
  EXPECT_EQ(r["config"]["start_file"], go);
  std::filesystem::remove(go);

  // Stopped while it waits: an interrupted record that says so, nothing attempted.
  Process waiting({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "10", "--start-file", go, "--json", record,
                   "--progress", "off"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  waiting.signal(SIGTERM);
  EXPECT_EQ(waiting.wait(5000), 130) << waiting.err();
  r = read_json(record);
  EXPECT_EQ(r["status"], "interrupted");
  EXPECT_NE(r["reason"].get<std::string>().find("start file"), std::string::npos) << r["reason"];
  EXPECT_EQ(r["results"]["attempted"], 0);
}

TEST_F(Engine, RateIsHonoured) {
  PortBlock port(1);
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "3k", "--workers", "1", "--duration", "30s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "3000", "--rate", "1k", "--workers", "2",
                  "--hold", "0", "--json", record, "--progress", "off"});
  ASSERT_EQ(client.wait(30000), 0) << client.err();
  double t = read_json(record)["results"]["time_to_target_s"].get<double>();
  EXPECT_GT(t, 2.5);  // 3,000 at 1,000/s
  EXPECT_LT(t, 6.0);
}

// Sockets in TIME_WAIT (state 06 in /proc/net/tcp) whose remote port is `port`.
int time_wait_sockets_to(int port) {
  std::istringstream table(read_file("/proc/net/tcp"));
  std::string line;
  std::getline(table, line);  // header
  int n = 0;
  char remote_port[8];
  std::snprintf(remote_port, sizeof remote_port, ":%04X", port);
  while (std::getline(table, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state;
    f >> slot >> local >> remote >> state;
    if (state == "06" && remote.size() > 5 && remote.substr(remote.size() - 5) == remote_port) ++n;
  }
  return n;
}

// The client ends its connections with RST, so a run leaves no TIME_WAIT (nor conntrack entries
// for 120 s) to burden the next one; the server sees every one of them reset.
TEST_F(Engine, ClientEndsEveryConnectionWithReset) {
  PortBlock port(1);
  int earlier = time_wait_sockets_to(port[0]);  // none expected on a port of its own; counted anyway
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "20k", "--workers", "2", "--duration", "30s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "--source", "127.0.0.50", "-n", "20k", "--workers",
                  "2", "--hold", "0", "--progress", "off"});
  ASSERT_EQ(client.wait(30000), 0) << client.err();
  EXPECT_LE(time_wait_sockets_to(port[0]), earlier);
  usleep(300000);
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait(10000), 0) << server.err();
  json final_stats = json::parse(server.out());
  EXPECT_EQ(final_stats["reset_by_peer"], 20000) << final_stats.dump();
  EXPECT_EQ(final_stats["closed_by_peer"], 0);
}

// A server stopped mid-ramp (SIGSTOP): the kernel still completes handshakes into its listen
// queues, so the client's side reaches its target; the server's own count does not, and the
// record says the server fell short instead of "complete".
TEST_F(Engine, AServerStoppedMidRampIsAShortfallNotComplete) {
  PortBlock port(2);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "3k", "--workers", "1", "--admin",
                  "127.0.0.1:" + port.str(1), "--duration", "60s"});
  ASSERT_NE(http_get_local(port[1], "/stats", 5000), "") << server.err();
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "3000", "--rate", "3k", "--hold", "2s",
                  "--server-stats", "127.0.0.1:" + port.str(1), "--json", record, "--progress", "off"});
  usleep(400000);
  server.signal(SIGSTOP);
  int rc = client.wait(60000);
  server.signal(SIGCONT);
  EXPECT_EQ(rc, 1) << client.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "failed");
  EXPECT_NE(r["reason"].get<std::string>().find("the server's own count never reached this client's 3,000"),
            std::string::npos)
      << r["reason"];
}

// A server worker killed (-9) took its connections with it: /stats stops counting them and says
// which worker went with how many (it counted them on as held before).
TEST_F(Engine, AKilledServerWorkerIsCountedNotStillHeld) {
  PortBlock port(2);
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "2k", "--workers", "2", "--spread",
                  "hash", "--admin", "127.0.0.1:" + port.str(1), "--duration", "60s"});
  ASSERT_NE(http_get_local(port[1], "/stats", 5000), "") << server.err();
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "--source", "127.0.0.2-127.0.0.5", "-n", "2000",
                  "--hold", "30s", "--progress", "off"});
  json stats;
  for (int i = 0; i < 100 && !(stats.is_object() && stats["connections"] == 2000); ++i) {
    usleep(100000);
    stats = json::parse(http_get_local(port[1], "/stats", 2000), nullptr, false);
  }
  ASSERT_EQ(stats["connections"], 2000) << server.err();
  std::vector<std::string> workers = worker_pids(server.pid());
  ASSERT_EQ(workers.size(), 2u);
  kill(std::stoi(workers[0]), SIGKILL);
  for (int i = 0; i < 30 && stats["workers_lost"].empty(); ++i) {
    usleep(100000);
    stats = json::parse(http_get_local(port[1], "/stats", 2000));
  }
  ASSERT_EQ(stats["workers_lost"].size(), 1u) << stats.dump();
  uint64_t lost = stats["workers_lost"][0]["connections_lost"].get<uint64_t>();
  EXPECT_GT(lost, 0u);
  EXPECT_EQ(stats["connections"].get<uint64_t>() + lost, 2000u);
  EXPECT_EQ(stats["workers_alive"], 1);
  client.signal(SIGTERM);
  client.wait(10000);
}

TEST_F(Engine, RefusingTargetGivesCountedErrorsAndARecord) {
  PortBlock port(1);
  // From 127.0.0.1 itself: a planned source port is now and then the target's own (ConnectPlan::is_target_itself).
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "500", "--workers", "2", "--json", record,
                  "--progress", "off"});
  EXPECT_EQ(client.wait(30000), 1) << client.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["results"]["errors"]["econnrefused"], 500);
  EXPECT_NE(r["reason"].get<std::string>().find("500 econnrefused"), std::string::npos);
}

TEST_F(Engine, VanishingServerIsCountedNotAHang) {
  PortBlock port(1);
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "2k", "--workers", "2", "--duration", "60s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "2000", "--hold", "5s", "--json", record,
                  "--progress", "off"});
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  server.signal(SIGKILL);  // the parent dies; its workers follow it (PDEATHSIG)
  EXPECT_EQ(client.wait(20000), 1) << client.err();
  json r = read_json(record);
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["results"]["established_peak_client"], 2000);
  EXPECT_EQ(r["results"]["errors"]["peer_closed"].get<int>() + r["results"]["errors"]["econnreset"].get<int>(), 2000);
}

// Bad input: one line naming the flag, the value and what is wrong; exit 2; nothing started.
struct BadInput {
  std::vector<std::string> args;
  std::string says;
};

void PrintTo(const BadInput& b, std::ostream* os) {
  for (const auto& a : b.args) *os << a << ' ';
}

class BadFlags : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadFlags, OneLineExitTwo) {
  Process p(GetParam().args);
  EXPECT_EQ(p.wait(10000), 2) << p.err();
  std::string err = p.err();
  EXPECT_NE(err.find(GetParam().says), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

INSTANTIATE_TEST_SUITE_P(
    Engine, BadFlags,
    ::testing::Values(
        BadInput{{"client", "--target", "8.8.8.8:53"}, "--target 8.8.8.8:53: not loopback"},
        BadInput{{"client", "--target", "127.0.0.1:9000-8000"}, "is reversed"},
        BadInput{{"client", "--target", "127.0.0.1:70000"}, "outside 1-65535"},
        BadInput{{"client", "--target", "local host:9000"}, "not a numeric IPv4 address"},
        // A name resolves (localhost, from /etc/hosts: no lookup leaves the machine) and the run goes on to
        // the next check; the guard on what a name resolves to is ClientConfig's unit test.
        BadInput{{"client", "--target", "localhost:9000", "--source", "198.18.0.9"},
                 "--source 198.18.0.9: cannot bind"},
        BadInput{{"client", "--source", "127.0.0.21-127.0.0.2"}, "--source '127.0.0.21-127.0.0.2'"},
        BadInput{{"client", "--source", "192.0.2.1"}, "--source 192.0.2.1: cannot bind"},
        BadInput{{"client", "--rate", "5x"}, "--rate '5x': unknown suffix"},
        BadInput{{"client", "--connections", "0"}, "--connections must be at least 1"},
        BadInput{{"client", "--connections", "lots"}, "--connections 'lots'"},
        BadInput{{"client", "--hold", "3q"}, "--hold '3q': unknown unit"},
        BadInput{{"client", "--ping-interval", "1ms"}, "--ping-interval '1ms'"},
        BadInput{{"client", "--json", "/nonexistent/dir/r.json"}, "--json /nonexistent/dir/r.json: directory"},
        BadInput{{"client", "--target", "127.0.0.1:9000", "--source", "127.0.0.2", "-n", "2m"},
                 "source ports per pair"},
        BadInput{{"client", "--approach", "sideways"}, "--approach"}, BadInput{{"client", "--bogus"}, "--bogus"},
        BadInput{{"server", "--listen", "127.0.0.1:0"}, "--listen '127.0.0.1:0'"},
        BadInput{{"server", "--backlog", "-5"}, "--backlog"},
        BadInput{{"server", "--admin", "127.0.0.1:9100-9101"}, "expected one ADDRESS:PORT"},
        BadInput{{"server", "--spread", "random"}, "--spread"},
        BadInput{{"server", "--json", "/nonexistent/c1m/s.json"},
                 "--json /nonexistent/c1m/s.json: directory /nonexistent/c1m is not writable"},
        BadInput{{"server", "--expect", "1g"}, "workers"},
        BadInput{{"doctor", "--connections", "x"}, "--connections 'x'"}, BadInput{{"frobnicate"}, "frobnicate"}));

TEST(EngineListen, PortAlreadyTakenIsOneLineExitTwo) {
  PortBlock port(3);
  Process holder({"server", "--listen", "127.0.0.1:" + port.str(0), "--workers", "1", "--admin",
                  "127.0.0.1:" + port.str(1), "--duration", "20s"});
  ASSERT_NE(http_get_local(port[1], "/stats", 5000), "");
  Process clash({"server", "--listen", "127.0.0.1:" + port.str(2), "--workers", "1", "--admin",
                 "127.0.0.1:" + port.str(1), "--duration", "5s"});
  EXPECT_EQ(clash.wait(10000), 2) << clash.err();
  EXPECT_NE(clash.err().find("--admin cannot listen on 127.0.0.1:" + port.str(1)), std::string::npos) << clash.err();

  // A second server on a data port the first holds would join its SO_REUSEPORT group and take part
  // of its connections, both exiting 0: it refuses, unless asked to share.
  Process second({"server", "--listen", "127.0.0.1:" + port.str(0), "--workers", "1", "--duration", "5s"});
  EXPECT_EQ(second.wait(10000), 2) << second.err();
  EXPECT_NE(second.err().find("--listen 127.0.0.1:" + port.str(0) + ": another process already listens there"),
            std::string::npos)
      << second.err();
  Process sharing(
      {"server", "--listen", "127.0.0.1:" + port.str(0), "--workers", "1", "--duration", "1s", "--share-ports"});
  EXPECT_EQ(sharing.wait(10000), 0) << sharing.err();
}

}  // namespace
}  // namespace c1m::test
