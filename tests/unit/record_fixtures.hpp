// The recorded runs of tests/fixtures/records/ (base.json and patches on it, made whole by the build
// into C1M_RECORDS), read as every reader reads a record.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "core/record/record_file.hpp"

namespace c1m::test {

inline nlohmann::ordered_json fixture(const std::string& name) {
  std::string err;
  nlohmann::ordered_json r = read_record(std::string(C1M_RECORDS) + "/" + name, err);
  EXPECT_EQ(err, "") << name;
  return r;
}

}  // namespace c1m::test
