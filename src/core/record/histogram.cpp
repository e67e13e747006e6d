#include "core/record/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace c1m {
namespace {
template <int SubBits>
constexpr uint64_t kExact = uint64_t{1} << (SubBits + 1);  // below this, one bucket per value
template <int SubBits>
constexpr uint64_t kSub = uint64_t{1} << SubBits;  // buckets per octave above
}  // namespace

template <int S, int B>
int LogHistogram<S, B>::bucket_of(uint64_t v) {
  if (v < kExact<S>) return static_cast<int>(v);
  int exponent = 63 - std::countl_zero(v);  // >= S + 1
  uint64_t mantissa = v >> (exponent - S);  // in [kSub, 2 kSub)
  uint64_t b = kExact<S> + static_cast<uint64_t>(exponent - S - 1) * kSub<S> + (mantissa - kSub<S>);
  return static_cast<int>(std::min<uint64_t>(b, B - 1));
}

template <int S, int B>
uint64_t LogHistogram<S, B>::bucket_low(int b) {
  if (b < static_cast<int>(kExact<S>)) return static_cast<uint64_t>(b);
  int octave = (b - static_cast<int>(kExact<S>)) / static_cast<int>(kSub<S>);
  uint64_t mantissa = kSub<S> + (b - kExact<S>) % kSub<S>;
  return mantissa << (octave + 1);
}

template <int S, int B>
uint64_t LogHistogram<S, B>::bucket_high(int b) {
  if (b < static_cast<int>(kExact<S>)) return static_cast<uint64_t>(b) + 1;
  int octave = (b - static_cast<int>(kExact<S>)) / static_cast<int>(kSub<S>);
  return bucket_low(b) + (uint64_t{1} << (octave + 1));
}

template <int S, int B>
void LogHistogram<S, B>::record(uint64_t v) {
  ++buckets_[bucket_of(v)];
  ++count_;
  sum_ += v;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

template <int S, int B>
void LogHistogram<S, B>::merge(const LogHistogram& o) {
  for (int i = 0; i < B; ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

template <int S, int B>
LogHistogram<S, B> LogHistogram<S, B>::since(const LogHistogram& earlier) const {
  LogHistogram d;
  for (int i = 0; i < B; ++i) {
    // `earlier` must be an older copy; were a count lower in this one, it is taken whole, not wrapped.
    uint64_t n = buckets_[i] >= earlier.buckets_[i] ? buckets_[i] - earlier.buckets_[i] : buckets_[i];
    if (n == 0) continue;
    d.buckets_[i] = n;
    d.count_ += n;
    if (d.min_ == UINT64_MAX) d.min_ = bucket_low(i);
    d.max_ = bucket_high(i) - 1;
  }
  d.sum_ = sum_ >= earlier.sum_ ? sum_ - earlier.sum_ : sum_;
  return d;
}

template <int S, int B>
bool LogHistogram<S, B>::from_sparse(const std::vector<std::pair<int, uint64_t>>& buckets, uint64_t sum, uint64_t min,
                                     uint64_t max, LogHistogram& out) {
  out = LogHistogram{};
  for (auto [b, n] : buckets) {
    if (b < 0 || b >= B) return false;
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

template <int S, int B>
uint64_t LogHistogram<S, B>::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Rank of the wanted sample, 1-based: the smallest value with at least q of the samples at or below it.
  uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int b = 0; b < B; ++b) {
    seen += buckets_[b];
    if (seen >= rank) {
      uint64_t mid = (bucket_low(b) + bucket_high(b) - 1) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

template class LogHistogram<6, 2048>;
template class LogHistogram<3, 256>;

}  // namespace c1m
