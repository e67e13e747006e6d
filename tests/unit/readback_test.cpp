// Every record this repository keeps (the fixtures, results/baselines/) reads to the same values
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

#include "core/run_record.hpp"

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

std::vector<fs::path> kept_records() {
  std::vector<fs::path> files;
  for (const fs::path& dir : {kRepo / "tests/fixtures/records", kRepo / "results/baselines"})
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// "<path from the repository> <digest of the record written again>", or "... refused: <why>".
std::string read_back(const fs::path& file) {
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
  return fs::relative(file, kRepo).string() + " " + what;
}

TEST(Readback, EveryKeptRecordReadsAsItDidBefore) {
  std::string now;
  for (const fs::path& f : kept_records()) now += read_back(f) + "\n";
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
