// The collector's records: each run's file is its own, never replaced, and found by its run id.
#include "core/collector/record_store.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include "temp_dir.hpp"

#include <filesystem>
#include <fstream>

namespace c1m {
namespace {

using test::TempDir;

ojson merged(const std::string& run_id, const std::string& status = "complete") {
  return {{"run_id", run_id}, {"approach", "multi-ip"}, {"started_at", "2026-12-06T10:00:00.000Z"}, {"status", status}};
}

size_t json_files(const std::string& dir) {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) n += e.path().extension() == ".json";
  return n;
}

}  // namespace

// Two one-off clients on one host started in the same second: their ids share a long prefix
// (hostname-pid-...), and each gets a file of its own.
TEST(RecordStore, RunsThatStartTogetherKeepTheirOwnFiles) {
  TempDir tmp;
  RecordStore store(tmp.path);
  std::string a, b;
  bool already = true;
  ASSERT_EQ(store.put(merged("lab-host-1-1a2b3c4d"), &a, &already), "");
  EXPECT_FALSE(already);
  ASSERT_EQ(store.put(merged("lab-host-1-9f8e7d6c"), &b, &already), "");
  EXPECT_NE(a, b);
  EXPECT_EQ(json_files(tmp.path), 2u);
  EXPECT_EQ(RecordStore(tmp.path).find("lab-host-1-1a2b3c4d"), a);  // a new collector finds it by id
  EXPECT_EQ(RecordStore(tmp.path).find("lab-host-1-9f8e7d6c"), b);
  EXPECT_EQ(store.find("lab-host-1"), "");
  EXPECT_EQ(store.find("../etc"), "");
}

// A run is written once: a second put (a collector that restarted before it forgot the run's
// messages) names the first file and changes nothing, with or without the index entry.
TEST(RecordStore, ARunIsNeverWrittenTwice) {
  TempDir tmp;
  RecordStore store(tmp.path);
  std::string first, again;
  bool already = false;
  ASSERT_EQ(store.put(merged("r1"), &first, &already), "");
  ASSERT_EQ(store.put(merged("r1", "failed"), &again, &already), "");
  EXPECT_TRUE(already);
  EXPECT_EQ(again, first);
  std::filesystem::remove(tmp.path + "/.runs/r1");  // killed after the record, before its index entry
  ASSERT_EQ(store.put(merged("r1", "failed"), &again, &already), "");
  EXPECT_TRUE(already);
  EXPECT_EQ(again, first);
  EXPECT_EQ(json_files(tmp.path), 1u);
  EXPECT_EQ(ojson::parse(std::ifstream(first))["status"], "complete");
  EXPECT_EQ(store.find("r1"), first);
}

TEST(RecordStore, ANameThatIsNotSafeNeverReachesAPath) {
  EXPECT_EQ(RecordStore::file_name(merged("r1")), "20261206T100000Z-multi-ip-r1.json");
  ojson odd = merged("r1");
  odd["approach"] = "x/y";
  EXPECT_EQ(RecordStore::file_name(odd), "20261206T100000Z-custom-r1.json");
  TempDir tmp;
  std::string path;
  bool already = false;
  EXPECT_NE(RecordStore(tmp.path).put(merged("a/b"), &path, &already), "");
  EXPECT_EQ(json_files(tmp.path), 0u);
}

}  // namespace c1m
