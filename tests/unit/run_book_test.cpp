#include "core/collector/run_book.hpp"

#include <gtest/gtest.h>

namespace c1m {
namespace {

ojson client(const std::string& name, const std::string& run = "r1", uint64_t expect = 2) {
  return {{"participant", name},      {"run", run},           {"role", "client"},
          {"expect_clients", expect}, {"status", "complete"}, {"started_at", "2026-11-25T01:00:00.000Z"}};
}
RunBookLimits limits() {
  RunBookLimits l;
  l.deadline_ms = 60'000;
  l.server_grace_ms = 5'000;
  return l;
}

}  // namespace

TEST(RunBook, ARunIsDueWhenEveryClientAndTheServerHaveReported) {
  RunBook book(limits());
  EXPECT_EQ(book.hello({{"name", "server-a"}, {"run", "r1"}, {"role", "server"}}, 0), "");
  EXPECT_EQ(book.record(client("c1"), 100), "");
  EXPECT_TRUE(book.due(200).empty());  // one of two clients
  EXPECT_EQ(book.record(client("c2"), 300), "");
  EXPECT_TRUE(book.due(400).empty());  // the server said hello: it is waited for
  EXPECT_EQ(book.record({{"participant", "server-a"}, {"run", "r1"}, {"role", "server"}, {"connections_peak", 7}}, 500),
            "");
  auto due = book.due(600);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].first, "r1");
  CollectRequest req = book.request("r1");
  EXPECT_EQ(req.run_id, "r1");
  EXPECT_EQ(req.clients.size(), 2u);
  ASSERT_TRUE(req.server.has_value());
  EXPECT_EQ(req.server->record["connections_peak"], 7);
}

