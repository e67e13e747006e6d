#include "core/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace c1m {
namespace {
constexpr uint64_t kExact = uint64_t{1} << (Histogram::kSubBits + 1);  // 128: below this, one bucket per value
constexpr uint64_t kSub = uint64_t{1} << Histogram::kSubBits;          // 64 buckets per octave above
}  // namespace

int Histogram::bucket_of(uint64_t v) {
  if (v < kExact) return static_cast<int>(v);
  int exponent = 63 - std::countl_zero(v);         // >= 7
  uint64_t mantissa = v >> (exponent - kSubBits);  // in [64, 128)
  int b = static_cast<int>(kExact + (exponent - kSubBits - 1) * kSub + (mantissa - kSub));
  return std::min(b, kBuckets - 1);
}

uint64_t Histogram::bucket_low(int b) {
  if (b < static_cast<int>(kExact)) return static_cast<uint64_t>(b);
  int octave = (b - static_cast<int>(kExact)) / static_cast<int>(kSub);
  uint64_t mantissa = kSub + (b - kExact) % kSub;
  return mantissa << (octave + 1);
}

uint64_t Histogram::bucket_high(int b) {
  if (b < static_cast<int>(kExact)) return static_cast<uint64_t>(b) + 1;
  int octave = (b - static_cast<int>(kExact)) / static_cast<int>(kSub);
  return bucket_low(b) + (uint64_t{1} << (octave + 1));
}

void Histogram::record(uint64_t v) {
  ++buckets_[bucket_of(v)];
  ++count_;
  sum_ += v;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

void Histogram::merge(const Histogram& o) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

bool Histogram::from_sparse(const std::vector<std::pair<int, uint64_t>>& buckets, uint64_t sum, uint64_t min,
                            uint64_t max, Histogram& out) {
  out = Histogram{};
  for (auto [b, n] : buckets) {
    if (b < 0 || b >= kBuckets) return false;
    out.buckets_[b] += n;
    out.count_ += n;
  }
  if (out.count_ == 0) return true;
  if (min > max) return false;
  out.sum_ = sum;
  out.min_ = min;
  out.max_ = max;
  return true;
}

uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Rank of the wanted sample, 1-based: the smallest value with at least q of the samples at or below it.
  uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= rank) {
      uint64_t mid = (bucket_low(b) + bucket_high(b) - 1) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace c1m
