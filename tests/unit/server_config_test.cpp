// The server's pure configuration step: its workers sized from the open-files limit it is given.
#include <gtest/gtest.h>

#include "core/plan/server_config.hpp"
#include "core/usage.hpp"

namespace c1m {
namespace {

std::string refusal(const ServerOptions& o, uint64_t nofile = 20000) {
  try {
    resolve_server(o, nofile);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

// Here a process holds 20,000 files: a million takes 56 workers with the hash's 10% headroom; where
// one process may hold two million, one worker.
TEST(ServerConfig, WorkersComeFromTheOpenFilesLimit) {
  ServerOptions o;
  o.listen = "127.0.0.1:9000-9019";
  ServerConfig c = resolve_server(o, 20000);
  EXPECT_EQ(c.listen.size(), 20u);
  EXPECT_EQ(c.expect, 1000000u);
  EXPECT_EQ(c.capacity, 19900u);
  EXPECT_EQ(c.workers, 56u);
  EXPECT_EQ(resolve_server(o, 2000000).workers, 1u);
  o.max_per_worker = "10k";
  o.workers = 3;
  c = resolve_server(o, 20000);
  EXPECT_EQ(c.capacity, 10000u);
  EXPECT_EQ(c.workers, 3u);
}

TEST(ServerConfig, EachBadFlagIsNamed) {
  struct Case {
    void (*set)(ServerOptions&);
    const char* says;
  } cases[] = {
      {[](ServerOptions& o) { o.listen = "127.0.0.1"; }, "--listen '127.0.0.1'"},
      {[](ServerOptions& o) { o.expect = "many"; }, "--expect 'many'"},
      {[](ServerOptions& o) { o.duration = "forever"; }, "--duration 'forever'"},
      {[](ServerOptions& o) { o.admin = "127.0.0.1:1,127.0.0.1:2"; }, "--admin"},
      {[](ServerOptions& o) { o.report_to = "127.0.0.1:9200"; }, "--report-to needs --run-id"},
      {[](ServerOptions& o) { o.max_per_worker = "0"; }, "--max-per-worker must be at least 1"},
      {[](ServerOptions& o) { o.expect = "100m"; }, "workers at 19900 connections each; more than 4096"},
      {[](ServerOptions& o) { o.tls.cert_file = "c.pem"; }, "are for --tls"},
      {[](ServerOptions& o) { o.tls.tickets = 2; }, "are for --tls"},
  };
  for (const auto& c : cases) {
    ServerOptions o;
    c.set(o);
    EXPECT_NE(refusal(o).find(c.says), std::string::npos) << "got: " << refusal(o) << "; wanted " << c.says;
  }
}

}  // namespace
}  // namespace c1m