TEST(RunBook, AServerThatNeverReportsIsWaitedForOnlyAGracePeriod) {
  RunBook book(limits());
  book.hello({{"name", "server-a"}, {"run", "r1"}, {"role", "server"}}, 0);
  book.record(client("c1"), 1000);
  book.record(client("c2"), 2000);
  EXPECT_TRUE(book.due(6'999).empty());
  ASSERT_EQ(book.due(7'000).size(), 1u);
  EXPECT_NE(book.due(7'000)[0].second.find("server's report did not come"), std::string::npos);
  EXPECT_NE(book.request("r1").server->problem.find("never sent a record"), std::string::npos);
}

TEST(RunBook, ClosingARunWritesItAtOnceOnlyWhenAClientIsMissing) {
  RunBook book(limits());
  book.hello({{"name", "server-a"}, {"run", "r1"}, {"role", "server"}}, 0);
  book.record(client("c1"), 1000);
  ASSERT_TRUE(book.close("r1"));
  ASSERT_EQ(book.due(1'100).size(), 1u);  // c2 died: nothing more will come from it
  EXPECT_NE(book.due(1'100)[0].second.find("closed by the lab with 1 of 2"), std::string::npos);

  book.hello({{"name", "server-b"}, {"run", "r2"}, {"role", "server"}}, 0);
  book.record(client("c1", "r2"), 1000);
  book.record(client("c2", "r2"), 2000);
  ASSERT_TRUE(book.close("r2"));
  EXPECT_TRUE(book.due(2'100).size() == 1u && book.due(2'100)[0].first == "r1");  // r2's server still closing
  book.record({{"participant", "server-b"}, {"run", "r2"}, {"role", "server"}, {"connections_peak", 7}}, 6'500);
  auto due = book.due(6'600);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[1].second, "every participant reported");
}

TEST(RunBook, TheDeadlineWritesWhatCameAndNamesWhoDidNot) {
  RunBook book(limits());
  book.hello(
      ojson{{"name", "c1"}, {"run", "r1"}, {"expect_clients", 3}, {"connections", 500}, {"addresses", {"198.18.1.7"}}},
      0);
  book.record(client("c2", "r1", 3), 10);
  EXPECT_TRUE(book.due(59'999).empty());
  auto due = book.due(60'000);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_NE(due[0].second.find("passed with 1 of 3 records"), std::string::npos) << due[0].second;
  CollectRequest req = book.request("r1");
  ASSERT_EQ(req.clients.size(), 3u);  // c1 (hello only), c2, and one never heard of
  EXPECT_NE(req.clients[0].problem.find("then never sent a record"), std::string::npos);
  EXPECT_NE(req.clients[2].problem.find("expected 3 clients, heard from 2"), std::string::npos);
}

TEST(RunBook, RefusesWhatIsNotAParticipantOfTheRun) {
  RunBook book(limits());
  EXPECT_NE(book.record(ojson{{"participant", "a\nforged line"}, {"run", "r1"}, {"expect_clients", 1}}, 0), "");
  EXPECT_NE(book.record(ojson{{"participant", 5}, {"run", "r1"}, {"expect_clients", 1}}, 0), "");
  EXPECT_NE(book.record(ojson{{"participant", "a"}, {"run", "r1"}, {"expect_clients", -1}}, 0), "");
  EXPECT_NE(book.record(ojson{{"participant", "a"}, {"run", "../etc"}, {"expect_clients", 1}}, 0), "");
  EXPECT_EQ(book.record(client("c1", "r1", 1), 0), "");
  // A second client in a run of one, a run that disagrees on its size: refused, the run unharmed.
  EXPECT_NE(book.record(client("c2", "r1", 1), 0).find("heard from all of them"), std::string::npos);
  EXPECT_NE(book.hello(client("c1", "r1", 4), 0).find("disagrees"), std::string::npos);
  book.written("r1", "results/x.json", "complete");
  int status = 0;
  EXPECT_NE(book.record(client("c1", "r1", 1), 0, &status), "");
  EXPECT_EQ(status, 409);  // the run is on disk already
}

TEST(RunBook, AClientThatNamesNoRunIsARunOfItsOwn) {
  RunBook book(limits());
  EXPECT_EQ(book.record(ojson{{"participant", "one-off-1"}, {"status", "complete"}}, 0), "");
  auto due = book.due(1);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].first, "one-off-1");
  // With --expect-count every message belongs to the one run.
  RunBookLimits l = limits();
  l.default_expect_clients = 2;
  RunBook one(l);
  one.record(ojson{{"participant", "a"}}, 0);
  one.record(ojson{{"participant", "b"}}, 0);
  ASSERT_EQ(one.due(1).size(), 1u);
  EXPECT_EQ(one.due(1)[0].first, "default");
}

}  // namespace c1m

namespace c1m {

// The collector's memory is bounded by configuration: a hello past 64 KiB is refused, and records
// past the bytes it may hold are refused as full (503) until a run is written and frees its share.
TEST(RunBook, HoldsNoMoreThanItsLimit) {
  RunBookLimits l = limits();
  l.max_bytes_held = 800;
  RunBook book(l);
  ojson big_hello = {{"name", "c1"}, {"run", "r1"}, {"expect_clients", 2}, {"pad", std::string(70 * 1024, 'x')}};
  EXPECT_NE(book.hello(big_hello, 0).find("a hello is at most 65536 bytes"), std::string::npos);
  ojson a = client("c1"), b = client("c2");
  a["pad"] = b["pad"] = std::string(250, 'x');
  a["participant_key"] = "0123456789abcdef";  // its own, so its resend may replace its record
  EXPECT_EQ(book.record(a, 10), "");
  size_t one = book.bytes_held();
  EXPECT_GT(one, 250u);
  int status = 0;
  ojson other = client("d1", "r2", 1);
  other["pad"] = std::string(400, 'x');
  EXPECT_NE(book.record(other, 20, &status).find("try again once a run is written"), std::string::npos);
  EXPECT_EQ(status, 503);
  EXPECT_EQ(book.record(a, 30), "");  // the same record again replaces, never adds
  EXPECT_EQ(book.bytes_held(), one);
  EXPECT_EQ(book.record(b, 40), "");
  ASSERT_EQ(book.due(50).size(), 1u);
  book.written("r1", "/results/r1.json", "complete");
  EXPECT_EQ(book.bytes_held(), 0u);
  EXPECT_EQ(book.record(other, 60), "");
}

}  // namespace c1m

namespace c1m {

// The lab's token is checked by the HTTP service, on the request's head. What the book guards is
// each participant's own messages: its first one binds its key, and another key cannot replace them.
TEST(RunBook, AParticipantsKeyKeepsOthersFromItsRecord) {
  RunBook book(limits());
  auto keyed = [](ojson j, const char* key) {
    j["participant_key"] = key;
    return j;
  };
  ASSERT_EQ(book.hello(keyed({{"name", "c1"}, {"run", "r1"}, {"expect_clients", 2}}, "aaaaaaaaaaaaaaaa"), 0), "");
  int status = 0;
  ojson forged = keyed(client("c1"), "bbbbbbbbbbbbbbbb");
  forged["status"] = "failed";
  EXPECT_NE(book.record(forged, 10, &status).find("bound to another participant_key"), std::string::npos);
  EXPECT_EQ(status, 403);
  EXPECT_NE(book.record(client("c1"), 10, &status), "");  // no key at all
  EXPECT_EQ(status, 403);
  ASSERT_EQ(book.record(keyed(client("c1"), "aaaaaaaaaaaaaaaa"), 20), "");
  EXPECT_EQ(book.record(keyed(client("c1"), "aaaaaaaaaaaaaaaa"), 30), "");  // its own retry is taken
  // A participant that gave no key: its record, once taken, is replaced by nobody.
  ASSERT_EQ(book.record(client("c2"), 40), "");
  EXPECT_NE(book.record(client("c2"), 50, &status), "");
  EXPECT_EQ(status, 409);
  CollectRequest req = book.request("r1");
  ASSERT_EQ(req.clients.size(), 2u);
  EXPECT_EQ(req.clients[0].record["status"], "complete");
  EXPECT_FALSE(req.clients[0].record.contains("participant_key"));  // a secret, never in a record
  EXPECT_NE(book.hello(keyed({{"name", "c3"}, {"run", "r2"}, {"expect_clients", 1}}, "short"), 0, &status), "");
}

// Ids that would be hidden files, and runs an earlier collector wrote, are refused up front; the cap
// on open runs says "later" (503), which participants try again, not "bad" (400).
TEST(RunBook, PoisonIdsWrittenRunsAndTheOpenRunCap) {
  EXPECT_FALSE(is_safe_name(".r1"));
  EXPECT_FALSE(is_safe_name("x/y"));
  EXPECT_FALSE(is_safe_name("a\nb"));
  RunBookLimits l = limits();
  l.max_open_runs = 1;
  RunBook book(l, nullptr, [](const std::string& run) { return run == "old" ? "/results/old.json" : ""; });
  int status = 0;
  EXPECT_NE(book.record(client("c1", ".hidden", 1), 0, &status), "");
  EXPECT_EQ(status, 400);
  EXPECT_NE(book.record(client("c1", "old", 1), 0, &status).find("already written to /results/old.json"),
            std::string::npos);
  EXPECT_EQ(status, 409);
  ASSERT_EQ(book.hello({{"name", "c1"}, {"run", "r1"}, {"expect_clients", 2}}, 0), "");
  EXPECT_NE(book.hello({{"name", "c1"}, {"run", "r2"}, {"expect_clients", 2}}, 0, &status), "");
  EXPECT_EQ(status, 503);
}

// A participant whose answer was lost (the collector was killed after taking its record) sends the
// same message again after its run was written: it is told its record is in, and nothing changes. A
// receipt carries that to the next collector. Anybody else, or another key, is still refused.
TEST(RunBook, AResentMessageOfAWrittenRunIsTakenOnlyFromItsOwner) {
  auto keyed = [](ojson j, const char* key) {
    j["participant_key"] = key;
    return j;
  };
  const char* k1 = "aaaaaaaaaaaaaaaa";
  RunBook book(limits());
  ASSERT_EQ(book.hello(keyed({{"name", "c1"}, {"run", "r1"}, {"expect_clients", 1}}, k1), 0), "");
  ASSERT_EQ(book.record(keyed(client("c1", "r1", 1), k1), 10), "");
  ASSERT_EQ(book.due(20).size(), 1u);
  book.written("r1", "/results/r1.json", "complete");
  EXPECT_TRUE(book.due(30).empty());

  RunBook next(limits());  // the next collector on the same spool
  ASSERT_TRUE(next.restore_written(book.receipt("r1")));
  for (RunBook* b : {&book, &next}) {
    int status = 0;
    std::string written_to;
    EXPECT_EQ(b->record(keyed(client("c1", "r1", 1), k1), 40, &status, &written_to), "");
    EXPECT_EQ(written_to, "/results/r1.json");
    written_to.clear();
    EXPECT_EQ(b->hello(keyed({{"name", "c1"}, {"run", "r1"}, {"expect_clients", 1}}, k1), 40, &status, &written_to),
              "");
    EXPECT_EQ(written_to, "/results/r1.json");
    EXPECT_NE(b->record(keyed(client("c1", "r1", 1), "bbbbbbbbbbbbbbbb"), 40, &status), "");  // another key
    EXPECT_EQ(status, 409);
    EXPECT_NE(b->record(keyed(client("c9", "r1", 1), k1), 40, &status), "");  // a name the run never had
    EXPECT_EQ(status, 409);
    EXPECT_TRUE(b->due(50).empty());
    EXPECT_EQ(b->open_runs(), 0u);
  }
  EXPECT_FALSE(next.restore_written(book.receipt("r1")));  // known already
  EXPECT_FALSE(next.restore_written({{"run", "../x"}, {"written_to", "/r.json"}, {"participants", ojson::array()}}));
  EXPECT_TRUE(book.receipt("nope").is_null());
}

// The collector answers GET /runs from a summary kept until changes() moves: every call that changes
// what summary() says moves it.
TEST(RunBook, EveryChangeToTheSummaryMovesTheChangeCount) {
  RunBookLimits l = limits();
  l.default_expect_clients = 1;
  RunBook book(l);
  std::string seen = book.summary().dump();
  uint64_t at = book.changes();
  auto step = [&](const char* what, auto&& change) {
    change();
    std::string now = book.summary().dump();
    if (now != seen) {
      EXPECT_NE(book.changes(), at) << what << " changed the summary, not the count";
    }
    seen = now;
    at = book.changes();
  };
  step("open_default", [&] { book.open_default(0); });
  step("hello", [&] { book.hello({{"name", "server-a"}, {"run", "r1"}, {"role", "server"}}, 0); });
  step("a client's record", [&] { book.record(client("c1"), 100); });
  step("close", [&] { book.close("r1"); });
  step("the server's record", [&] {
    book.record({{"participant", "server-a"}, {"run", "r1"}, {"role", "server"}, {"connections_peak", 7}}, 200);
  });
  step("written", [&] { book.written("r1", "/tmp/r1.json", "complete"); });
  ojson receipt = book.receipt("r1");
  step("restore_written", [&] {
    receipt["run"] = "r0";
    book.restore_written(receipt);
  });
  step("restore", [&] { book.restore(Filed{"r2", "c1", false, true, client("c1", "r2"), "", 300}); });
  EXPECT_NE(seen.find("\"r2\""), std::string::npos) << "the steps did reach the book: " << seen;
  EXPECT_NE(seen.find("\"r0\""), std::string::npos) << seen;
}

}  // namespace c1m
