#include "models/firecracker/token_bucket.hpp"

#include <algorithm>
#include <numeric>

namespace pvsim {

TokenBucket::TokenBucket(std::uint64_t size, std::uint64_t one_time_burst, std::uint64_t refill_time_ns)
    : size_(refill_time_ns == 0 ? 0 : size), one_time_burst_(one_time_burst), initial_one_time_burst_(one_time_burst),
      refill_time_ns_(refill_time_ns), budget_(size_)
{
  if (size_ > 0) {
    std::uint64_t common   = std::gcd(size_, refill_time_ns_);
    processed_capacity_    = size_ / common;
    processed_refill_time_ = refill_time_ns_ / common;
  }
}

void TokenBucket::auto_replenish(std::uint64_t now_ns)
{
  std::uint64_t delta = now_ns - last_update_ns_;
  if (delta >= refill_time_ns_) {
    budget_         = size_;
    last_update_ns_ = now_ns;
    return;
  }
  // delta < refill_time and processed_capacity <= size: the products stay far below 2^64 for real buckets (a
  // size of 1e9 bytes over 1 s: about 1e18 at worst); unsigned __int128 keeps it exact anyway.
  __extension__ using u128 = unsigned __int128;
  auto tokens = static_cast<std::uint64_t>(static_cast<u128>(delta) * processed_capacity_ / processed_refill_time_);
  auto used   = static_cast<u128>(tokens) * processed_refill_time_;
  auto adjust = static_cast<std::uint64_t>(used / processed_capacity_) + (used % processed_capacity_ != 0 ? 1 : 0);
  last_update_ns_ += adjust;
  budget_ = std::min(budget_ + tokens, size_);
}

TokenBucket::Reduction TokenBucket::reduce(std::uint64_t tokens, std::uint64_t now_ns, double* ratio)
{
  if (size_ == 0)
    return Reduction::success;
  if (one_time_burst_ > 0) {
    if (one_time_burst_ >= tokens) {
      one_time_burst_ -= tokens;
      last_update_ns_ = now_ns;
      return Reduction::success;
    }
    tokens -= one_time_burst_;
    one_time_burst_ = 0;
  }
  if (tokens > budget_) {
    auto_replenish(now_ns);
    if (tokens > size_) {
      tokens -= budget_;
      budget_ = 0;
      if (ratio)
        *ratio = static_cast<double>(tokens) / static_cast<double>(size_);
      return Reduction::over_consumption;
    }
    if (tokens > budget_)
      return Reduction::failure;
  }
  budget_ -= tokens;
  return Reduction::success;
}

void TokenBucket::force_replenish(std::uint64_t tokens)
{
  if (size_ == 0)
    return;
  if (one_time_burst_ > 0) {
    one_time_burst_ = std::min(one_time_burst_ + tokens, initial_one_time_burst_);
    return;
  }
  budget_ = std::min(budget_ + tokens, size_);
}

} // namespace pvsim
