/* firecracker.vmm's rate limiter in a run: the bucket starts full, a request it refuses goes back to the avail ring
 * and the queue waits for the limiter's 100 ms timer, which refills the bucket completely (a whole refill_time went
 * by) and serves it again. With 16 ops (or 16 x 4 KiB) per 100 ms and 32 requests waiting, each cycle serves exactly
 * 16 requests in one pass and lasts 100 ms plus that pass: over 0.45 s, cycles start at 0, ~100, ~200, ~300 and
 * ~400 ms, 5 x 16 = 80 requests. Each test runs `pvsim run` (fc_stack.hpp). */
#include "tests/models/firecracker/fc_stack.hpp"

#include <cmath>

using namespace pvsim;
using pvsim::fctest::FcStack;

namespace {
constexpr int size      = 16;   // tokens of 4 KiB requests per refill time
constexpr double refill = 0.1;  // s
constexpr double run_s  = 0.45; // simulated, no warm-up: the window sees the initial bucket

json limited(const json& fc)
{
  FcStack s;
  s.iodepth  = 32;
  s.duration = run_s;
  s.warmup   = 0;
  s.fc       = fc;
  return fctest::run(s);
}

/** The initial bucket, then one more each time the 100 ms timer fired within the run. */
double expected_requests()
{
  return size * (1 + std::floor(run_s / refill));
}

void expect_requests(const json& r, const std::string& what)
{
  double got = r["jobs"]["fio"]["requests"].get<double>();
  std::printf("[theory] %-44s expected %g  got %g  (exact)\n", what.c_str(), expected_requests(), got);
  EXPECT_EQ(got, expected_requests());
  EXPECT_EQ(fctest::drive(r)["rate_limited"].get<double>(), std::floor(run_s / refill) + 1);
}
} // namespace

TEST(FirecrackerRateLimit, TheOpsBucketServesItsSizePerRefillTime)
{
  json r = limited({{"ops_size", size}, {"ops_refill_time", "100ms"}});
  expect_requests(r, "requests with 16 ops per 100 ms");
}

TEST(FirecrackerRateLimit, TheBandwidthBucketServesItsBytesPerRefillTime)
{
  json r = limited({{"bw_size", std::to_string(size * 4096) + "B"}, {"bw_refill_time", "100ms"}});
  expect_requests(r, "requests with 16 x 4 KiB per 100 ms");
}

TEST(FirecrackerRateLimit, ARefillFasterThanTheTimerStillWaitsForTheTimer)
{
  // REFILL_TIMER_DURATION is 100 ms whatever the refill time: a bucket refilled in 20 ms is full long before the
  // timer fires, and the tokens of the other 80 ms are lost (the refill stops at the size). Still 16 per ~100 ms,
  // not 16 per 20 ms.
  json r = limited({{"ops_size", size}, {"ops_refill_time", "20ms"}});
  expect_requests(r, "requests with 16 ops per 20 ms");
}

TEST(FirecrackerRateLimit, TheOneTimeBurstComesOnTopOfTheBucket)
{
  // 100 ops of burst, spent first, never refilled: then the same cycles as without it (the burst is gone within the
  // first few milliseconds, long before the last cycle's start would move past the run's end).
  json r     = limited({{"ops_size", size}, {"ops_refill_time", "100ms"}, {"ops_one_time_burst", 100}});
  double got = r["jobs"]["fio"]["requests"].get<double>();
  std::printf("[theory] requests with a 100-op burst: expected %g  got %g  (exact)\n", 100 + expected_requests(), got);
  EXPECT_EQ(got, 100 + expected_requests());
}

TEST(FirecrackerRateLimit, ThrottledRequestsWaitInStepsOfTheTimer)
{
  // 32 requests waiting, 16 served per cycle: after the first 16, every request waits for one or two 100 ms timers,
  // none for a few milliseconds.
  json r   = limited({{"ops_size", size}, {"ops_refill_time", "100ms"}});
  auto& fl = r["jobs"]["fio"]["latency_us"];
  std::printf("latency p50 %.0f us, p99 %.0f us, max %.0f us\n", fl["p50"].get<double>(), fl["p99"].get<double>(),
              fl["max"].get<double>());
  EXPECT_GE(fl["p99"].get<double>(), 100e3);
  auto& h = r["jobs"]["fio"]["histogram"];
  for (std::size_t i = 0; i < h["count"].size(); ++i) {
    double upper_ms = h["upper_ns"][i].get<double>() / 1e6;
    if (h["count"][i].get<double>() > 0) {
      EXPECT_TRUE(upper_ms < 2 or upper_ms > 100) << h["count"][i] << " requests took up to " << upper_ms << " ms";
    }
  }
}
