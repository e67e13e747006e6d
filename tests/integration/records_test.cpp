// The record tools as users run them: c1m compare, plot, collect, and client --repeat.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "net/http/http_client.hpp"
#include "process.hpp"

namespace c1m::test {
namespace {

using json = nlohmann::json;
const std::string kRecords = std::string(C1M_RECORDS) + "/";  // tests/fixtures/records/, made whole

int run(std::vector<std::string> args, std::string* out = nullptr, std::string* err = nullptr) {
  Process p(std::move(args));
  int rc = p.wait(30000);
  if (out) *out = p.out();
  if (err) *err = p.err();
  return rc;
}

TEST(CompareCli, ExitCodesForCi) {
  std::string out;
  EXPECT_EQ(run({"compare", kRecords + "base.json", kRecords + "same.json"}, &out), 0) << out;
  EXPECT_NE(out.find("verdict: no regression"), std::string::npos);
  EXPECT_EQ(run({"compare", kRecords + "base.json", kRecords + "regressed.json"}, &out), 1) << out;
  EXPECT_NE(out.find("time_to_target_s"), std::string::npos);
  EXPECT_NE(out.find("REGRESSION"), std::string::npos);
  EXPECT_EQ(run({"compare", kRecords + "base.json", kRecords + "improved.json"}, &out), 0) << out;
  EXPECT_EQ(run({"compare", "--threshold", "60%", kRecords + "base.json", kRecords + "regressed.json"}, &out), 0)
      << out;
  EXPECT_EQ(run({"compare", "--metric-threshold", "time_to_target_s=60%", "--metric-threshold",
                 "connect_rate_per_s=60%", kRecords + "base.json", kRecords + "regressed.json"},
                &out),
            0)
      << out;
  // Different experiments: said, exit 2, never a regression.
  std::string other = temp_dir() + "/other.json";
  json smaller = json::parse(read_file(kRecords + "regressed.json"));
  smaller["config"]["connections"] = 20000;
  std::ofstream(other) << smaller.dump();
  std::string err;
  EXPECT_EQ(run({"compare", kRecords + "base.json", other}, &out, &err), 2) << out;
  EXPECT_NE(err.find("not comparable: config.connections: 1000000 -> 20000"), std::string::npos) << err;
  EXPECT_EQ(out.find("REGRESSION"), std::string::npos) << out;
  // Several NEW records: each against BASE; one regression fails the whole call.
  EXPECT_EQ(run({"compare", kRecords + "base.json", kRecords + "improved.json", kRecords + "regressed.json"}, &out), 1);
}

TEST(CompareCli, DifferentHostsPrintTheirDifferencesFirst) {
  std::string out;
  EXPECT_EQ(run({"compare", kRecords + "base.json", kRecords + "other_host.json"}, &out), 0) << out;
  size_t diff = out.find("host.kernel: 6.18.44-fc-v669 -> 6.1.0-28-amd64"), table = out.find("metric ");
  ASSERT_NE(diff, std::string::npos) << out;
  EXPECT_LT(diff, table);
}

TEST(CompareCli, MarkdownJsonAndBenchmarkActionExport) {
  std::string out, err;
  EXPECT_EQ(run({"compare", "--format", "md", kRecords + "base.json", kRecords + "regressed.json"}, &out), 1);
  EXPECT_NE(out.find("| time_to_target_s |"), std::string::npos) << out;
  EXPECT_EQ(run({"compare", "--format", "json", kRecords + "base.json", kRecords + "regressed.json"}, &out), 1);
  json j = json::parse(out);
  EXPECT_TRUE(j["regressed"].get<bool>());
  std::string dir = temp_dir();
  EXPECT_EQ(run({"compare", "--export", "benchmark-action", "--export-dir", dir, kRecords + "base.json",
                 kRecords + "same.json"},
                &out, &err),
            0)
      << err;
  json big = json::parse(read_file(dir + "/benchmark-bigger-is-better.json"));
  json small = json::parse(read_file(dir + "/benchmark-smaller-is-better.json"));
  EXPECT_FALSE(big.empty());
  EXPECT_FALSE(small.empty());
  EXPECT_TRUE(big[0].contains("name") && big[0].contains("unit") && big[0].contains("value"));
}

struct BadRecord {
  std::string file;
  std::string says;
};

class CompareBadRecord : public ::testing::TestWithParam<BadRecord> {};

void PrintTo(const BadRecord& b, std::ostream* os) { *os << b.file; }

TEST_P(CompareBadRecord, OneLineExitTwo) {
  std::string err;
  std::string path = GetParam().file.empty() ? kRecords : kRecords + GetParam().file;
  EXPECT_EQ(run({"compare", kRecords + "base.json", path}, nullptr, &err), 2) << err;
  EXPECT_NE(err.find(GetParam().says), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

INSTANTIATE_TEST_SUITE_P(
    Records, CompareBadRecord,
    ::testing::Values(BadRecord{"malformed.json", "malformed.json: not valid JSON"},
                      BadRecord{"empty.json", "empty.json: empty file"},
                      BadRecord{"not_object.json", "/: expected an object"},
                      BadRecord{"wrong_type.json",
                                "wrong_type.json: /results/time_to_target_s: expected seconds from 0 to a year"},
                      BadRecord{"missing_field.json", "/results/established_peak_client: missing"},
                      BadRecord{"unknown_schema.json", "/schema_version: 99 is not a version"},
                      BadRecord{"", "is a directory"}, BadRecord{"nope.json", "nope.json: cannot read it"}));

TEST(CompareCli, TooLargeFileRefusedBeforeParsing) {
  std::string path = temp_dir() + "/huge.json";
  std::ofstream(path).put('{');
  std::filesystem::resize_file(path, 65 * 1024 * 1024);  // sparse: no real I/O
  std::string err;
  EXPECT_EQ(run({"compare", kRecords + "base.json", path}, nullptr, &err), 2);
  EXPECT_NE(err.find("larger than any record"), std::string::npos) << err;
}

// A valid record of 1.5M series points (61 MB) once took plot 4.7 GB and 13.5 s, and compare and
// plot died with an uncaught bad_alloc under a 4 GB limit: it is refused before parsing, in seconds.
TEST(CompareCli, ARecordOfMillionsOfValuesIsRefusedBeforeParsing) {
  json r = json::parse(read_file(kRecords + "base.json"));
  std::string text = r.dump();
  std::string points;
  points.reserve(40u << 20);
  for (int i = 0; i < 1'500'000; ++i)
    points += (i ? ",{\"t_s\":" : "{\"t_s\":") + std::to_string(i) + ",\"established\":1,\"errors\":0}";
  size_t at = text.find("\"series\":[") + 10;
  text.insert(at, points + ",");
  std::string path = temp_dir() + "/long.json";
  std::ofstream(path) << text;
  for (const char* cmd : {"compare", "plot"}) {
    std::string err;
    auto start = std::chrono::steady_clock::now();
    std::vector<std::string> args = {cmd, kRecords + "base.json", path};
    if (std::string(cmd) == "plot") args.insert(args.end(), {"-o", temp_dir() + "/x.svg"});
    EXPECT_EQ(run(args, nullptr, &err), 2) << cmd << ": " << err;
    EXPECT_NE(err.find("values, more than any record c1m writes"), std::string::npos) << err;
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0) << cmd;
  }
}

#if !defined(__SANITIZE_ADDRESS__)  // ASan reserves terabytes of address space: no ulimit -v under it
// What passes every cap and still does not fit a memory limit: one line and exit 2, not an abort.
TEST(CompareCli, OutOfMemoryIsOneLineAndExitTwo) {
  json r = json::parse(read_file(kRecords + "base.json"));
  r["series"] = json::array();
  for (int i = 0; i < 400'000; ++i) r["series"].push_back({{"t_s", i}, {"established", 1}, {"errors", 0}});
  std::string dir = temp_dir(), path = dir + "/long.json";
  std::ofstream(path) << r.dump();  // 1.6M values: within the cap, about 1.25 GB parsed
  std::string cmd = "ulimit -v 500000; exec " + std::string(C1M_BINARY) + " compare " + kRecords + "base.json " + path +
                    " 2>" + dir + "/err >/dev/null";
  int rc = std::system(("bash -c '" + cmd + "'").c_str());
  std::string err = read_file(dir + "/err");
  ASSERT_TRUE(WIFEXITED(rc)) << err;
  EXPECT_EQ(WEXITSTATUS(rc), 2) << err;
  EXPECT_NE(err.find("out of memory"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}
#endif

// make ci-bench's runs of one approach as one record of repetitions, which compare reads as samples.
TEST(CollectCli, RunsOfOneExperimentBecomeOneRecordOfRepetitions) {
  std::string out = temp_dir() + "/reps.json", err;
  EXPECT_EQ(run({"collect", "--repetitions", kRecords + "base.json", kRecords + "same.json", kRecords + "improved.json",
                 "--output", out},
                nullptr, &err),
            0)
      << err;
  json r = json::parse(read_file(out));
  ASSERT_EQ(r["repetitions"].size(), 3u);
  EXPECT_EQ(r["config"]["repeat"], 3);
  EXPECT_TRUE(r["repetitions"][2]["time_to_target_s"].is_number());
  EXPECT_EQ(run({"collect", "--repetitions", kRecords + "base.json"}, nullptr, &err), 2);
  EXPECT_NE(err.find("--repetitions needs --output"), std::string::npos) << err;
  EXPECT_EQ(run({"collect", "--repetitions", kRecords + "malformed.json", "--output", out}, nullptr, &err), 2);
  EXPECT_NE(err.find("malformed.json: not valid JSON"), std::string::npos) << err;
}

TEST(PlotCli, WritesAnSvg) {
  std::string svg = temp_dir() + "/two.svg", err;
  EXPECT_EQ(run({"plot", kRecords + "base.json", kRecords + "improved.json", "-o", svg}, nullptr, &err), 0) << err;
  std::string s = read_file(svg);
  EXPECT_NE(s.find("data-series=\"ramp:base\""), std::string::npos);
  EXPECT_NE(s.find("data-series=\"latency:improved\""), std::string::npos);
  EXPECT_EQ(run({"plot", kRecords + "base.json", "-o", "/tmp/x.png"}, nullptr, &err), 2);
  EXPECT_NE(err.find("ending in .svg"), std::string::npos);
}

TEST(CollectCli, MergesAndNamesTheMissing) {
  std::string dir = temp_dir(), out_dir = temp_dir(), out, err;
  std::filesystem::copy_file(kRecords + "base.json", dir + "/client-a.json");
  std::filesystem::copy_file(kRecords + "improved.json", dir + "/client-b.json");
  EXPECT_EQ(run({"collect", "--dir", dir, "--out", out_dir, "--expect-names", "a,b,c"}, &out, &err), 1) << err;
  EXPECT_NE(out.find("c: never reported"), std::string::npos) << out;
  size_t records = 0;
  std::string written;
  for (auto& e : std::filesystem::directory_iterator(out_dir))
    if (e.path().filename().string()[0] != '.') ++records, written = e.path();  // .runs: the store's index
  ASSERT_EQ(records, 1u);  // one record, and no temp file left beside it
  json r = json::parse(read_file(written));
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["results"]["established_peak_client"], 2000000);
  EXPECT_EQ(r["participants"].size(), 3u);
}

TEST(ClientRepeat, KeepsEveryRepetition) {
  PortBlock port(1);
  std::string record = temp_dir() + "/r.json";
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "1k", "--workers", "1", "--duration", "40s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "500", "--hold", "0", "--repeat", "3",
                  "--json", record, "--progress", "off"});
  ASSERT_EQ(client.wait(60000), 0) << client.err();
  json r = json::parse(read_file(record));
  EXPECT_EQ(r["status"], "complete");
  EXPECT_EQ(r["config"]["repeat"], 3);
  ASSERT_EQ(r["repetitions"].size(), 3u);
  for (const auto& rep : r["repetitions"]) {
    EXPECT_EQ(rep["established_peak_client"], 500);
    EXPECT_TRUE(rep["time_to_target_s"].is_number());
  }
}

}  // namespace
}  // namespace c1m::test

namespace c1m::test {
namespace {

// The collector over the network: clients push, one record comes out.
class Collector : public ::testing::Test {
 protected:
  std::string out_dir = temp_dir();
  std::string only_record() {
    std::vector<std::string> files;
    for (auto& e : std::filesystem::directory_iterator(out_dir))
      if (e.path().filename().string()[0] != '.') files.push_back(e.path());  // .runs: the store's index
    EXPECT_EQ(files.size(), 1u) << "one record, and no temp file beside it";
    return files.empty() ? "" : read_file(files[0]);
  }
};

TEST_F(Collector, TwoClientsPushOneRecord) {
  PortBlock port(11);
  Process collector({"collect", "--listen", "127.0.0.1:" + port.str(10), "--expect-count", "2", "--out", out_dir,
                     "--deadline", "60s", "--approach", "multi-ip"});
  ASSERT_NE(http_get_local(port[10], "/status", 5000), "") << collector.err();
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "2k", "--workers", "2", "--admin",
                  "127.0.0.1:" + port.str(1), "--duration", "60s"});
  ASSERT_NE(http_get_local(port[1], "/stats", 5000), "");
  std::vector<std::unique_ptr<Process>> clients;
  for (const char* src : {"127.0.0.2", "127.0.0.3"})
    clients.push_back(std::make_unique<Process>(
        std::vector<std::string>{"client", "--target", "127.0.0.1:" + port.str(0), "--source", src, "-n", "500",
                                 "--hold", "1s", "--server-stats", "127.0.0.1:" + port.str(1), "--report-to",
                                 "127.0.0.1:" + port.str(10), "--progress", "off"}));
  for (auto& c : clients) {
    EXPECT_EQ(c->wait(30000), 0) << c->err();
    // Every client, the last one too, had its record acknowledged before the collector stopped.
    EXPECT_EQ(c->err().find("POST /record"), std::string::npos) << c->err();
  }
  EXPECT_EQ(collector.wait(15000), 0) << collector.err();
  json r = json::parse(only_record());
  EXPECT_EQ(r["status"], "complete") << r["reason"];
  EXPECT_EQ(r["participants"].size(), 2u);
  EXPECT_EQ(r["results"]["established_peak_client"], 1000);
  EXPECT_EQ(r["results"]["established_peak_server"], 1000);
  EXPECT_EQ(r["config"]["connections"], 1000);
  EXPECT_EQ(r["approach"], "multi-ip");
  EXPECT_EQ(r["config"]["asked_connections"], 1000);  // nothing cut: what was asked is what ran
  EXPECT_TRUE(r["config"]["cut_by"].is_null());
}

// What one peer can hold of the collector is bounded: idle connections make room for a newcomer at
// --max-connections, connections in the middle of a request do not (the newcomer gets 503), and a
// request that trickles in is cut off at --request-timeout from its first byte (a timeout that
// restarts on every byte, as evhttp's did, never ends it).
TEST_F(Collector, BoundsConnectionsAndCutsOffASlowSender) {
  PortBlock port(1);
  Process collector({"collect", "--listen", "127.0.0.1:" + port.str(0), "--out", out_dir, "--max-connections", "4",
                     "--request-timeout", "2s"});
  ASSERT_NE(http_get_local(port[0], "/health", 5000), "") << collector.err();
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(connect_local(port[0]));
  usleep(200000);
  EXPECT_NE(http_get_local(port[0], "/health", 2000), "") << "four idle peers shut the collector out";
  for (int fd : idle) close(fd);
  std::vector<int> asking;
  for (int i = 0; i < 4; ++i) {
    asking.push_back(connect_local(port[0]));
    send(asking.back(), "GET /health HTTP/1.1\r\n", 22, MSG_NOSIGNAL);  // a head still on its way
  }
  usleep(200000);
  int fifth = connect_local(port[0]);
  ASSERT_GE(fifth, 0);
  std::string busy = read_until_closed(fifth, 3000);
  close(fifth);
  EXPECT_EQ(busy.rfind("HTTP/1.1 503", 0), 0u) << busy;
  EXPECT_NE(busy.find("4 connections already"), std::string::npos) << busy;
  for (int fd : asking) close(fd);
  EXPECT_NE(http_get_local(port[0], "/health", 5000), "") << "the collector did not serve again";

  int slow = connect_local(port[0]);
  ASSERT_GE(slow, 0);
  std::string head = "POST /hello HTTP/1.1\r\nContent-Length: 100\r\n\r\n{";
  send(slow, head.data(), head.size(), MSG_NOSIGNAL);
  auto start = std::chrono::steady_clock::now();
  std::string answer;
  for (int i = 0; i < 16 && answer.empty(); ++i) {  // a byte every 250 ms, for up to 4 s
    send(slow, " ", 1, MSG_NOSIGNAL);
    char buf[512];
    ssize_t n = recv(slow, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) answer.assign(buf, static_cast<size_t>(n));
    usleep(250000);
  }
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(slow);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_LT(waited, 3.5) << "cut off after " << waited << " s";
  EXPECT_TRUE(collector.running()) << collector.err();
  std::string err = collector.err();
  EXPECT_LT(std::count(err.begin(), err.end(), '\n'), 10) << err;  // refusals are said, not each one
}

// An --expect-count collector killed mid-run keeps what it took in a spool of its own: the next
// benchmark's collector does not merge it into its run, and a collector given that spool finishes it.
TEST_F(Collector, AKilledOneRunCollectorsRecordsAreKeptApartAndTakenUpOnRequest) {
  PortBlock port(2);
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "1k", "--workers", "1", "--duration", "60s"});
  auto client = [&](const char* source) {
    Process c({"client", "--target", "127.0.0.1:" + port.str(0), "--source", source, "-n", "100", "--hold", "0",
               "--report-to", "127.0.0.1:" + port.str(1), "--progress", "off"});
    EXPECT_EQ(c.wait(30000), 0) << c.err();
  };
  auto spools = [&] {
    std::vector<std::string> dirs;
    if (std::filesystem::exists(out_dir + "/.spool"))
      for (auto& e : std::filesystem::directory_iterator(out_dir + "/.spool")) dirs.push_back(e.path());
    return dirs;
  };
  {
    Process dead({"collect", "--listen", "127.0.0.1:" + port.str(1), "--expect-count", "2", "--out", out_dir});
    ASSERT_NE(http_get_local(port[1], "/health", 5000), "") << dead.err();
    client("127.0.0.2");
    dead.signal(SIGKILL);
    dead.wait(5000);
  }
  ASSERT_EQ(spools().size(), 1u);
  const std::string kept = spools()[0];
  {
    Process next({"collect", "--listen", "127.0.0.1:" + port.str(1), "--expect-count", "1", "--out", out_dir});
    ASSERT_NE(http_get_local(port[1], "/health", 5000), "") << next.err();
    client("127.0.0.3");
    EXPECT_EQ(next.wait(15000), 0) << next.err();
  }
  auto records = [&] {
    std::vector<std::string> files;
    for (auto& e : std::filesystem::directory_iterator(out_dir))
      if (e.path().extension() == ".json") files.push_back(e.path());
    return files;
  };
  ASSERT_EQ(records().size(), 1u);
  EXPECT_EQ(json::parse(read_file(records()[0]))["participants"].size(), 1u);  // its own client only
  EXPECT_EQ(spools(), std::vector<std::string>{kept});
  std::filesystem::remove(records()[0]);
  Process finish(
      {"collect", "--listen", "127.0.0.1:" + port.str(1), "--expect-count", "2", "--out", out_dir, "--spool", kept});
  ASSERT_NE(http_get_local(port[1], "/health", 5000), "") << finish.err();
  client("127.0.0.4");
  EXPECT_EQ(finish.wait(15000), 0) << finish.err();
  EXPECT_NE(finish.err().find("took up run default"), std::string::npos) << finish.err();
  ASSERT_EQ(records().size(), 1u);
  EXPECT_EQ(json::parse(read_file(records()[0]))["participants"].size(), 2u);  // the dead run's client, and this one
}

