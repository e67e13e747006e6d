// The collector's spool: what it took survives it, and a message it cannot keep is not taken.
#include "core/collector/spool.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include "temp_dir.hpp"

#include <filesystem>

namespace c1m {
namespace {

using test::TempDir;

ojson client(const std::string& name, uint64_t expect = 2) {
  return {{"participant", name},      {"run", "r1"},          {"role", "client"},
          {"expect_clients", expect}, {"status", "complete"}, {"started_at", "2026-11-25T01:00:00.000Z"}};
}

RunBookLimits limits() { return RunBookLimits{}; }

ojson with_key(ojson j) {
  j["participant_key"] = "k3y-of-" + j.value("participant", j.value("name", std::string())) + "-0123456789";
  return j;
}

}  // namespace

TEST(Spool, ASecondCollectorTakesUpWhatTheFirstKept) {
  TempDir tmp;
  Spool spool(tmp.path + "/spool");
  ASSERT_EQ(spool.open(), "");
  {
    RunBook first(limits(), [&](const Filed& f) { return spool.keep(f); });
    ASSERT_EQ(first.hello(with_key({{"name", "c1"}, {"run", "r1"}, {"expect_clients", 2}}), 100), "");
    ASSERT_EQ(first.hello(with_key({{"name", "c2"}, {"run", "r1"}, {"expect_clients", 2}}), 110), "");
    ASSERT_EQ(first.record(with_key(client("c1")), 200), "");
    EXPECT_TRUE(first.due(300).empty());  // c2 has not reported: the first collector dies here
  }
  RunBook second(limits());
  std::vector<std::string> problems;
  std::vector<Filed> kept = spool.load(&problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(kept.size(), 3u);
  for (const Filed& f : kept) {
    EXPECT_FALSE(f.body.contains("participant_key"));  // kept beside the body, not in it
    EXPECT_EQ(f.key, "k3y-of-" + f.body.value("participant", f.body.value("name", std::string())) + "-0123456789");
    EXPECT_EQ(second.restore(f), "");
  }
  const BookedRun* run = second.find("r1");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->opened_ms, 100);  // its deadline counts from the first message, not the restart
  EXPECT_EQ(run->reported(), 1u);
  // The keys were kept: after the restart, c1's record is still c1's alone.
  ojson forged = client("c1");
  forged["participant_key"] = "someone-else-0123456789";
  EXPECT_NE(second.record(forged, 350), "");
  ASSERT_EQ(second.record(with_key(client("c2")), 400), "");
  ASSERT_EQ(second.due(400).size(), 1u);
  spool.forget("r1");
  EXPECT_TRUE(spool.load(&problems).empty());
  EXPECT_FALSE(std::filesystem::exists(tmp.path + "/spool/r1"));
}

TEST(Spool, AMessageThatCannotBeKeptIsNotTaken) {
  RunBook book(limits(), [](const Filed&) { return std::string("cannot write x.json: No space left on device"); });
  int status = 0;
  std::string why = book.record(with_key(client("c1", 1)), 0, &status);
  EXPECT_EQ(status, 507);
  EXPECT_NE(why.find("No space left on device"), std::string::npos);
  EXPECT_EQ(book.find("r1"), nullptr);  // no run was opened by what was refused
  EXPECT_EQ(book.bytes_held(), 0u);
  EXPECT_TRUE(book.due(1'000'000'000).empty());
}

TEST(Spool, AFileThatIsNotAMessageIsNamedAndLeftAlone) {
  TempDir tmp;
  Spool spool(tmp.path);
  ASSERT_EQ(spool.open(), "");
  ASSERT_EQ(::mkdir((tmp.path + "/r1").c_str(), 0700), 0);
  FILE* f = std::fopen((tmp.path + "/r1/record-client-x.json").c_str(), "w");
  std::fputs("{\"kind\": \"record\"", f);
  std::fclose(f);
  std::vector<std::string> problems;
  EXPECT_TRUE(spool.load(&problems).empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("record-client-x.json: not a spooled message"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(tmp.path + "/r1/record-client-x.json"));
}

TEST(Spool, ARunIdCannotLeaveTheSpool) {
  EXPECT_FALSE(is_safe_name(".."));
  EXPECT_FALSE(is_safe_name("."));
  RunBook book(limits());
  EXPECT_NE(book.hello(with_key({{"name", "c1"}, {"run", ".."}, {"expect_clients", 1}}), 0), "");
}

// A collector killed while forgetting a run leaves no run with half its messages, which the next
// one would write again as a second, failed record: the run's directory goes in one rename.
TEST(Spool, AForgetCutShortLeavesNoHalfRun) {
  TempDir tmp;
  Spool spool(tmp.path);
  ASSERT_EQ(spool.open(), "");
  RunBook book(limits(), [&](const Filed& f) { return spool.keep(f); });
  ASSERT_EQ(book.hello(with_key({{"name", "c1"}, {"run", "r1"}, {"expect_clients", 1}}), 0), "");
  ASSERT_EQ(book.record(with_key(client("c1", 1)), 10), "");
  // What a kill between the rename and the unlinks leaves:
  ASSERT_EQ(std::rename((tmp.path + "/r1").c_str(), (tmp.path + "/.forgotten-r1").c_str()), 0);
  std::vector<std::string> problems;
  EXPECT_TRUE(spool.load(&problems).empty());
  EXPECT_TRUE(problems.empty());
  EXPECT_FALSE(std::filesystem::exists(tmp.path + "/.forgotten-r1"));  // and the next load clears it
}

TEST(Spool, AWrittenRunsReceiptOutlivesItsMessagesUntilItIsOld) {
  TempDir tmp;
  Spool spool(tmp.path);
  ASSERT_EQ(spool.open(), "");
  RunBook book(limits(), [&](const Filed& f) { return spool.keep(f); });
  ASSERT_EQ(book.record(with_key(client("c1", 1)), 10), "");
  book.written("r1", "/results/r1.json", "complete");
  ASSERT_EQ(spool.keep_receipt("r1", book.receipt("r1"), 1'000), "");
  spool.forget("r1");
  std::vector<std::string> problems;
  EXPECT_TRUE(spool.load(&problems).empty());  // a receipt is no message to take again
  EXPECT_TRUE(problems.empty());
  auto receipts = spool.load_receipts(2'000, 60'000);
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0]["written_to"], "/results/r1.json");
  EXPECT_EQ(receipts[0]["participants"][0]["key"], "k3y-of-c1-0123456789");
  EXPECT_TRUE(spool.load_receipts(100'000, 60'000).empty());  // too old: it goes
  EXPECT_TRUE(spool.load_receipts(2'000, 60'000).empty());
  ASSERT_EQ(spool.keep_receipt("r1", book.receipt("r1"), 1'000), "");
  spool.remove_if_empty();  // the collector ends: its receipts go with the spool
  EXPECT_FALSE(std::filesystem::exists(tmp.path));
}

TEST(Spool, AnUnwritableSpoolIsSaidUpFront) {
  Spool spool("/proc/c1m-no-such-spool");
  EXPECT_NE(spool.open().find("cannot create the spool /proc/c1m-no-such-spool"), std::string::npos);
}

}  // namespace c1m
