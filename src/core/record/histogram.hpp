// Log-linear histograms of microsecond values: exact below 2^(SubBits+1) us, then 2^SubBits buckets
// per power of two. Fixed size, so a million samples cost no more memory than one, and histograms
// from many workers merge by adding buckets.
//  - Histogram (64 buckets an octave, at most 1.6% relative error, 16 KiB): a run's latencies.
//  - CoarseHistogram (8 an octave, at most 12.5%, 2 KiB): what crosses from a worker twice a second,
//    so the series can say how the pings' round trips went second by second.
#pragma once
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace c1m {

template <int SubBits, int BucketCount>
class LogHistogram {
 public:
  static constexpr int kSubBits = SubBits;
  static constexpr int kBuckets = BucketCount;

  void record(uint64_t value_us);
  void merge(const LogHistogram& other);
  // What was recorded after `earlier` (an older copy of this cumulative histogram). Its min and max
  // are those of its lowest and highest buckets: the exact ones of a span are not kept.
  LogHistogram since(const LogHistogram& earlier) const;

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
                          uint64_t max, LogHistogram& out);

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

using Histogram = LogHistogram<6, 2048>;       // up to about 19 hours
using CoarseHistogram = LogHistogram<3, 256>;  // up to about 4.7 hours

extern template class LogHistogram<6, 2048>;
extern template class LogHistogram<3, 256>;

}  // namespace c1m