TEST_F(Collector, SigtermWritesAnInterruptedRecordWithinSeconds) {
  PortBlock port(1);
  Process collector(
      {"collect", "--listen", "127.0.0.1:" + port.str(0), "--expect-count", "3", "--out", out_dir, "--deadline", "5m"});
  ASSERT_NE(http_get_local(port[0], "/status", 5000), "") << collector.err();
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(5000), 130) << collector.err();
  json r = json::parse(only_record());
  EXPECT_EQ(r["status"], "interrupted");
  EXPECT_NE(r["reason"].get<std::string>().find("the collector got SIGTERM with 0 of 3 records"), std::string::npos)
      << r["reason"];
  EXPECT_EQ(r["participants"].size(), 3u);  // the three it never heard from, counted
}

TEST_F(Collector, AClientThatDiesMidRunIsNamed) {
  PortBlock port(2);
  Process collector(
      {"collect", "--listen", "127.0.0.1:" + port.str(0), "--expect-count", "1", "--out", out_dir, "--deadline", "4s"});
  ASSERT_NE(http_get_local(port[0], "/status", 5000), "") << collector.err();
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(1), "--expect", "1k", "--workers", "1", "--duration", "30s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(1), "-n", "500", "--hold", "60s", "--report-to",
                  "127.0.0.1:" + port.str(0), "--progress", "off"});
  usleep(1500000);
  client.signal(SIGKILL);  // dies without a record
  EXPECT_EQ(collector.wait(15000), 1) << collector.err();
  json r = json::parse(only_record());
  EXPECT_EQ(r["status"], "failed");
  std::string reason = r["reason"];
  EXPECT_NE(reason.find("deadline 4s passed with 0 of 1 records"), std::string::npos) << reason;
  EXPECT_NE(reason.find("said hello at"), std::string::npos) << reason;
  EXPECT_NE(reason.find("500 connections"), std::string::npos) << reason;
  EXPECT_NE(reason.find("then never sent a record"), std::string::npos) << reason;
}

