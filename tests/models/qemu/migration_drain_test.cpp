/* Live migration's switchover: drain policies bound the drain, pre-copy converges as the closed form says, no request
 * is lost across the switchover, the vCPUs are paused during the downtime. Direct calls, no Simulation. */
#include "models/qemu/drain_policy.hpp"
#include "models/qemu/migration_precopy.hpp"
#include "models/qemu/migration_switchover.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

using namespace pvsim;

namespace {
/** d requests submitted at once, the vCPUs stopped right after: the drain starts with all of them in flight. */
SwitchoverSetup stop_at_once(std::uint64_t d, std::uint64_t p, double s, const std::string& policy)
{
  SwitchoverSetup x;
  x.depth     = d;
  x.parallel  = p;
  x.service_s = s;
  x.stop_s    = 0;
  x.end_s     = 1;
  x.policy    = policy;
  return x;
}
} // namespace

TEST(MigrationDrain, NoneDrainsEveryRequestInCeilDOverPServiceTimes)
{
  auto r          = run_switchover(stop_at_once(20, 3, 2e-3, "none"));
  double expected = std::ceil(20.0 / 3) * 2e-3;
  std::cout << "drain " << r.drain_s << " s, expected " << expected << " s, tolerance 1e-12\n";
  EXPECT_EQ(r.in_flight_at_stop, 20u);
  EXPECT_NEAR(r.drain_s, expected, 1e-12);
  EXPECT_DOUBLE_EQ(drain_time(20, 3, 2e-3), expected);
}

TEST(MigrationDrain, DepthCapBoundsTheDrainToCeilCapOverP)
{
  SwitchoverSetup x      = stop_at_once(64, 4, 1e-3, "depth-cap");
  x.stop_s               = 0.5;
  x.policy_params.cap    = 10;
  x.policy_params.lead_s = 0.1;
  auto r                 = run_switchover(x);
  double bound           = std::ceil(10.0 / 4) * 1e-3;
  std::cout << "drain " << r.drain_s << " s, at most " << bound << " s\n";
  EXPECT_LE(r.in_flight_at_stop, 10u);
  EXPECT_LE(r.drain_s, bound + 1e-12);
  EXPECT_GT(r.held_at_stop, 0u) << "the capped requests wait in the avail ring";
}

TEST(MigrationDrain, DeadlineKeepsTheDrainWithinItsBudget)
{
  SwitchoverSetup x              = stop_at_once(256, 8, 10e-3, "deadline");
  x.stop_s                       = 2;
  x.end_s                        = 3;
  x.jitter                       = 0.2;
  x.policy_params.lead_s         = 0.5;
  x.policy_params.budget_s       = 0.1;
  x.policy_params.gap_estimate_s = 1e-5; // a wrong first guess: the policy learns the device's 10 ms / 8
  auto r                         = run_switchover(x);
  double tolerance = 10e-3 * std::exp(2 * 0.2); // one service time at the jitter's +2 sigma (the last round)
  std::cout << "drain " << r.drain_s << " s, budget 0.1 s, tolerance " << tolerance << " s\n";
  EXPECT_LE(r.drain_s, 0.1 + tolerance);
  auto none = run_switchover([&] {
    auto y   = x;
    y.policy = "none";
    return y;
  }());
  EXPECT_GT(none.drain_s, 0.25) << "256 requests on 8 channels of 10 ms: about 0.32 s";
}

TEST(MigrationDrain, NoRequestIsLostAcrossTheSwitchover)
{
  for (const std::string policy : {"none", "depth-cap", "deadline"}) {
    SwitchoverSetup x = stop_at_once(48, 4, 1e-3, policy);
    x.stop_s          = 0.3;
    x.end_s           = 0.6;
    x.jitter          = 0.5;
    auto r            = run_switchover(x);
    EXPECT_EQ(r.submitted, r.completed_source + r.completed_dest + r.in_flight_at_end) << policy;
    EXPECT_GT(r.completed_dest, 0u) << policy << ": the guest continues on the destination";
  }
}

