#include "net/tls/tls_memory.hpp"

#include <malloc.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>

namespace c1m::tls {
namespace {

LibraryMemory g_memory;
bool g_counted = false;

// What a block really takes from the heap, not what was asked: the same measure as the RSS it grows.
void count_in(void* p) {
  if (p == nullptr) return;
  g_memory.in_use += malloc_usable_size(p);
  ++g_memory.allocations;
  if (g_memory.in_use > g_memory.peak) g_memory.peak = g_memory.in_use;
}

void count_out(void* p) {
  if (p == nullptr) return;
  g_memory.in_use -= malloc_usable_size(p);
  --g_memory.allocations;
}

void* counted_malloc(size_t n, const char*, int) {
  void* p = std::malloc(n);
  count_in(p);
  return p;
}

void* counted_realloc(void* old, size_t n, const char*, int) {
  if (n == 0) {  // glibc's realloc would free it and return null: the same, counted
    count_out(old);
    std::free(old);
    return nullptr;
  }
  size_t before = old != nullptr ? malloc_usable_size(old) : 0;
  void* p = std::realloc(old, n);
  if (p == nullptr) return nullptr;  // the old block stays, counted as it was
  if (old != nullptr) {
    g_memory.in_use -= before;
    --g_memory.allocations;
  }
  count_in(p);
  return p;
}

void counted_free(void* p, const char*, int) {
  count_out(p);
  std::free(p);
}

}  // namespace

bool count_library_memory() {
  if (!g_counted) g_counted = CRYPTO_set_mem_functions(counted_malloc, counted_realloc, counted_free) == 1;
  return g_counted;
}

bool library_memory_counted() { return g_counted; }
LibraryMemory library_memory() { return g_memory; }
void reset_library_peak() { g_memory.peak = g_memory.in_use; }

void LibraryMeter::read_into(TlsCounters& c, bool at_peak) const {
  c.library_bytes = g_memory.in_use - std::min(g_memory.in_use, baseline_);
  c.library_peak_bytes = g_memory.peak - std::min(g_memory.peak, baseline_);
  if (at_peak) c.library_bytes_at_peak = c.library_bytes;
}

}  // namespace c1m::tls
