#include "sim/latency_histogram.hpp"
#include "sim/rng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace pvsim;

TEST(LatencyHistogram, EveryBucketIsNarrowerThanTwoPercentOfItsValue)
{
  for (std::size_t i = LatencyHistogram::linear_limit_ns; i < LatencyHistogram::bucket_count - 1; ++i) {
    double lo = static_cast<double>(LatencyHistogram::lower_ns(i));
    double hi = static_cast<double>(LatencyHistogram::upper_ns(i));
    ASSERT_LE((hi - lo) / lo, 1.0 / 64 + 1e-12) << "bucket " << i;
    ASSERT_EQ(LatencyHistogram::index_of(static_cast<std::uint64_t>(lo)), i);
    ASSERT_EQ(LatencyHistogram::index_of(static_cast<std::uint64_t>(hi) - 1), i);
  }
}

TEST(LatencyHistogram, QuantilesAreWithinOnePercentOfTheExactSampleQuantiles)
{
  Rng rng(42);
  std::vector<double> xs;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    double x = std::exp(std::log(50e-6) + 1.2 * rng.normal()); // lognormal around 50 us, heavy tail
    xs.push_back(x);
    h.record(x);
  }
  std::sort(xs.begin(), xs.end());
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999}) {
    auto rank    = static_cast<std::size_t>(std::ceil(q * xs.size())) - 1;
    double exact = xs[rank];
    double got   = h.quantile_s(q);
    EXPECT_LE(std::fabs(got - exact) / exact, 0.01) << "q=" << q << " exact " << exact << " got " << got;
  }
}

TEST(LatencyHistogram, MeanMinMaxAreExact)
{
  LatencyHistogram h;
  h.record(1e-6);
  h.record(3e-6);
  h.record(8e-6);
  EXPECT_DOUBLE_EQ(h.mean_s(), 4e-6);
  EXPECT_DOUBLE_EQ(h.min_s(), 1e-6);
  EXPECT_DOUBLE_EQ(h.max_s(), 8e-6);
  EXPECT_EQ(h.count(), 3u);
}

TEST(LatencyHistogram, MemoryDoesNotGrowWithTheNumberOfSamples)
{
  LatencyHistogram h;
  auto before = h.buckets_json()["upper_ns"].size();
  for (int i = 0; i < 1000000; ++i)
    h.record(1e-6 * (1 + i % 1000));
  EXPECT_EQ(before, 0u);
  EXPECT_LE(h.buckets_json()["upper_ns"].size(), LatencyHistogram::bucket_count);
  EXPECT_EQ(sizeof(h), sizeof(LatencyHistogram)); // fixed-size buckets, allocated once
}

TEST(LatencyHistogram, MergeAddsCounts)
{
  LatencyHistogram a, b;
  a.record(10e-6);
  b.record(20e-6);
  b.record(30e-6);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_DOUBLE_EQ(a.mean_s(), 20e-6);
  EXPECT_DOUBLE_EQ(a.max_s(), 30e-6);
}
