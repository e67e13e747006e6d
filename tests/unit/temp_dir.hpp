// A directory of the test's own under /tmp, removed with everything in it when the test ends.
#pragma once
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace c1m::test {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/c1m-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace c1m::test
