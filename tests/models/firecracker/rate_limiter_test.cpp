/* RateLimiter (models/firecracker/rate_limiter.hpp): Firecracker's per-drive limiter as Request::rate_limit uses it
 * (one op, then the data bytes): a dry bucket arms the 100 ms timer (REFILL_TIMER_DURATION) once, an
 * over-consumption succeeds and arms ratio x refill_time in whole milliseconds, bytes refused give the op back, and
 * nothing is consumed while the timer is armed. Firecracker's own tests (src/vmm/src/rate_limiter/mod.rs, mod tests,
 * at 81b38b9) with their sleeps as explicit times where they apply. */
#include "models/firecracker/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <cstdio>

using namespace pvsim;

namespace {
constexpr std::uint64_t ms = 1'000'000; // ns
constexpr std::uint64_t s  = 1'000 * ms;

TokenBucket none()
{
  return TokenBucket(0, 0, 0);
}

/** rate_limit(bytes) at now_ns: true when the request must wait; *arm_ns the timer armed now (0: none). */
bool refused(RateLimiter& rl, std::uint64_t bytes, std::uint64_t now_ns, std::uint64_t* arm_ns)
{
  return rl.rate_limit(bytes, now_ns, arm_ns);
}

void print_arm(const char* what, std::uint64_t expected_ns, std::uint64_t got_ns)
{
  std::printf("[theory] %-44s expected %llu ms  got %.6f ms  (exact)\n", what,
              static_cast<unsigned long long>(expected_ns / ms), static_cast<double>(got_ns) / 1e6);
}
} // namespace

TEST(RateLimiter, WithoutBucketsNothingIsLimited)
{
  RateLimiter rl(none(), none()); // test_rate_limiter_default
  EXPECT_FALSE(rl.enabled());
  std::uint64_t arm = 0;
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE(refused(rl, 1 << 20, 0, &arm));
  EXPECT_FALSE(rl.blocked());
}

TEST(RateLimiter, ADryBucketRefusesAndArmsTheTimerFor100ms)
{
  // test_rate_limiter_ops: 1000 ops a second; the 1001st at once is refused, and the timer is 100 ms whatever the
  // refill rate.
  RateLimiter rl(none(), TokenBucket(1000, 0, 1 * s));
  std::uint64_t arm = 0;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(refused(rl, 4096, 0, &arm)) << "op " << i;
    ASSERT_EQ(arm, 0u);
  }
  EXPECT_TRUE(refused(rl, 4096, 0, &arm));
  print_arm("timer after a failure", RateLimiter::refill_timer_ns, arm);
  EXPECT_EQ(arm, 100 * ms);
  EXPECT_TRUE(rl.blocked());
}

TEST(RateLimiter, TheTimerIsArmedOnceWhileRequestsKeepComing)
{
  RateLimiter rl(none(), TokenBucket(1, 0, 1 * s));
  std::uint64_t arm = 0;
  EXPECT_FALSE(refused(rl, 0, 0, &arm));
  EXPECT_TRUE(refused(rl, 0, 0, &arm));
  EXPECT_EQ(arm, 100 * ms);
  for (std::uint64_t t : {1 * ms, 50 * ms, 99 * ms}) {
    EXPECT_TRUE(refused(rl, 0, t, &arm));
    EXPECT_EQ(arm, 0u) << "re-armed at " << t / ms << " ms";
  }
}

TEST(RateLimiter, TheTimerFiringUnblocksAndTheRefillServesAgain)
{
  // test_rate_limiter_ops after its 110 ms wait: the handler clears the timer; 110 ms gave 110 ops.
  RateLimiter rl(none(), TokenBucket(1000, 0, 1 * s));
  std::uint64_t arm = 0;
  for (int i = 0; i < 1000; ++i)
    ASSERT_FALSE(refused(rl, 0, 0, &arm));
  EXPECT_TRUE(refused(rl, 0, 0, &arm));
  rl.timer_fired();
  EXPECT_FALSE(rl.blocked());
  for (int i = 0; i < 110; ++i)
    ASSERT_FALSE(refused(rl, 0, 110 * ms, &arm)) << "op " << i;
  EXPECT_TRUE(refused(rl, 0, 110 * ms, &arm));
}