TEST_F(Collector, RefusesBadRecordsWithTheReason) {
  PortBlock port(1);
  Process collector(
      {"collect", "--listen", "127.0.0.1:" + port.str(0), "--expect-count", "1", "--out", out_dir, "--deadline", "3s"});
  ASSERT_NE(http_get_local(port[0], "/status", 5000), "") << collector.err();
  // A record with a future schema is refused, with the reason, and the collector carries on.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port[0]);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string body = "{\"schema_version\": 99}";
  std::string req = "POST /record HTTP/1.0\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  send(fd, req.data(), req.size(), 0);
  std::string resp;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_NE(resp.find(" 400 "), std::string::npos) << resp;
  EXPECT_NE(resp.find("99 is not a version this build reads"), std::string::npos) << resp;
  EXPECT_EQ(collector.wait(15000), 1);  // the deadline passes with nothing valid
}

// The collector as the lab runs it: a service that lives across runs and writes one record per run
// id, the server's own report included; what is not a participant of a run gets a 4xx and harms nothing.
TEST_F(Collector, AServiceWritesOneRecordPerRunWithTheServersReport) {
  PortBlock port(3);
  Process collector({"collect", "--listen", "127.0.0.1:" + port.str(0), "--out", out_dir, "--deadline", "60s",
                     "--host-name", "the-lab-host"});
  ASSERT_NE(http_get_local(port[0], "/health", 5000), "") << collector.err();
  Process server({"server", "--listen", "127.0.0.1:" + port.str(1), "--expect", "2k", "--workers", "2", "--admin",
                  "127.0.0.1:" + port.str(2), "--duration", "60s", "--report-to", "127.0.0.1:" + port.str(0),
                  "--run-id", "lab-run-1"});
  ASSERT_NE(http_get_local(port[2], "/stats", 5000), "");
  // Bad posts while the run goes on: refused with the reason, never the collector's end.
  Endpoint at{Ipv4{0x7f000001}, port[0]};
  auto bad = net::http_post(at, "/record", R"({"participant": 5, "run": "lab-run-1"})", 5000);
  EXPECT_EQ(bad.status, 400) << bad.body;
  // A field of an unexpected type once threw out of the handler and ended the collector.
  for (const char* body : {R"({"participant": "x", "role": 5})", R"({"participant": "x", "kind": {}})"}) {
    auto odd = net::http_post(at, "/record", body, 5000);
    EXPECT_EQ(odd.status, 400) << body << ": " << odd.body;
  }
  auto forged =
      net::http_post(at, "/hello", "{\"name\": \"a\\nb\", \"run\": \"lab-run-1\", \"expect_clients\": 2}", 5000);
  EXPECT_EQ(forged.status, 400) << forged.body;
  // 100,000 levels of nesting once overflowed the collector's stack: refused before the parser sees it.
  auto deep =
      net::http_post(at, "/hello", "{\"name\": " + std::string(100000, '[') + std::string(100000, ']') + "}", 5000);
  EXPECT_EQ(deep.status, 400) << deep.body;
  std::vector<std::unique_ptr<Process>> clients;
  for (const char* src : {"127.0.0.2", "127.0.0.3"})
    clients.push_back(std::make_unique<Process>(
        std::vector<std::string>{"client",
                                 "--target",
                                 "127.0.0.1:" + port.str(1),
                                 "--source",
                                 src,
                                 "-n",
                                 "500",
                                 "--hold",
                                 "1s",
                                 "--server-stats",
                                 "127.0.0.1:" + port.str(2),
                                 "--report-to",
                                 "127.0.0.1:" + port.str(0),
                                 "--run-id",
                                 "lab-run-1",
                                 "--run-clients",
                                 "2",
                                 "--run-asked-connections",
                                 "1m",
                                 "--run-cut-by",
                                 "ran N=1000, not 1000000: this host's nf_conntrack_max limits it",
                                 "--progress",
                                 "off"}));
  for (auto& c : clients) EXPECT_EQ(c->wait(30000), 0) << c->err();
  // A one-off client, no run id: a run of its own, written too.
  Process one_off({"client", "--target", "127.0.0.1:" + port.str(1), "-n", "100", "--hold", "0", "--report-to",
                   "127.0.0.1:" + port.str(0), "--progress", "off"});
  EXPECT_EQ(one_off.wait(30000), 0) << one_off.err();
  std::string record;
  for (int i = 0; i < 100 && record.find("schema_version") == std::string::npos; ++i) {
    usleep(100000);
    record = http_get_local(port[0], "/runs/lab-run-1", 2000);
  }
  json r = json::parse(record.substr(record.find('{')));
  EXPECT_EQ(r["run_id"], "lab-run-1");
  // What was asked beside what ran, and which machine ran it (not the collector's own name).
  EXPECT_EQ(r["config"]["asked_connections"], 1000000);
  EXPECT_EQ(r["config"]["connections"], 1000);
  EXPECT_NE(r["config"]["cut_by"].get<std::string>().find("nf_conntrack_max"), std::string::npos);
  EXPECT_EQ(r["host"]["hostname"], "the-lab-host");
  EXPECT_FALSE(r["host"].contains("addresses"));
  EXPECT_EQ(r["status"], "complete") << r["reason"];
  EXPECT_EQ(r["results"]["established_peak_client"], 1000);
  EXPECT_EQ(r["results"]["established_peak_server"], 1000);
  ASSERT_EQ(r["participants"].size(), 3u);  // two clients and the server
  EXPECT_EQ(r["participants"][2]["role"], "server");
  EXPECT_EQ(r["participants"][2]["status"], "reported");
  EXPECT_EQ(r["server"]["ended_because"], "every connection of the run has closed");
  std::string runs;
  for (int i = 0; i < 50 && runs.find("\"written\"", runs.find("server-")) == std::string::npos; ++i) {
    usleep(100000);
    runs = http_get_local(port[0], "/runs", 2000);
  }
  EXPECT_NE(runs.find("lab-run-1"), std::string::npos) << runs;
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(5000), 130) << collector.err();
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(out_dir)) files += e.path().extension() == ".json";
  EXPECT_EQ(files, 2u) << "the lab's run and the one-off's, nothing else";
}

