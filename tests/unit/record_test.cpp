#include "core/record/record.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/host/atomic_file.hpp"
#include "core/host/host.hpp"

namespace c1m {
namespace {

ClientRun sample_run() {
  ClientRun run;
  run.run_id = "abc123";
  run.approach = "multi-ip";
  run.host = host_fingerprint();  // what the runner reads; build_client_record reads nothing
  run.sysctls = {{"namespaced", namespaced_sysctls()}, {"host", host_sysctls()}};
  run.started_unix_ms = 1'700'000'000'000;
  run.ended_unix_ms = 1'700'000'042'500;
  run.config = {{"connections", 1000}};
  run.workers = 2;
  run.limits = {{"nofile_soft", 20000}, {"nofile_hard", 20000}};
  run.ramp_start_ns = 1'000'000'000;
  run.totals.quota = 1000;
  run.totals.connected_total = 1000;
  run.totals.established = 1000;
  run.totals.established_peak = 1000;
  run.totals.quota_reached_ns = 3'000'000'000;  // 2 s after the ramp started
  run.totals.settled_ns = 3'000'000'000;
  run.totals.rss_baseline_bytes = 1'000'000;
  run.totals.rss_at_peak_bytes = 1'100'000;
  run.established_peak = 1000;
  for (uint64_t v = 1; v <= 1000; ++v) run.histograms.connect_us.record(v * 10);
  run.kernel_before.slab_bytes = 100'000'000;
  run.kernel_before.sockstat = {{"TCP.alloc", 10}, {"TCP.inuse", 10}};
  run.kernel_before.tcpext = {{"ListenOverflows", 5}};
  run.kernel_at_peak.slab_bytes = 110'000'000;
  run.kernel_at_peak.sockstat = {{"TCP.alloc", 2010}, {"TCP.inuse", 2012}};
  run.kernel_at_peak.tcpext = {{"ListenOverflows", 5}};
  run.server_connections_peak = 1000;
  run.server_stats = ServerStats{};
  run.server_stats->user_bytes_per_connection = 12.5;
  return run;
}

}  // namespace

TEST(Record, HasTheKeysTheEngineIssuePromised) {
  ojson r = build_client_record(sample_run()).to_json();
  for (const char* p :
       {"/schema_version", "/status", "/reason", "/approach", "/config/connections", "/results/established_peak_client",
        "/results/established_peak_server", "/results/time_to_target_s", "/results/connect_rate_per_s",
        "/results/connect_latency_ms/p50", "/results/connect_latency_ms/p999", "/results/errors/eaddrnotavail",
        "/memory/kernel_bytes_per_socket", "/memory/user_bytes_per_connection_client",
        "/memory/user_bytes_per_connection_server", "/host/kernel", "/host/cpus", "/host/mem_total_bytes",
        "/limits/nofile_hard"})
    EXPECT_TRUE(r.contains(ojson::json_pointer(p))) << p;
  EXPECT_EQ(r["schema_version"], kSchemaVersion);
  EXPECT_EQ(r["status"], "complete");
  EXPECT_TRUE(r["reason"].is_null());
}

TEST(Record, FiguresComeFromTheCounters) {
  ojson r = build_client_record(sample_run()).to_json();
  EXPECT_DOUBLE_EQ(r["results"]["time_to_target_s"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(r["results"]["connect_rate_per_s"].get<double>(), 500.0);
  EXPECT_NEAR(r["results"]["connect_latency_ms"]["p50"].get<double>(), 5.0, 0.1);
  EXPECT_DOUBLE_EQ(r["memory"]["kernel_bytes_per_socket"].get<double>(), 5000.0);  // 10 MB over 2000 sockets
  EXPECT_DOUBLE_EQ(r["memory"]["user_bytes_per_connection_client"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(r["memory"]["user_bytes_per_connection_server"].get<double>(), 12.5);
  EXPECT_EQ(r["results"]["kernel_tcp_inuse_delta"], 2002);
  EXPECT_EQ(r["results"]["tcpext_delta"]["ListenOverflows"], 0);
  EXPECT_DOUBLE_EQ(r["duration_s"].get<double>(), 42.5);
  EXPECT_EQ(r["started_at"], "2023-11-14T22:13:20.000Z");
}

TEST(Record, NeverReachedIsNullNotZero) {
  ClientRun run = sample_run();
  run.totals.quota_reached_ns = -1;
  run.status = "failed";
  run.reason = "900 of 1000 established";
  ojson r = build_client_record(run).to_json();
  EXPECT_TRUE(r["results"]["time_to_target_s"].is_null());
  EXPECT_EQ(r["reason"], "900 of 1000 established");
  run.kernel_at_peak.sockstat["TCP.alloc"] = 10;  // no sockets grew: no per-socket figure
  EXPECT_TRUE(build_client_record(run).to_json()["memory"]["kernel_bytes_per_socket"].is_null());
  // Nor from a handful: Slab's own movement over six sockets is not what a socket costs.
  run.kernel_at_peak.sockstat["TCP.alloc"] = run.kernel_before.sockstat["TCP.alloc"] + 6;
  EXPECT_TRUE(build_client_record(run).to_json()["memory"]["kernel_bytes_per_socket"].is_null());
}

TEST(AtomicFile, WritesWholeAndLeavesNoTemp) {
  auto dir = std::filesystem::temp_directory_path() / ("c1m-atomic-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "r.json").string();
  EXPECT_EQ(write_file_atomically(path, "first\n"), "");
  EXPECT_EQ(write_file_atomically(path, "second\n"), "");
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "second\n");
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) (void)e, ++files;
  EXPECT_EQ(files, 1u);
  EXPECT_NE(write_file_atomically((dir / "missing" / "r.json").string(), "x").find("cannot create"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(RunId, SixteenHexDigitsAndDifferent) {
  std::string a = new_run_id(), b = new_run_id();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace c1m
