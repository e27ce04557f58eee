#include "sim/histogram_batch.hpp"
#include "sim/latency_histogram.hpp"
#include "sim/rng.hpp"
#include "sim/statistics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
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
  // Buckets only over the octaves seen: 1 us to 1 ms is 2^9.9 .. 2^19.9 ns, 11 octaves of 64, not all 3008.
  EXPECT_EQ(h.buckets_held(), 11u * 64u);
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

// Buckets exist only over the octaves seen: widening that window, downwards, upwards or by merging, must give the
// same histogram as if every bucket had been there from the start.

TEST(LatencyHistogram, TheOrderOfTheValuesDoesNotChangeTheBuckets)
{
  std::vector<double> v{1e-3, 50e-9, 3600.0, 20e-6, 127e-9, 128e-9, 1e-3, 7.5e-6};
  LatencyHistogram forward, backward;
  for (double x : v)
    forward.record(x);
  for (auto it = v.rbegin(); it != v.rend(); ++it)
    backward.record(*it);
  EXPECT_EQ(forward.buckets_json(), backward.buckets_json());
  EXPECT_EQ(forward.quantile_s(0.5), backward.quantile_s(0.5));
  EXPECT_EQ(forward.buckets_json()["count"].size(), 7u); // the two 1 ms values share a bucket
}

TEST(LatencyHistogram, MergingHistogramsOfDisjointRangesEqualsRecordingEverythingInOne)
{
  LatencyHistogram low, high, all;
  for (int i = 0; i < 100; ++i) {
    low.record(100e-9 + i * 1e-9); // the linear part and the first octaves
    high.record(5e-3 + i * 1e-4);  // milliseconds
    all.record(100e-9 + i * 1e-9);
    all.record(5e-3 + i * 1e-4);
  }
  LatencyHistogram a = low, b = high;
  a.merge(high); // the window grows upwards
  b.merge(low);  // and downwards
  EXPECT_EQ(a.buckets_json(), all.buckets_json());
  EXPECT_EQ(b.buckets_json(), all.buckets_json());
  for (double q : {0.25, 0.5, 0.75, 0.99})
    EXPECT_EQ(b.quantile_s(q), all.quantile_s(q)) << "q=" << q;
}

namespace {
bool same_histogram(const LatencyHistogram& a, const LatencyHistogram& b)
{
  return a.count() == b.count() and a.mean_s() == b.mean_s() and a.min_s() == b.min_s() and a.max_s() == b.max_s() and
         a.buckets_json() == b.buckets_json();
}
} // namespace

TEST(HistogramBatch, ABatchGivesEveryHistogramWhatRecordingEachValueAtOnceGives)
{
  // Values for 40 histograms interleaved, over several fills of the batch (and a partial last one): each histogram
  // must come out bit for bit as if its values had been recorded one by one, sum included (same order of additions).
  Rng rng(7);
  std::vector<LatencyHistogram> direct(40), batched(40);
  HistogramBatch batch;
  batch.set_batching(true);
  for (int i = 0; i < 5000; ++i) {
    auto h   = static_cast<std::size_t>(rng.uniform() * 40);
    double x = std::exp(std::log(30e-6) + 0.8 * rng.normal());
    direct[h].record(x);
    batch.record(batched[h], x);
  }
  EXPECT_GT(batch.waiting(), 0u) << "the last values must still wait, or the flush below tests nothing";
  batch.flush();
  EXPECT_EQ(batch.waiting(), 0u);
  for (std::size_t h = 0; h < direct.size(); ++h)
    EXPECT_TRUE(same_histogram(direct[h], batched[h])) << "histogram " << h;
}

TEST(HistogramBatch, AValueWaitsUntilTheFlushWhenBatchingAndIsRecordedAtOnceWhenNot)
{
  LatencyHistogram h;
  HistogramBatch batch;
  batch.record(h, 10e-6);
  EXPECT_EQ(h.count(), 1u) << "batching is off by default";
  batch.set_batching(true);
  batch.record(h, 20e-6);
  EXPECT_EQ(h.count(), 1u);
  batch.set_batching(false); // turning batching off flushes what waits
  EXPECT_EQ(h.count(), 2u);
  EXPECT_DOUBLE_EQ(h.max_s(), 20e-6);
}

namespace {
/** A job's report after completions of the given directions (latency 10, 11, 12 ... µs), batched or not. */
nlohmann::json job_report(const std::string& directions, bool batching)
{
  Probe<JobEvent> probe;
  HistogramBatch batch;
  batch.set_batching(batching);
  JobStats stats(probe, batch);
  std::vector<Request> requests(directions.size());
  for (std::size_t i = 0; i < directions.size(); ++i) {
    requests[i].op         = directions[i] == 'r' ? Op::read : Op::write;
    requests[i].size_bytes = 4096;
    requests[i].submit_s   = 0;
    probe.emit({(10.0 + static_cast<double>(i)) * 1e-6, &requests[i]});
  }
  return stats.report(1.0);
}

/** What the report's read and write parts must be: each direction's latencies recorded on their own. */
LatencyHistogram direction(const std::string& directions, char which)
{
  LatencyHistogram h;
  for (std::size_t i = 0; i < directions.size(); ++i)
    if (directions[i] == which)
      h.record((10.0 + static_cast<double>(i)) * 1e-6);
  return h;
}
} // namespace

TEST(JobStats, EachDirectionsLatenciesAreItsOwnWhetherTheJobDoesOneOrBothAndWhenTheOtherStarts)
{
  for (const std::string dirs : {"rrrrrr", "wwww", "rrrwwr", "wrrrrw", "r"}) {
    for (bool batching : {false, true}) {
      nlohmann::json rep = job_report(dirs, batching);
      for (char which : {'r', 'w'}) {
        LatencyHistogram want = direction(dirs, which);
        const char* key       = which == 'r' ? "read" : "write";
        if (want.count() == 0) {
          EXPECT_FALSE(rep.contains(key)) << dirs << ": no " << key << " part";
          continue;
        }
        ASSERT_TRUE(rep.contains(key)) << dirs;
        EXPECT_EQ(rep[key]["latency_us"], latency_summary_us(want)) << dirs << " " << key << " batching " << batching;
      }
      EXPECT_EQ(rep["requests"].get<std::uint64_t>(), dirs.size());
    }
  }
}
