// The record's field table (core/record/record_fields.hpp) and what is made from it: every row is whole,
// its member reads back what is set, and the checked-in schema's `results` and `memory` and
// docs/record.md's table of figures are what the table makes. When the table changes, regenerate:
//   C1M_UPDATE_GENERATED=1 build/tests/c1m_unit_tests --gtest_filter='RecordFields.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "core/record/compare.hpp"
#include "core/record/record_fields.hpp"
#include "core/record/run_record.hpp"

namespace c1m {
namespace {

const std::string kRepo = std::string(C1M_FIXTURES) + "/../..";
const std::string kSchema = kRepo + "/results/run-record.schema.json";
const std::string kRecordDoc = kRepo + "/docs/record.md";
constexpr const char* kBegin = "<!-- figures: made from src/core/record/record_fields.cpp; make test checks it -->\n";
constexpr const char* kEnd = "<!-- end of figures -->\n";

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool updating() { return std::getenv("C1M_UPDATE_GENERATED") != nullptr; }

TEST(RecordFields, EveryRowIsWholeAndItsMemberReadsBack) {
  std::set<std::string> keys;
  for (const auto& f : record_fields()) {
    std::string key = std::string(f.section) + "." + f.key;
    EXPECT_TRUE(keys.insert(key).second) << key << " has two rows";
    EXPECT_TRUE(std::string(f.meaning).size() > 5) << key << ": say what it means";
    if (f.better != Better::not_compared) {
      EXPECT_STRNE(f.unit, "") << key << ": compared, so give its unit";
    }
    if (f.kind == FigureKind::structured) {
      EXPECT_TRUE(f.schema) << key << ": a structure needs its schema";
      continue;
    }
    ASSERT_TRUE(f.get && f.set) << key;
    RunRecord r;
    f.set(r, 12345);
    EXPECT_EQ(f.get(r), 12345.0) << key;
    f.set(r, std::nullopt);
    EXPECT_EQ(f.get(r), f.nullable ? std::nullopt : std::optional<double>(0)) << key;
  }
}

// What a record writes is what the table lists, in its order, and nothing else.
TEST(RecordFields, TheRecordWritesTheTablesKeysInItsOrder) {
  RunRecord r;
  r.results.tcpext_delta_server = ojson::object();  // written only in merged records
  ojson written = r.to_json();
  for (const char* section : {"results", "memory"}) {
    std::vector<std::string> listed, have;
    for (const auto& f : record_fields())
      if (std::string(f.section) == section) listed.push_back(f.key);
    for (const auto& [k, v] : written[section].items()) have.push_back(k);
    EXPECT_EQ(have, listed) << section;
  }
}

TEST(RecordFields, CompareReadsTheComparedRowsAndPercentiles) {
  std::vector<std::string> names;
  for (const auto& m : compared_metrics()) names.push_back(m.name);
  for (const char* want : {"time_to_target_s", "connect_rate_per_s", "connect_latency_p50_ms",
                           "connect_latency_p999_ms", "ping_rtt_p99_ms", "errors_total", "kernel_bytes_per_socket"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  EXPECT_EQ(std::find(names.begin(), names.end(), "attempted"), names.end()) << "not a compared figure";
}

TEST(RecordFields, TheSchemaHoldsWhatTheTableMakes) {
  ojson schema = ojson::parse(text_of(kSchema));
  if (updating()) {
    for (const char* section : {"results", "memory"}) schema["properties"][section] = record_fields_schema(section);
    std::ofstream(kSchema) << schema.dump(2) << "\n";
    GTEST_SKIP() << "wrote " << kSchema;
  }
  for (const char* section : {"results", "memory"})
    EXPECT_EQ(nlohmann::json::parse(schema["properties"][section].dump()),
              nlohmann::json::parse(record_fields_schema(section).dump()))
        << kSchema << " properties." << section << " drifted from the field table: regenerate it";
}

TEST(RecordFields, DocsRecordTableIsWhatTheTableMakes) {
  std::string doc = text_of(kRecordDoc);
  size_t begin = doc.find(kBegin), end = doc.find(kEnd);
  ASSERT_NE(begin, std::string::npos) << kRecordDoc << " lacks " << kBegin;
  ASSERT_NE(end, std::string::npos) << kRecordDoc << " lacks " << kEnd;
  begin += std::string(kBegin).size();
  if (updating()) {
    std::ofstream(kRecordDoc) << doc.substr(0, begin) + record_fields_markdown() + doc.substr(end);
    GTEST_SKIP() << "wrote " << kRecordDoc;
  }
  EXPECT_EQ(doc.substr(begin, end - begin), record_fields_markdown())
      << kRecordDoc << "'s table of figures drifted from the field table: regenerate it";
}

}  // namespace
}  // namespace c1m
