#include "sim/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace pvsim {

std::size_t LatencyHistogram::index_of(std::uint64_t ns)
{
  if (ns < static_cast<std::uint64_t>(linear_limit_ns))
    return static_cast<std::size_t>(ns);
  int octave = 63 - std::countl_zero(ns); // ≥ 7
  if (octave >= max_octave)
    return bucket_count - 1;
  std::uint64_t sub = (ns >> (octave - sub_bits)) & ((1u << sub_bits) - 1);
  return static_cast<std::size_t>(linear_limit_ns + (octave - 7) * (1 << sub_bits) + static_cast<int>(sub));
}

std::uint64_t LatencyHistogram::lower_ns(std::size_t index)
{
  if (index < static_cast<std::size_t>(linear_limit_ns))
    return index;
  std::size_t rel   = index - linear_limit_ns;
  int octave        = 7 + static_cast<int>(rel >> sub_bits);
  std::uint64_t sub = rel & ((1u << sub_bits) - 1);
  return (std::uint64_t{1} << octave) + (sub << (octave - sub_bits));
}

std::uint64_t LatencyHistogram::upper_ns(std::size_t index)
{
  if (index < static_cast<std::size_t>(linear_limit_ns))
    return index + 1;
  std::size_t rel = index - linear_limit_ns;
  int octave      = 7 + static_cast<int>(rel >> sub_bits);
  return lower_ns(index) + (std::uint64_t{1} << (octave - sub_bits));
}

std::size_t LatencyHistogram::index_of_seconds(double seconds)
{
  double ns_d = seconds < 0 ? 0.0 : seconds * 1e9;
  return index_of(ns_d >= 9.0e15 ? std::uint64_t{9000000000000000} : static_cast<std::uint64_t>(ns_d));
}

void LatencyHistogram::record_at(std::size_t i, double seconds)
{
  if (seconds < 0)
    seconds = 0;
  if (i < first_ or i - first_ >= buckets_.size())
    cover(i, i);
  buckets_[i - first_]++;
  if (count_ == 0 or seconds < min_s_)
    min_s_ = seconds;
  if (count_ == 0 or seconds > max_s_)
    max_s_ = seconds;
  count_++;
  sum_s_ += seconds;
}

void LatencyHistogram::cover(std::size_t lo_index, std::size_t hi_index)
{
  auto block_start = [](std::size_t i) {
    return i < static_cast<std::size_t>(linear_limit_ns)
               ? std::size_t{0}
               : linear_limit_ns + ((i - linear_limit_ns) >> sub_bits << sub_bits);
  };
  auto block_end = [](std::size_t i) { // one past the block's last bucket
    return i < static_cast<std::size_t>(linear_limit_ns)
               ? static_cast<std::size_t>(linear_limit_ns)
               : linear_limit_ns + ((((i - linear_limit_ns) >> sub_bits) + 1) << sub_bits);
  };
  std::size_t lo = block_start(lo_index), hi = block_end(hi_index);
  if (not buckets_.empty()) {
    lo = std::min(lo, first_);
    hi = std::max(hi, first_ + buckets_.size());
  }
  if (lo == first_ and hi - lo == buckets_.size())
    return; // already held
  std::vector<std::uint64_t> wider(hi - lo, 0);
  std::copy(buckets_.begin(), buckets_.end(), wider.begin() + static_cast<std::ptrdiff_t>(first_ - lo));
  buckets_.swap(wider);
  first_ = lo;
}

void LatencyHistogram::reset()
{
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  sum_s_ = min_s_ = max_s_ = 0;
}

void LatencyHistogram::merge(const LatencyHistogram& other)
{
  if (other.count_ == 0)
    return;
  if (not other.buckets_.empty()) {
    cover(other.first_, other.first_ + other.buckets_.size() - 1);
    for (std::size_t k = 0; k < other.buckets_.size(); ++k)
      buckets_[other.first_ + k - first_] += other.buckets_[k];
  }
  min_s_ = count_ ? std::min(min_s_, other.min_s_) : other.min_s_;
  max_s_ = count_ ? std::max(max_s_, other.max_s_) : other.max_s_;
  count_ += other.count_;
  sum_s_ += other.sum_s_;
}

double LatencyHistogram::quantile_s(double q) const
{
  if (count_ == 0)
    return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  // Rank of the sample quantile (nearest-rank definition, as fio reports percentiles).
  auto rank          = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank               = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = first_; i < first_ + buckets_.size(); ++i) {
    seen += buckets_[i - first_];
    if (seen >= rank) {
      double mid = i < static_cast<std::size_t>(linear_limit_ns)
                       ? static_cast<double>(i) + 0.5
                       : (static_cast<double>(lower_ns(i)) + static_cast<double>(upper_ns(i))) / 2;
      return std::clamp(mid * 1e-9, min_s_, max_s_);
    }
  }
  return max_s_;
}

nlohmann::json LatencyHistogram::buckets_json() const
{
  nlohmann::json upper = nlohmann::json::array();
  nlohmann::json count = nlohmann::json::array();
  for (std::size_t i = first_; i < first_ + buckets_.size(); ++i) {
    if (buckets_[i - first_] == 0)
      continue;
    upper.push_back(upper_ns(i));
    count.push_back(buckets_[i - first_]);
  }
  return {{"upper_ns", upper}, {"count", count}};
}

} // namespace pvsim
