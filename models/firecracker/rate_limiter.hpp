/* pvsim: Firecracker's per-drive rate limiter (src/vmm/src/rate_limiter/mod.rs, RateLimiter, main at 81b38b9): a
 * bandwidth bucket (bytes) and an ops bucket (requests), either absent. consume() fails while the limiter's timer is
 * armed; a bucket that runs dry arms it for REFILL_TIMER_DURATION (100 ms, whatever the refill rate), one asking
 * more than its size (OverConsumption) succeeds and arms it for ratio × refill_time. Request::rate_limit()
 * (block/virtio/request.rs) takes one op, then the data length in bytes for reads and writes, giving the op back
 * (manual_replenish) when the bytes are refused. */
#pragma once

#include "models/firecracker/token_bucket.hpp"

#include <cstdint>

namespace pvsim {

class RateLimiter {
public:
  static constexpr std::uint64_t refill_timer_ns = 100'000'000; // REFILL_TIMER_DURATION

  RateLimiter(TokenBucket bandwidth, TokenBucket ops) : bandwidth_(bandwidth), ops_(ops) {}

  bool enabled() const { return bandwidth_.enabled() or ops_.enabled(); }
  /** Request::rate_limit: true when the request must wait (the caller undoes its pop). When the timer gets armed,
   * *arm_ns says for how long (0: not armed now). */
  bool rate_limit(std::uint64_t bytes, std::uint64_t now_ns, std::uint64_t* arm_ns);
  bool blocked() const { return timer_active_; }
  /** The timer fired (process_rate_limiter_event: event_handler() clears timer_active). */
  void timer_fired() { timer_active_ = false; }

private:
  bool consume(TokenBucket& bucket, std::uint64_t tokens, std::uint64_t now_ns, std::uint64_t* arm_ns);

  TokenBucket bandwidth_;
  TokenBucket ops_;
  bool timer_active_ = false;
};

} // namespace pvsim
