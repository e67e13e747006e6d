// Replays inputs through a fuzz target: `fuzz_replay TARGET FILE_OR_DIR...`. make test runs it over
// tests/fuzz/corpus/TARGET (the kept corpus and every crash input found, each once a crash) under
// ASan/UBSan; a crash or sanitizer report fails the test, and the count says how many ran.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "targets.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_replay TARGET FILE_OR_DIR...\n");
    return 2;
  }
  const c1m::fuzz::Target* target = nullptr;
  for (const auto& t : c1m::fuzz::targets())
    if (std::strcmp(t.name, argv[1]) == 0) target = &t;
  if (!target) {
    std::fprintf(stderr, "fuzz_replay: no target %s\n", argv[1]);
    return 2;
  }
  size_t ran = 0;
  auto replay = [&](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    target->run(ss.str());
    ++ran;
  };
  for (int i = 2; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file()) replay(e.path());
    } else {
      replay(p);
    }
  }
  std::printf("fuzz_replay %s: %zu inputs, no crash\n", target->name, ran);
  return ran > 0 ? 0 : 1;  // an empty corpus proves nothing
}
