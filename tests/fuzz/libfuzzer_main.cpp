// libFuzzer's entry point for one target, chosen at build time (C1M_FUZZ_TARGET): make fuzz.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const c1m::fuzz::Target* target = [] {
    for (const auto& t : c1m::fuzz::targets())
      if (std::strcmp(t.name, C1M_FUZZ_TARGET) == 0) return &t;
    __builtin_trap();
  }();
  target->run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