TEST(RateLimiter, NothingIsConsumedWhileTheTimerIsArmed)
{
  // An over-consumption of the bandwidth bucket arms the timer; the next request is refused although the ops bucket
  // has 999 tokens and it carries no bytes (test_rate_limiter_overconsumption: "should fail as the timer is still
  // active").
  RateLimiter rl(TokenBucket(1000, 0, 1 * s), TokenBucket(1000, 0, 1 * s));
  std::uint64_t arm = 0;
  EXPECT_FALSE(refused(rl, 2500, 0, &arm));
  EXPECT_GT(arm, 0u);
  EXPECT_TRUE(refused(rl, 0, 200 * ms, &arm));
  EXPECT_EQ(arm, 0u);
  rl.timer_fired();
  EXPECT_FALSE(refused(rl, 0, 1500 * ms, &arm));
}

TEST(RateLimiter, OverConsumptionSucceedsAndArmsRatioTimesTheRefillTime)
{
  // test_rate_limiter_overconsumption: 2500 bytes from a full 1000-byte bucket borrow 1.5 buckets: 1500 ms; 1500
  // bytes borrow half a bucket: 500 ms.
  for (auto [bytes, expected_ms] : {std::pair<std::uint64_t, std::uint64_t>{2500, 1500}, {1500, 500}}) {
    RateLimiter rl(TokenBucket(1000, 0, 1 * s), none());
    std::uint64_t arm = 0;
    EXPECT_FALSE(refused(rl, bytes, 0, &arm)) << bytes << " bytes";
    print_arm(("timer after " + std::to_string(bytes) + " bytes").c_str(), expected_ms * ms, arm);
    EXPECT_EQ(arm, expected_ms * ms);
    EXPECT_TRUE(rl.blocked());
  }
}

TEST(RateLimiter, TheOverConsumptionTimerIsTruncatedToWholeMilliseconds)
{
  // Duration::from_millis((ratio * refill_time_ms) as u64): 1000 bytes beyond a full 3000-byte bucket refilled in
  // 1000 ms is 333.33 ms, armed as 333 ms.
  RateLimiter rl(TokenBucket(3000, 0, 1 * s), none());
  std::uint64_t arm = 0;
  EXPECT_FALSE(refused(rl, 4000, 0, &arm));
  print_arm("timer after 4000 bytes of a 3000-byte bucket", 333 * ms, arm);
  EXPECT_EQ(arm, 333 * ms);
}

TEST(RateLimiter, BytesRefusedGiveTheOpBack)
{
  // Two ops (refilled over 1000 s: none come back meanwhile) and one 4 KiB request's bytes per 100 ms. The second
  // request takes the last op, its bytes are refused, the op goes back (manual_replenish); 100 ms later the bytes
  // bucket is full again and the third request has that op. Without the give-back it would be refused.
  RateLimiter rl(TokenBucket(4096, 0, 100 * ms), TokenBucket(2, 0, 1000 * s));
  std::uint64_t arm = 0;
  EXPECT_FALSE(refused(rl, 4096, 0, &arm));
  EXPECT_TRUE(refused(rl, 4096, 0, &arm));
  EXPECT_EQ(arm, 100 * ms);
  rl.timer_fired();
  EXPECT_FALSE(refused(rl, 4096, 100 * ms, &arm));
}

TEST(RateLimiter, RequestsWithoutDataTakeOnlyAnOp)
{
  // Request::rate_limit consumes bytes for In and Out only: a request of 0 bytes never touches the bandwidth bucket.
  RateLimiter rl(TokenBucket(1000, 0, 1 * s), none());
  std::uint64_t arm = 0;
  for (int i = 0; i < 10'000; ++i)
    ASSERT_FALSE(refused(rl, 0, 0, &arm));
  EXPECT_FALSE(rl.blocked());
}

TEST(RateLimiter, AnOverConsumptionOfLessThanAMillisecondArmsNoTimerAndStaysBlocked)
{
  // One byte beyond a full 4095-byte bucket refilled in 100 ms: ratio x 100 ms = 0.02 ms, truncated to 0. Firecracker
  // arms its timerfd with a zero it_value, which disarms it (timerfd_settime(2)), and timer_active stays true: the
  // drive is never served again. The model does the same (no timer, blocked); a run with such a bucket stalls.
  RateLimiter rl(TokenBucket(4095, 0, 100 * ms), none());
  std::uint64_t arm = 1;
  EXPECT_FALSE(refused(rl, 4096, 0, &arm));
  EXPECT_EQ(arm, 0u);
  EXPECT_TRUE(rl.blocked());
}
