// The TLS library's own heap, counted exactly: OpenSSL lets a program install its allocation
// functions (CRYPTO_set_mem_functions), so every byte it holds passes through here. Each worker is a
// single-threaded process of its own, so the counts are its own and need no lock.
#pragma once
#include <cstdint>

#include "core/plan/counters.hpp"

namespace c1m::tls {

struct LibraryMemory {
  uint64_t in_use = 0;       // bytes the library holds now (malloc_usable_size of each block)
  uint64_t peak = 0;         // the most it held at once since the last reset_peak()
  uint64_t allocations = 0;  // blocks it holds now
};

// Installs the counting functions. Only before the library has allocated anything (at the very
// start of main): false if it is too late, and then nothing is counted.
bool count_library_memory();
bool library_memory_counted();
LibraryMemory library_memory();
void reset_library_peak();

// A worker's view of the library's heap: what it holds above what it held when the worker started
// (the inherited context's), into the worker's counters at each report.
class LibraryMeter {
 public:
  LibraryMeter() : baseline_(library_memory().in_use) { reset_library_peak(); }
  // at_peak: the connections are at their peak now, so this is also the reading at the peak.
  void read_into(TlsCounters& c, bool at_peak) const;

 private:
  uint64_t baseline_;
};

}  // namespace c1m::tls
