// The recorded runs in tests/fixtures/records/, read as every reader reads a record.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "core/record_file.hpp"

namespace c1m::test {

inline nlohmann::ordered_json fixture(const std::string& name) {
  std::string err;
  nlohmann::ordered_json r = read_record(std::string(C1M_FIXTURES) + "/records/" + name, err);
  EXPECT_EQ(err, "") << name;
  return r;
}

}  // namespace c1m::test
