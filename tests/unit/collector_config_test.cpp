// The collector's pure configuration step: every bound and refusal, without a socket.
#include <gtest/gtest.h>

#include "core/collector/collector_config.hpp"
#include "core/usage.hpp"

namespace c1m {
namespace {

CollectorOptions listening(const std::string& at = "127.0.0.1:9200") {
  CollectorOptions o;
  o.listen = at;
  return o;
}

std::string refusal(const CollectorOptions& o) {
  try {
    resolve_collector(o, 1000);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(CollectorConfig, TheDefaultsAreTheDocumentedOnes) {
  CollectorConfig c = resolve_collector(listening(), 1000);
  EXPECT_EQ(c.listen.str(), "127.0.0.1:9200");
  EXPECT_EQ(c.book.deadline_ms, 30 * 60 * 1000);
  EXPECT_EQ(c.book.max_bytes_held, 2000000000u);  // "2g": counts are decimal
  EXPECT_EQ(c.max_body_bytes, 64000000u);
  EXPECT_EQ(c.max_connections, 64u);
  EXPECT_EQ(c.max_record_values, 250000u);
  EXPECT_EQ(c.request_timeout_s, 10);
  EXPECT_FALSE(c.one_run());
  EXPECT_EQ(c.spool_dir, "results/.spool");  // a service's, taken up by the next one
  EXPECT_FALSE(c.own_spool);
}

// An --expect-count collector's one run has no id: without --spool it keeps a spool of its own, so
// the next benchmark's collector does not merge a dead one's records.
TEST(CollectorConfig, OneRunKeepsASpoolOfItsOwnUnlessGivenOne) {
  CollectorOptions o = listening();
  o.expect_count = 3;
  o.out = "/r";
  CollectorConfig c = resolve_collector(o, 1234);
  EXPECT_TRUE(c.one_run());
  EXPECT_EQ(c.book.default_expect_clients, 3u);
  EXPECT_TRUE(c.own_spool);
  EXPECT_EQ(c.spool_dir, "/r/.spool/expect-count-1234");
  o.spool = "/kept";
  c = resolve_collector(o, 1234);
  EXPECT_FALSE(c.own_spool);
  EXPECT_EQ(c.spool_dir, "/kept");
}

TEST(CollectorConfig, LabInfoNestsByDots) {
  CollectorOptions o = listening();
  o.lab_info = {"network.parent=c1m0", "network.driver=macvlan", "runtime=docker"};
  EXPECT_EQ(resolve_collector(o, 0).lab.dump(),
            R"({"network":{"parent":"c1m0","driver":"macvlan"},"runtime":"docker"})");
}

TEST(CollectorConfig, EachBadFlagIsNamed) {
  struct Case {
    void (*set)(CollectorOptions&);
    const char* says;
  } cases[] = {
      {[](CollectorOptions& o) { o.listen = "nowhere"; }, "--listen"},
      {[](CollectorOptions& o) { o.listen = "127.0.0.1:1,127.0.0.1:2"; }, "expected one ADDRESS:PORT"},
      {[](CollectorOptions& o) { o.deadline = "soon"; }, "--deadline 'soon'"},
      {[](CollectorOptions& o) { o.max_held = "lots"; }, "--max-held 'lots'"},
      {[](CollectorOptions& o) { o.max_body = "70m"; }, "--max-body 70m: at most 67108864 bytes"},
      {[](CollectorOptions& o) { o.max_connections = 0; }, "--max-connections: at least 1"},
      {[](CollectorOptions& o) { o.max_record_values = "5k"; }, "--max-record-values 5k: from 10000 to 2000000"},
      {[](CollectorOptions& o) { o.max_record_values = "3m"; }, "--max-record-values 3m: from 10000 to 2000000"},
      {[](CollectorOptions& o) { o.request_timeout = "500ms"; }, "--request-timeout 500ms: at least 1s"},
      {[](CollectorOptions& o) { o.lab_info = {"=x"}; }, "--lab-info '=x': expected KEY=VALUE"},
      {[](CollectorOptions& o) { o.lab_info = {"novalue"}; }, "--lab-info 'novalue': expected KEY=VALUE"},
  };
  for (const auto& c : cases) {
    CollectorOptions o = listening();
    c.set(o);
    EXPECT_NE(refusal(o).find(c.says), std::string::npos) << "got: " << refusal(o) << "; wanted " << c.says;
  }
}

}  // namespace
}  // namespace c1m
