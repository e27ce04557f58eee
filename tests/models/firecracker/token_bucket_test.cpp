/* TokenBucket (models/firecracker/token_bucket.hpp), the bucket of Firecracker's rate limiter: starts full, spends
 * the one-time burst first and never refills it, refills lazily (only when a reduction finds too few tokens) by whole
 * tokens of elapsed x size / refill_time, keeping the time of the fraction left over, capped at size, and completely
 * after a whole refill_time. Where Firecracker's own unit tests (src/vmm/src/rate_limiter/mod.rs, mod tests, at
 * 81b38b9) apply, the same numbers: their sleeps become explicit times here. */
#include "models/firecracker/token_bucket.hpp"

#include <gtest/gtest.h>

#include <cstdio>

using namespace pvsim;

namespace {
constexpr std::uint64_t ms = 1'000'000; // ns
constexpr std::uint64_t s  = 1'000 * ms;

TokenBucket::Reduction reduce(TokenBucket& tb, std::uint64_t tokens, std::uint64_t now_ns)
{
  return tb.reduce(tokens, now_ns, nullptr);
}
} // namespace

TEST(TokenBucket, StartsFull)
{
  TokenBucket tb(1000, 0, 1 * s); // test_token_bucket_create
  EXPECT_TRUE(tb.enabled());
  EXPECT_EQ(tb.budget(), 1000u);
  EXPECT_EQ(tb.one_time_burst(), 0u);
}

