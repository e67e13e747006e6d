// A log-linear histogram of microsecond values: exact below 128 us, then 64 buckets per power of two
// (at most 1.6% relative error), up to about 19 hours. Fixed size (16 KiB), so a million pings cost
// no more memory than one, and histograms from many workers merge by adding buckets.
#pragma once
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace c1m {

class Histogram {
 public:
  static constexpr int kSubBits = 6;
  static constexpr int kBuckets = 2048;

  void record(uint64_t value_us);
  void merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
  // The value at quantile q in [0, 1]: the midpoint of the bucket holding it, clamped to [min, max].
  uint64_t quantile(double q) const;

  static int bucket_of(uint64_t value_us);
  static uint64_t bucket_low(int bucket);
  static uint64_t bucket_high(int bucket);  // exclusive

  const std::array<uint64_t, kBuckets>& buckets() const { return buckets_; }
  uint64_t sum() const { return sum_; }
  // Rebuilds a histogram from its non-empty buckets (as a record stores them); false if inconsistent.
  static bool from_sparse(const std::vector<std::pair<int, uint64_t>>& buckets, uint64_t sum, uint64_t min,
                          uint64_t max, Histogram& out);

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace c1m