// A crowd of idle keep-alive peers and one that pipelines requests without reading the answers: the
// lab's participants are still heard, and the collector's memory stays small. (Before: 64 idle
// connections made every participant's post a 503; 2 MB of pipelined GETs took it to 1 GB.)
TEST_F(Collector, IdlePeersAndPipeliningShutNobodyOut) {
  PortBlock port(2);
  Process collector({"collect", "--listen", "127.0.0.1:" + port.str(0), "--out", out_dir, "--max-connections", "8"});
  ASSERT_NE(http_get_local(port[0], "/health", 5000), "") << collector.err();
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(connect_local(port[0]));
    const std::string ask = "GET /health HTTP/1.1\r\n\r\n";  // asked once, then kept open
    send(idle.back(), ask.data(), ask.size(), MSG_NOSIGNAL);
  }
  int greedy = connect_local(port[0]);
  std::string pipelined;
  while (pipelined.size() < (2u << 20)) pipelined += "GET /runs HTTP/1.1\r\n\r\n";
  fcntl(greedy, F_SETFL, O_NONBLOCK);
  size_t sent = 0;
  for (int i = 0; i < 200 && sent < pipelined.size(); ++i) {
    ssize_t n = send(greedy, pipelined.data() + sent, pipelined.size() - sent, MSG_NOSIGNAL);
    if (n > 0) sent += static_cast<size_t>(n);
    usleep(10000);
  }
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(1), "--expect", "1k", "--workers", "1", "--duration", "30s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(1), "-n", "200", "--hold", "0", "--report-to",
                  "127.0.0.1:" + port.str(0), "--progress", "off"});
  EXPECT_EQ(client.wait(60000), 0) << client.err();
  EXPECT_EQ(client.err().find("POST /"), std::string::npos) << client.err();
  std::ifstream status("/proc/" + std::to_string(collector.pid()) + "/status");
  long rss_kb = 0;
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) rss_kb = std::stol(line.substr(6));
  EXPECT_LT(rss_kb, memory_bound(64 * 1024))
      << "the collector holds " << rss_kb << " kB after " << sent << " bytes of pipelining";
  for (int fd : idle) close(fd);
  close(greedy);
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(5000), 130) << collector.err();
  EXPECT_EQ(std::count_if(std::filesystem::directory_iterator(out_dir), {},
                          [](const auto& e) { return e.path().extension() == ".json"; }),
            1);
}

