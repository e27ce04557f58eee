/* pvsim: one token bucket of Firecracker's rate limiter (src/vmm/src/rate_limiter/mod.rs, TokenBucket, main at
 * 81b38b9, the same since v1.0): `size` tokens refilled continuously over `refill_time`, plus a `one_time_burst`
 * spent first and never refilled. The bucket starts full. Refill is lazy, as in TokenBucket::reduce(): only when a
 * reduction finds too few tokens does auto_replenish() add elapsed × size / refill_time tokens (whole tokens; the
 * time of the fraction left over is kept), capped at size, or refill it completely when a whole refill_time went by.
 * Times are integer nanoseconds, as Instant is; the arithmetic divides by gcd(size, refill_time_ns) first, as
 * TokenBucket::new() does. */
#pragma once

#include <cstdint>

namespace pvsim {

class TokenBucket {
public:
  enum class Reduction { success, failure, over_consumption };

  /** size 0 or refill_time 0: no bucket (TokenBucket::new returns None), every reduction succeeds. */
  TokenBucket(std::uint64_t size, std::uint64_t one_time_burst, std::uint64_t refill_time_ns);

  bool enabled() const { return size_ > 0; }
  /** TokenBucket::reduce at time now_ns; with over_consumption, *ratio = tokens beyond the budget / size. */
  Reduction reduce(std::uint64_t tokens, std::uint64_t now_ns, double* ratio);
  /** TokenBucket::force_replenish: tokens given back (to the burst while it lasts). */
  void force_replenish(std::uint64_t tokens);

  std::uint64_t budget() const { return budget_; }
  std::uint64_t one_time_burst() const { return one_time_burst_; }
  std::uint64_t refill_time_ns() const { return refill_time_ns_; }

private:
  void auto_replenish(std::uint64_t now_ns);

  std::uint64_t size_;
  std::uint64_t one_time_burst_;
  std::uint64_t initial_one_time_burst_;
  std::uint64_t refill_time_ns_;
  std::uint64_t budget_;
  std::uint64_t last_update_ns_        = 0;
  std::uint64_t processed_capacity_    = 1;
  std::uint64_t processed_refill_time_ = 1;
};

} // namespace pvsim