TEST(MigrationDrain, HeldRequestsAreServedOnTheDestination)
{
  SwitchoverSetup x   = stop_at_once(32, 1, 1e-3, "depth-cap");
  x.stop_s            = 0.2;
  x.end_s             = 0.3;
  x.policy_params.cap = 2;
  auto r              = run_switchover(x);
  EXPECT_EQ(r.held_at_stop, 30u);
  EXPECT_GE(r.completed_dest, 30u);
}

TEST(MigrationDrain, VcpusArePausedDuringTheDowntime)
{
  SwitchoverSetup x = stop_at_once(16, 2, 1e-3, "none");
  x.stop_s          = 0.1;
  x.transfer_s      = 0.05;
  auto r            = run_switchover(x);
  EXPECT_FALSE(r.vcpus_ran_during_downtime);
  EXPECT_NEAR(r.downtime_s, r.drain_s + 0.05, 1e-12);
}

TEST(MigrationDrain, UnknownPolicyIsRejectedNamingTheKnownOnes)
{
  try {
    make_drain_policy("fifo", DrainPolicyParams::defaults());
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("deadline, depth-cap, none"), std::string::npos) << e.what();
  }
}

TEST(MigrationPrecopy, ConvergesWhenTheDirtyRateIsBelowTheBandwidth)
{
  PrecopyParams p     = PrecopyParams::defaults();
  p.ram_bytes         = 1e9;
  p.bandwidth         = 1e8;
  p.dirty_rate        = 5e7; // half the bandwidth: pending halves per iteration
  p.working_set_bytes = 1e12;
  auto r              = run_precopy(p);
  // pending after k iterations: 1e9 x 0.5^k; threshold 1e8 x 0.3 = 3e7 -> k = ceil(log2(1e9 / 3e7)) = 6
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.sent_bytes.size(), 6u);
  EXPECT_NEAR(r.pending_bytes, 1e9 / 64, 1);
}

TEST(MigrationPrecopy, DoesNotConvergeWhenTheGuestDirtiesFasterThanTheLink)
{
  PrecopyParams p     = PrecopyParams::defaults();
  p.ram_bytes         = 1e9;
  p.bandwidth         = 1e8;
  p.dirty_rate        = 2e8;
  p.working_set_bytes = 5e8; // bounded dirty set above the threshold (3e7)
  p.max_iterations    = 10;
  auto r              = run_precopy(p);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.sent_bytes.size(), 10u);
  EXPECT_DOUBLE_EQ(r.pending_bytes, 5e8);
}

TEST(MigrationPrecopy, DiskReadsDirtyAtMostTheGuestsIoBuffers)
{
  PrecopyParams p   = PrecopyParams::defaults();
  p.io_read_rate    = 1e9;
  p.io_buffer_bytes = 4 * 32 * 4096;
  EXPECT_DOUBLE_EQ(dirtied_bytes(p, 10), 4 * 32 * 4096);
}

TEST(MigrationDrain, SlowImageDeepQueueNoneMissesTheLimitWhileCapAndDeadlineKeepIt)
{
  const double limit = 0.3, transfer = 0.1; // the pre-copy estimate uses 0.1 s of the 300 ms
  int miss[3]          = {0, 0, 0};
  const char* names[3] = {"none", "depth-cap", "deadline"};
  const int repeats    = 20;
  for (int k = 0; k < 3; ++k)
    for (int seed = 1; seed <= repeats; ++seed) {
      SwitchoverSetup x        = stop_at_once(256, 8, 15e-3, names[k]);
      x.stop_s                 = 1;
      x.end_s                  = 2.5;
      x.jitter                 = 0.3;
      x.seed                   = static_cast<std::uint64_t>(seed);
      x.transfer_s             = transfer;
      x.policy_params.cap      = 64;
      x.policy_params.lead_s   = 0.6; // 256 x 15 ms / 8 = 0.48 s to bring the queue down
      x.policy_params.budget_s = 0.1;
      miss[k] += run_switchover(x).downtime_s > limit;
    }
  std::cout << "misses of " << repeats << ": none " << miss[0] << ", depth-cap " << miss[1] << ", deadline " << miss[2]
            << "\n";
  EXPECT_GT(miss[0], repeats / 2);
  EXPECT_LT(miss[1], repeats / 20 + 1);
  EXPECT_LT(miss[2], repeats / 20 + 1);
}