// A participant's record is parsed whole, about 800 bytes a JSON value: past --max-record-values
// (250k) it is refused from a count of its values, before the parser allocates; within it, the
// collector stays under 256 MiB. (Before: a token holder's 2M-value record took 1.6 GB.)
TEST_F(Collector, ARecordPastItsValueCountIsRefusedBeforeItIsParsed) {
  PortBlock port(1);
  Process collector({"collect", "--listen", "127.0.0.1:" + port.str(0), "--out", out_dir});
  ASSERT_NE(http_get_local(port[0], "/health", 5000), "") << collector.err();
  auto record_of = [](size_t points) {  // a one-off client's record with a long series: 6 values a point
    json r = json::parse(read_file(kRecords + "base.json"));
    r["series"] = json::array();
    for (size_t i = 0; i < points; ++i)
      r["series"].push_back({{"t_s", i + 1}, {"established", 1000000}, {"connect_rate_per_s", 0}, {"errors", 0}});
    r["participant"] = "long-" + std::to_string(points);
    return r.dump();
  };
  auto peak_rss_kb = [&] {
    std::ifstream status("/proc/" + std::to_string(collector.pid()) + "/status");
    long kb = 0;
    for (std::string line; std::getline(status, line);)
      if (line.rfind("VmHWM:", 0) == 0) kb = std::stol(line.substr(6));
    return kb;
  };
  Endpoint at{Ipv4{0x7f000001}, port[0]};
  auto refused = net::http_post(at, "/record", record_of(60000), 10000);  // 360k values
  EXPECT_EQ(refused.status, 413) << refused.body;
  EXPECT_NE(refused.body.find("--max-record-values"), std::string::npos) << refused.body;
  EXPECT_LT(peak_rss_kb(), memory_bound(64 * 1024)) << "refused, yet the collector grew";
  auto taken = net::http_post(at, "/record", record_of(38000), 10000);  // 228k values, within the cap
  EXPECT_EQ(taken.status, 200) << taken.body;
  long peak = peak_rss_kb();
  EXPECT_LT(peak, memory_bound(256 * 1024)) << "the collector peaked at " << peak << " kB parsing 228k values";
  std::printf("collector peak RSS after a 228k-value record: %ld kB\n", peak);
  collector.signal(SIGTERM);
  // Under AddressSanitizer the exit frees and leak-checks a heap of half a gigabyte: 8-13 s here.
  EXPECT_EQ(collector.wait(30000), 130) << collector.err();
}

