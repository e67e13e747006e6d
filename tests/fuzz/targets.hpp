// The fuzz targets, by name (tests/fuzz/targets.cpp).
#pragma once
#include <string_view>
#include <vector>

namespace c1m::fuzz {

struct Target {
  const char* name;
  void (*run)(std::string_view input);
};

const std::vector<Target>& targets();

}  // namespace c1m::fuzz
