// Every record this repository keeps (the test records, results/baselines/) reads to the same values
// from one version of the record code to the next: each file's typed read-back, written again, is
// pinned by a digest in tests/fixtures/readback.txt (or the refusal it gets, word for word). A change
// that means to alter what a record reads as regenerates the file and says why in its commit:
//   C1M_UPDATE_READBACK=1 build/tests/c1m_unit_tests --gtest_filter='Readback.*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/record/run_record.hpp"

namespace c1m {
namespace {

namespace fs = std::filesystem;

const fs::path kRepo = fs::path(C1M_FIXTURES) / ".." / "..";
const fs::path kPinned = fs::path(C1M_FIXTURES) / "readback.txt";

// FNV-1a, 64 bits: stable across builds and hosts (std::hash is not).
std::string digest(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

// The test records as the build made them whole (base.json and its patches), then the baselines.
std::vector<std::pair<std::string, fs::path>> kept_records() {
  std::vector<std::pair<std::string, fs::path>> files;
  for (const auto& [dir, name_under] : {std::pair{fs::path(C1M_RECORDS), std::string("tests/fixtures/records/")},
                                        std::pair{kRepo / "results/baselines", std::string("results/baselines/")}})
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".json")
        files.emplace_back(name_under + fs::relative(e.path(), dir).string(), e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// "<its name> <digest of the record written again>", or "... refused: <why>".
std::string read_back(const std::string& name, const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string what, error;
  ojson j = ojson::parse(text.str(), nullptr, false);
  if (j.is_discarded()) {
    what = "not JSON";
  } else if (auto r = RunRecord::from_json(j, error)) {
    what = digest(r->to_json().dump());
  } else {
    what = "refused: " + error;
  }
  return name + " " + what;
}

TEST(Readback, EveryKeptRecordReadsAsItDidBefore) {
  std::string now;
  for (const auto& [name, file] : kept_records()) now += read_back(name, file) + "\n";
  if (std::getenv("C1M_UPDATE_READBACK")) {
    std::ofstream(kPinned) << now;
    GTEST_SKIP() << "wrote " << kPinned;
  }
  std::ifstream in(kPinned);
  std::stringstream pinned;
  pinned << in.rdbuf();
  ASSERT_FALSE(pinned.str().empty()) << kPinned << " is missing";
  EXPECT_EQ(now, pinned.str()) << "a kept record reads differently now; if that is meant, regenerate " << kPinned;
}

}  // namespace
}  // namespace c1m
