#include "models/firecracker/rate_limiter.hpp"

#include <cmath>

namespace pvsim {

bool RateLimiter::consume(TokenBucket& bucket, std::uint64_t tokens, std::uint64_t now_ns, std::uint64_t* arm_ns)
{
  if (timer_active_)
    return false;
  double ratio = 0;
  switch (bucket.reduce(tokens, now_ns, &ratio)) {
  case TokenBucket::Reduction::failure:
    timer_active_ = true;
    *arm_ns       = refill_timer_ns;
    return false;
  case TokenBucket::Reduction::over_consumption:
    timer_active_ = true;
    // Duration::from_millis((ratio * refill_time_ms) as u64): whole milliseconds, truncated.
    *arm_ns = static_cast<std::uint64_t>(ratio * static_cast<double>(bucket.refill_time_ns() / 1'000'000)) * 1'000'000;
    return true;
  case TokenBucket::Reduction::success:
    break;
  }
  return true;
}

bool RateLimiter::rate_limit(std::uint64_t bytes, std::uint64_t now_ns, std::uint64_t* arm_ns)
{
  *arm_ns = 0;
  if (not consume(ops_, 1, now_ns, arm_ns))
    return true;
  if (bytes > 0 and not consume(bandwidth_, bytes, now_ns, arm_ns)) {
    ops_.force_replenish(1);
    return true;
  }
  return false;
}

} // namespace pvsim
