/* pvsim: a streaming log-linear latency histogram (HdrHistogram-like), constant memory.
 *
 * Values are recorded in nanoseconds. Below 128 ns every nanosecond has its bucket; above, every power of two is
 * split into 64 equal sub-buckets, so a bucket is at most 1/64 of its lower edge wide and the midpoint that
 * stands for it is within 0.79 % of any value in it. Range: up to 2^52 ns (about 52 days). The exact count,
 * sum, minimum and maximum are kept beside the buckets, so the mean is exact.
 * Memory: only the octaves between the lowest and the highest value seen have buckets (one contiguous block, grown a
 * whole octave at a time), some 2 KB for latencies that span four octaves instead of the 24 KB of every bucket: a
 * host of thousands of queues and jobs keeps its histograms' hot lines on few pages. */
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <vector>

namespace pvsim {

class LatencyHistogram {
public:
  static constexpr int sub_bits             = 6; // 64 sub-buckets per octave
  static constexpr int linear_limit_ns      = 128;
  static constexpr int max_octave           = 52;
  static constexpr std::size_t bucket_count = linear_limit_ns + (max_octave - 7) * (1 << sub_bits);

  void record(double seconds) { record_at(index_of_seconds(seconds), seconds); }
  /** record(), given the value's bucket (index_of_seconds(seconds)). */
  void record_at(std::size_t index, double seconds);
  /** Asks the CPU to fetch bucket `index` (no effect outside the buckets held): a caller with several values to
   * record issues this a few values ahead, so that the buckets' cache misses overlap. */
  void prefetch_bucket(std::size_t index) const
  {
    if (index >= first_ and index - first_ < buckets_.size())
      __builtin_prefetch(&buckets_[index - first_], 1);
  }
  void reset();
  void merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  double mean_s() const { return count_ ? sum_s_ / static_cast<double>(count_) : 0.0; }
  double min_s() const { return count_ ? min_s_ : 0.0; }
  double max_s() const { return count_ ? max_s_ : 0.0; }
  /** The q-quantile (q in [0,1]), within 0.79 % of the exact sample quantile. */
  double quantile_s(double q) const;

  /** Bucket index of a value in ns, and the bucket's [lower, upper) edges in ns. */
  static std::size_t index_of(std::uint64_t ns);
  /** Bucket index of a value in seconds (negative values count as 0). */
  static std::size_t index_of_seconds(double seconds);
  static std::uint64_t lower_ns(std::size_t index);
  static std::uint64_t upper_ns(std::size_t index);

  /** Buckets held in memory: those of the octaves between the lowest and the highest value seen. */
  std::size_t buckets_held() const { return buckets_.size(); }

  /** Non-empty buckets as {"upper_ns": [...], "count": [...]} (enough to draw a CDF). */
  nlohmann::json buckets_json() const;

private:
  /** Widens the window, in one step, to hold buckets `lo_index` to `hi_index` (whole octaves; the linear part is
   * one block). */
  void cover(std::size_t lo_index, std::size_t hi_index);
  std::vector<std::uint64_t> buckets_; // buckets first_ .. first_ + size - 1
  std::size_t first_   = 0;
  std::uint64_t count_ = 0;
  double sum_s_        = 0;
  double min_s_        = 0;
  double max_s_        = 0;
};

} // namespace pvsim
