#include "core/record/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace c1m {

TEST(Histogram, BucketsCoverEveryValueInOrder) {
  // Every value falls in a bucket whose [low, high) holds it, and buckets never go backwards.
  int last = -1;
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 129ull, 255ull, 256ull, 1000ull, 123456ull, 9999999ull, 1ull << 35}) {
    int b = Histogram::bucket_of(v);
    EXPECT_LE(Histogram::bucket_low(b), v) << v;
    EXPECT_GT(Histogram::bucket_high(b), v) << v;
    EXPECT_GE(b, last);
    last = b;
  }
  EXPECT_EQ(Histogram::bucket_of(UINT64_MAX), Histogram::kBuckets - 1);
}

TEST(Histogram, ExactBelow128) {
  Histogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.quantile(0.5), 50u);
  EXPECT_EQ(h.quantile(0.99), 99u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

// Records n lognormal values in H and checks its quantiles against the exact ones, within `share`.
template <typename H>
void expect_quantiles_within(double share, uint64_t seed, double mu, double sigma, int n) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(mu, sigma);
  std::vector<uint64_t> values;
  H h;
  for (int i = 0; i < n; ++i) {
    uint64_t v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    double exact = static_cast<double>(values[static_cast<size_t>(q * values.size()) - 1]);
    EXPECT_NEAR(static_cast<double>(h.quantile(q)), exact, exact * share + 1) << "q=" << q;
  }
}

TEST(Histogram, QuantilesWithinTwoPercentOfExact) { expect_quantiles_within<Histogram>(0.02, 42, 7.0, 1.5, 200000); }

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (uint64_t v = 0; v < 5000; v += 7) {
    (v % 2 ? a : b).record(v * 13);
    all.record(v * 13);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.buckets(), all.buckets());
  EXPECT_EQ(a.quantile(0.9), all.quantile(0.9));
}

TEST(Histogram, EmptyIsZeroNotGarbage) {
  Histogram h, empty;
  EXPECT_EQ(h.quantile(0.5), 0u);
  EXPECT_EQ(h.min(), 0u);
  h.record(10);
  h.merge(empty);
  EXPECT_EQ(h.min(), 10u);
  EXPECT_EQ(h.count(), 1u);
}

TEST(CoarseHistogram, BucketsCoverEveryValueWithinAnEighthOfAnOctave) {
  int last = -1;
  for (uint64_t v : {0ull, 15ull, 16ull, 17ull, 1000ull, 20000ull, 123456ull, 1ull << 33}) {
    int b = CoarseHistogram::bucket_of(v);
    EXPECT_LE(CoarseHistogram::bucket_low(b), v) << v;
    EXPECT_GT(CoarseHistogram::bucket_high(b), v) << v;
    if (v >= 16) {
      EXPECT_LE(CoarseHistogram::bucket_high(b) - CoarseHistogram::bucket_low(b), v / 8 + 1) << v;
    }
    EXPECT_GE(b, last);
    last = b;
  }
  EXPECT_EQ(CoarseHistogram::bucket_of(UINT64_MAX), CoarseHistogram::kBuckets - 1);
}

TEST(CoarseHistogram, QuantilesWithinSevenPercentOfExact) {
  expect_quantiles_within<CoarseHistogram>(0.07, 7, 8.0, 1.2, 100000);
}

// A worker's histogram is cumulative; the series takes what each second added to it.
TEST(CoarseHistogram, SinceIsWhatWasRecordedAfterTheEarlierCopy) {
  CoarseHistogram cumulative, later_only;
  for (uint64_t v = 100; v < 3000; v += 11) cumulative.record(v);
  CoarseHistogram earlier = cumulative;
  for (uint64_t v : {900ull, 25000ull, 40000ull, 41000ull}) {
    cumulative.record(v);
    later_only.record(v);
  }
  CoarseHistogram d = cumulative.since(earlier);
  EXPECT_EQ(d.buckets(), later_only.buckets());
  EXPECT_EQ(d.count(), 4u);
  EXPECT_EQ(d.sum(), later_only.sum());
  // Its bounds are its buckets' bounds: they hold the true ones.
  EXPECT_LE(d.min(), 900u);
  EXPECT_GE(d.max(), 41000u);
  EXPECT_LT(d.max(), 41000u + 41000u / 8);
  EXPECT_EQ(cumulative.since(cumulative).count(), 0u);
  EXPECT_EQ(cumulative.since(cumulative).quantile(0.99), 0u);
}

}  // namespace c1m