// Two one-off clients started together on one host: two runs, two files, each found under its own id,
// also by a collector started after the first was killed. (Before: one file, the second's, for both.)
TEST_F(Collector, OneOffClientsKeepTheirOwnRecordsAcrossARestart) {
  PortBlock port(2);
  auto collector = std::make_unique<Process>(
      std::vector<std::string>{"collect", "--listen", "127.0.0.1:" + port.str(0), "--out", out_dir});
  ASSERT_NE(http_get_local(port[0], "/health", 5000), "") << collector->err();
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(1), "--expect", "1k", "--workers", "1", "--duration", "30s"});
  usleep(300000);
  std::vector<std::unique_ptr<Process>> clients;
  for (const char* n : {"100", "200"})
    clients.push_back(std::make_unique<Process>(
        std::vector<std::string>{"client", "--target", "127.0.0.1:" + port.str(1), "-n", n, "--hold", "0",
                                 "--report-to", "127.0.0.1:" + port.str(0), "--progress", "off"}));
  for (auto& c : clients) ASSERT_EQ(c->wait(30000), 0) << c->err();
  json runs;
  for (int i = 0; i < 50; ++i) {
    runs = json::parse(http_get_local(port[0], "/runs", 2000));
    if (runs.size() == 2 && runs[0]["state"] == "written" && runs[1]["state"] == "written") break;
    usleep(100000);
  }
  ASSERT_EQ(runs.size(), 2u) << runs.dump();
  collector->signal(SIGKILL);
  collector->wait(5000);
  collector = std::make_unique<Process>(
      std::vector<std::string>{"collect", "--listen", "127.0.0.1:" + port.str(0), "--out", out_dir});
  ASSERT_NE(http_get_local(port[0], "/health", 5000), "") << collector->err();
  std::set<uint64_t> held;
  for (const auto& run : runs) {
    std::string text = http_get_local(port[0], "/runs/" + run["run"].get<std::string>(), 2000);
    ASSERT_NE(text, "") << run.dump();
    json r = json::parse(text);
    EXPECT_EQ(r["run_id"], run["run"]);
    held.insert(r["results"]["established_peak_client"].get<uint64_t>());
  }
  EXPECT_EQ(held, (std::set<uint64_t>{100, 200}));
  EXPECT_EQ(std::count_if(std::filesystem::directory_iterator(out_dir), {},
                          [](const auto& e) { return e.path().extension() == ".json"; }),
            2);
}

}  // namespace
}  // namespace c1m::test