TEST(TokenBucket, SizeOrRefillTimeZeroIsNoBucket)
{
  // TokenBucket::new returns None for either (test_token_bucket_create); every reduction then succeeds.
  TokenBucket no_size(0, 1234, 1 * s);
  TokenBucket no_time(100, 1234, 0);
  EXPECT_FALSE(no_size.enabled());
  EXPECT_FALSE(no_time.enabled());
  EXPECT_EQ(reduce(no_size, 1'000'000, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(reduce(no_time, 1'000'000, 0), TokenBucket::Reduction::success);
}

TEST(TokenBucket, OneTimeBurstIsSpentBeforeTheBudget)
{
  // test_token_bucket_reduce, second bucket: size 1000, burst 1100, refill 1 s.
  TokenBucket tb(1000, 1100, 1 * s);
  EXPECT_EQ(reduce(tb, 1000, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(tb.one_time_burst(), 100u);
  EXPECT_EQ(tb.budget(), 1000u); // untouched while the burst covers it
  EXPECT_EQ(reduce(tb, 500, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(tb.one_time_burst(), 0u);
  EXPECT_EQ(tb.budget(), 600u); // the burst's last 100, then 400 of the budget
}

TEST(TokenBucket, OneTimeBurstIsNeverRefilled)
{
  TokenBucket tb(10, 5, 1 * s);
  EXPECT_EQ(reduce(tb, 5, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(tb.one_time_burst(), 0u);
  EXPECT_EQ(reduce(tb, 10, 0), TokenBucket::Reduction::success); // the budget
  // Ten refill times later a failing reduction refills the budget to its size, not the burst.
  EXPECT_EQ(reduce(tb, 11, 10 * s), TokenBucket::Reduction::over_consumption);
  EXPECT_EQ(tb.one_time_burst(), 0u);
}

TEST(TokenBucket, SpendingTheBurstRestartsTheRefillClock)
{
  // TokenBucket::reduce sets last_update when the burst covers a reduction: the time before it gives no tokens. The
  // burst goes at 900 ms, the budget right after; at 1000 ms the refill counts 100 ms (1 token), not a whole refill
  // time since the start (a full bucket).
  TokenBucket tb(10, 5, 1 * s);
  EXPECT_EQ(reduce(tb, 5, 900 * ms), TokenBucket::Reduction::success);
  EXPECT_EQ(reduce(tb, 10, 900 * ms), TokenBucket::Reduction::success);
  EXPECT_EQ(reduce(tb, 2, 1000 * ms), TokenBucket::Reduction::failure);
  EXPECT_EQ(tb.budget(), 1u);
}

TEST(TokenBucket, GivenBackTokensGoToTheBurstWhileItLastsCappedAtItsSize)
{
  // force_replenish (RateLimiter::manual_replenish): to the burst while any is left, never above the initial burst.
  TokenBucket tb(1000, 100, 1 * s);
  EXPECT_EQ(reduce(tb, 40, 0), TokenBucket::Reduction::success);
  tb.force_replenish(1000);
  EXPECT_EQ(tb.one_time_burst(), 100u);
  EXPECT_EQ(tb.budget(), 1000u);
  // test_rate_limiter_manual_replenish: without a burst, to the budget: 1000 - 123 + 23 = 900.
  TokenBucket plain(1000, 0, 1 * s);
  EXPECT_EQ(reduce(plain, 123, 0), TokenBucket::Reduction::success);
  plain.force_replenish(23);
  EXPECT_EQ(plain.budget(), 900u);
}

TEST(TokenBucket, RefillsOnlyWhenAReductionFindsTooFewTokens)
{
  // Size 1000 over 1 s: 1 token a millisecond. 500 ms later a reduction the budget covers takes from the budget as
  // it stands (500 left), without adding the 500 tokens the time gave; the next one that does not fit refills.
  TokenBucket tb(1000, 0, 1 * s);
  EXPECT_EQ(reduce(tb, 500, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(reduce(tb, 100, 500 * ms), TokenBucket::Reduction::success);
  EXPECT_EQ(tb.budget(), 400u);
  EXPECT_EQ(reduce(tb, 600, 500 * ms), TokenBucket::Reduction::success); // 400 + 500 refilled, then - 600
  EXPECT_EQ(tb.budget(), 300u);
}

TEST(TokenBucket, RefillAddsElapsedTimesSizeOverRefillTimeInWholeTokens)
{
  // test_token_bucket_auto_replenish_one: size 10 over 1 s, one token every 100 ms; a failing reduction of 11 - budget
  // tokens shows what the refill gave.
  TokenBucket tb(10, 0, 1 * s);
  EXPECT_EQ(reduce(tb, 10, 0), TokenBucket::Reduction::success);
  struct Step {
    std::uint64_t at_ns, budget;
  };
  for (Step st : {Step{10 * ms, 0}, Step{20 * ms, 0}, Step{100 * ms, 1}, Step{500 * ms, 5}}) {
    EXPECT_EQ(reduce(tb, 10, st.at_ns), TokenBucket::Reduction::failure);
    std::printf("[theory] budget after %3llu ms: expected %llu  got %llu\n",
                static_cast<unsigned long long>(st.at_ns / ms), static_cast<unsigned long long>(st.budget),
                static_cast<unsigned long long>(tb.budget()));
    EXPECT_EQ(tb.budget(), st.budget) << "at " << st.at_ns / ms << " ms";
  }
}

TEST(TokenBucket, RefillKeepsTheTimeOfTheFractionLeftOver)
{
  // 150 ms give 1.5 tokens: 1 is added and the last update moves by the 100 ms that token took, so 50 ms later the
  // remaining half and the new half make one more (not 0.5 twice, lost).
  TokenBucket tb(10, 0, 1 * s);
  EXPECT_EQ(reduce(tb, 10, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(reduce(tb, 2, 150 * ms), TokenBucket::Reduction::failure);
  EXPECT_EQ(tb.budget(), 1u);
  EXPECT_EQ(reduce(tb, 2, 200 * ms), TokenBucket::Reduction::success);
  EXPECT_EQ(tb.budget(), 0u);
}

TEST(TokenBucket, RefillIsCappedAtTheSize)
{
  // 6 left, 900 ms give 9 more: the budget stops at 10, so a reduction of 7 leaves 3 (not 8).
  TokenBucket tb(10, 0, 1 * s);
  EXPECT_EQ(reduce(tb, 4, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(reduce(tb, 7, 900 * ms), TokenBucket::Reduction::success);
  EXPECT_EQ(tb.budget(), 3u);
}

TEST(TokenBucket, AWholeRefillTimeRefillsCompletely)
{
  // test_token_bucket_auto_replenish_two: empty, then full exactly one refill time later; one nanosecond earlier the
  // refill gives size - 1 (9.99999999 tokens, whole tokens only).
  TokenBucket early(10, 0, 1 * s);
  EXPECT_EQ(reduce(early, 10, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(reduce(early, 10, 1 * s - 1), TokenBucket::Reduction::failure);
  EXPECT_EQ(early.budget(), 9u);
  TokenBucket on_time(10, 0, 1 * s);
  EXPECT_EQ(reduce(on_time, 10, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(reduce(on_time, 10, 1 * s), TokenBucket::Reduction::success);
  EXPECT_EQ(on_time.budget(), 0u);
}

TEST(TokenBucket, MoreThanTheSizeEmptiesTheBucketAndReportsTheRatio)
{
  // OverConsumption(tokens beyond the budget / size): 2500 from a full bucket of 1000 borrows 1.5 buckets.
  TokenBucket tb(1000, 0, 1 * s);
  double ratio = 0;
  EXPECT_EQ(tb.reduce(2500, 0, &ratio), TokenBucket::Reduction::over_consumption);
  EXPECT_DOUBLE_EQ(ratio, 1.5);
  EXPECT_EQ(tb.budget(), 0u);
}

TEST(TokenBucket, FirecrackersReduceSequence)
{
  // test_token_bucket_reduce, with its sleeps as times: first bucket (1000 over 1 s), then the bucket with a burst.
  TokenBucket tb(1000, 0, 1 * s);
  EXPECT_EQ(reduce(tb, 123, 0), TokenBucket::Reduction::success);
  EXPECT_EQ(tb.budget(), 1000u - 123u);
  EXPECT_EQ(reduce(tb, 1000, 0), TokenBucket::Reduction::failure);

  TokenBucket burst(1000, 1100, 1 * s);
  std::uint64_t t = 0;
  EXPECT_EQ(reduce(burst, 1000, t), TokenBucket::Reduction::success);
  EXPECT_EQ(burst.one_time_burst(), 100u);
  EXPECT_EQ(reduce(burst, 500, t), TokenBucket::Reduction::success);
  EXPECT_EQ(burst.one_time_burst(), 0u);
  EXPECT_EQ(reduce(burst, 500, t), TokenBucket::Reduction::success);
  EXPECT_EQ(reduce(burst, 500, t), TokenBucket::Reduction::failure);
  t += 500 * ms;
  EXPECT_EQ(reduce(burst, 500, t), TokenBucket::Reduction::success);
  t += 1000 * ms;
  double ratio = 0;
  EXPECT_EQ(burst.reduce(2500, t, &ratio), TokenBucket::Reduction::over_consumption);
  EXPECT_DOUBLE_EQ(ratio, 1.5);
}