namespace c1m::test {
namespace {

// A collector that takes connections and never answers: the kernel completes them (listen, no accept).
class SilentCollector {
 public:
  explicit SilentCollector(uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd_, 64) == 0;
  }
  ~SilentCollector() { close(fd_); }
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = false;
};

// The server's hello and report go from a thread of their own: a silent collector once stalled its
// /stats for 5 s at the start of a run.
TEST(SilentCollectorTest, TheServersStatsDoNotWaitOnIt) {
  PortBlock port(3);
  SilentCollector silent(port[2]);
  ASSERT_TRUE(silent.ok());
  Process server({"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "1k", "--workers", "1", "--admin",
                  "127.0.0.1:" + port.str(1), "--duration", "30s", "--report-to", "127.0.0.1:" + port.str(2),
                  "--run-id", "r1"});
  ASSERT_NE(http_get_local(port[1], "/stats", 5000), "") << server.err();
  for (int i = 0; i < 5; ++i) {  // while the hello waits on the silent collector
    auto start = std::chrono::steady_clock::now();
    EXPECT_NE(http_get_local(port[1], "/stats", 3000), "");
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
    usleep(300000);
  }
}

// A client's ramp does not wait on a silent collector, and SIGTERM while its record is being tried
// again ends it as interrupted (130), not killed (143), with its --json copy.
TEST(SilentCollectorTest, AClientRampsAtOnceAndASignalDuringTheRetriesIs130) {
  PortBlock port(2);
  SilentCollector silent(port[1]);
  ASSERT_TRUE(silent.ok());
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(0), "--expect", "1k", "--workers", "1", "--duration", "60s"});
  usleep(300000);
  std::string record = temp_dir() + "/client.json";
  auto start = std::chrono::steady_clock::now();
  Process client({"client", "--target", "127.0.0.1:" + port.str(0), "-n", "100", "--hold", "0", "--report-to",
                  "127.0.0.1:" + port.str(1), "--json", record, "--progress", "off"});
  for (int i = 0; i < 50 && !std::filesystem::exists(record); ++i) usleep(100000);
  ASSERT_TRUE(std::filesystem::exists(record)) << client.err();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 4.0)
      << "the run waited on the collector";
  usleep(1500000);  // its record is being tried again now
  client.signal(SIGTERM);
  EXPECT_EQ(client.wait(15000), 130) << client.err();
  EXPECT_EQ(json::parse(read_file(record))["results"]["established_peak_client"], 100);
}

// With --run-token, a stranger's record cannot end the run (403); the lab's client, which carries
// the token, is heard, and the token is in no record.
TEST(CollectorToken, OnlyParticipantsWithTheTokenAreHeard) {
  std::string out_dir = temp_dir();
  PortBlock port(2);
  Process collector({"collect", "--listen", "127.0.0.1:" + port.str(0), "--expect-count", "1", "--out", out_dir,
                     "--deadline", "30s", "--run-token", "s3cret"});
  ASSERT_NE(http_get_local(port[0], "/health", 5000), "") << collector.err();
  Endpoint at{Ipv4{0x7f000001}, port[0]};
  std::string stranger = read_file(kRecords + "base.json");
  auto refused = net::http_post(at, "/record", stranger, 5000);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("token: missing or wrong"), std::string::npos) << refused.body;
  auto malformed = net::http_post(at, "/record", R"({"participant": 5, "run": "r"})", 5000);
  EXPECT_EQ(malformed.status, 403) << malformed.body;  // a stranger learns nothing of what is wrong
  auto in_body = net::http_post(at, "/record", R"({"token": "s3cret"})", 5000);
  EXPECT_EQ(in_body.status, 403) << "the token is read from the head only: " << in_body.body;
  // A stranger's 60 MB body is never read: the head alone gets 403, and the door shuts.
  int fd = connect_local(port[0]);
  std::string head = "POST /record HTTP/1.1\r\nContent-Length: 60000000\r\n\r\n";
  send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  std::string answer = read_until_closed(fd, 3000);
  close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 403", 0), 0u) << answer;
  Process server(
      {"server", "--listen", "127.0.0.1:" + port.str(1), "--expect", "1k", "--workers", "1", "--duration", "30s"});
  usleep(300000);
  Process client({"client", "--target", "127.0.0.1:" + port.str(1), "-n", "300", "--hold", "0", "--report-to",
                  "127.0.0.1:" + port.str(0), "--run-token", "s3cret", "--progress", "off"});
  EXPECT_EQ(client.wait(30000), 0) << client.err();
  EXPECT_EQ(collector.wait(15000), 0) << collector.err();
  std::vector<std::string> files;
  for (auto& e : std::filesystem::directory_iterator(out_dir))
    if (e.path().extension() == ".json") files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  std::string text = read_file(files[0]);
  EXPECT_EQ(text.find("s3cret"), std::string::npos);
  EXPECT_EQ(text.find("participant_key"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(text)["results"]["established_peak_client"], 300);
}

}  // namespace
}  // namespace c1m::test
