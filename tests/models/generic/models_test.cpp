/* The generic models' mechanisms, one behaviour each. */
#include "analysis/calibration/analytic.hpp"
#include "tests/support/support.hpp"

using namespace pvsim;

namespace {
json run(const json& components, double duration_s = 0.2, double warmup_s = 0.02)
{
  json doc = {
      {"name", "models"}, {"seed", 5}, {"duration_s", duration_s}, {"warmup_s", warmup_s}, {"components", components}};
  Simulation sim(scenario_from_json(doc, "models"));
  json r = sim.run();
  require_conservation(r);
  return r;
}
} // namespace

TEST(NullBlk, EveryRequestTakesExactlyTheCompletionLatencyWhileTagsAreFree)
{
  json r          = run({{"job", {{"type", "source.closed"}, {"iodepth", 16}, {"target", "nullb0"}}},
                         {"nullb0", {{"type", "device.null_blk"}, {"completion_latency", "10us"}, {"hw_queue_depth", 64}}}});
  const json& lat = r["jobs"]["job"]["latency_us"];
  EXPECT_NEAR(lat["min"].get<double>(), 10.0, 1e-6);
  EXPECT_NEAR(lat["max"].get<double>(), 10.0, 1e-6);
  EXPECT_NEAR(r["jobs"]["job"]["iops"].get<double>(), 16 / 10e-6, 16 / 10e-6 * 0.001);
}

TEST(NullBlk, RequestsBeyondTheTagDepthWaitForAFreeTag)
{
  // 128 in flight on 64 tags: half the requests wait one full completion time, so latency doubles.
  json r = run({{"job", {{"type", "source.closed"}, {"iodepth", 128}, {"target", "nullb0"}}},
                {"nullb0", {{"type", "device.null_blk"}, {"completion_latency", "10us"}, {"hw_queue_depth", 64}}}});
  EXPECT_NEAR(r["jobs"]["job"]["latency_us"]["mean"].get<double>(), 20.0, 0.01);
  EXPECT_NEAR(r["jobs"]["job"]["iops"].get<double>(), 64 / 10e-6, 64 / 10e-6 * 0.001);
  EXPECT_NEAR(r["queues"]["nullb0"]["mean_queue_length"].get<double>(), 64, 0.5);
}

TEST(NullBlk, RequestsSpreadOverHardwareQueuesByTheirQueueIndex)
{
  // Without a multi-queue driver upstream every request has queue index -1 and lands on hctx0.
  json r = run({{"job", {{"type", "source.closed"}, {"iodepth", 4}, {"target", "nullb0"}}},
                {"nullb0", {{"type", "device.null_blk"}, {"submit_queues", 2}}}});
  EXPECT_GT(r["queues"]["nullb0.hctx0"]["requests"].get<double>(), 0);
  EXPECT_EQ(r["queues"]["nullb0.hctx1"]["requests"].get<double>(), 0);
}

TEST(ParallelDevice, ThroughputSaturatesAtChannelsOverServiceTime)
{
  json r = run({{"job", {{"type", "source.closed"}, {"iodepth", 64}, {"target", "ssd"}}},
                {"ssd", {{"type", "device.parallel"}, {"channels", 8}, {"read_service", "50us"}}}});
  EXPECT_NEAR(r["jobs"]["job"]["iops"].get<double>(), 8 / 50e-6, 8 / 50e-6 * 0.002);
  EXPECT_NEAR(r["queues"]["ssd"]["utilization"].get<double>(), 1.0, 1e-3);
}

TEST(ParallelDevice, WritesUseTheirOwnServiceTime)
{
  json r =
      run({{"job", {{"type", "source.closed"}, {"rw", "randrw"}, {"rwmixread", 50}, {"iodepth", 1}, {"target", "ssd"}}},
           {"ssd",
            {{"type", "device.parallel"},
             {"read_service", "80us"},
             {"write_service", {{"dist", "lognormal"}, {"mean", "20us"}, {"cv", 1.5}}}}}});
  const json& j = r["jobs"]["job"];
  EXPECT_NEAR(j["read"]["latency_us"]["mean"].get<double>(), 80, 0.01);
  EXPECT_NEAR(j["write"]["latency_us"]["mean"].get<double>(), 20, 2);
  EXPECT_GT(j["write"]["latency_us"]["p99.9"].get<double>(), j["read"]["latency_us"]["p99.9"].get<double>());
}

TEST(ParallelDevice, ARequestAlsoTakesItsSizeOverTheChannelRate)
{
  // 4 KiB at 40.96 MB/s: 100 us of transfer on top of the 100 us service, one request at a time: 5000 IOPS.
  json r = run({{"job", {{"type", "source.closed"}, {"iodepth", 1}, {"bs", "4KiB"}, {"target", "ssd"}}},
                {"ssd", {{"type", "device.parallel"}, {"read_service", "100us"}, {"channel_rate", "40.96MB/s"}}}});
  std::cout << "mean latency " << r["jobs"]["job"]["latency_us"]["mean"] << " us (expected 200 +- 0.01)\n";
  EXPECT_NEAR(r["jobs"]["job"]["latency_us"]["mean"].get<double>(), 200.0, 0.01);
  EXPECT_NEAR(r["jobs"]["job"]["iops"].get<double>(), 5000, 25) << "one completion more or less in the window";
}

TEST(ClosedSource, KeepsIodepthRequestsInFlightLittlesLaw)
{
  json r   = run({{"job", {{"type", "source.closed"}, {"iodepth", 12}, {"target", "ssd"}}},
                  {"ssd",
                   {{"type", "device.parallel"},
                    {"channels", 4},
                    {"read_service", {{"dist", "exponential"}, {"mean", "30us"}}}}}});
  double x = r["jobs"]["job"]["iops"].get<double>();
  double w = r["jobs"]["job"]["latency_us"]["mean"].get<double>() * 1e-6;
  EXPECT_NEAR(x * w, 12.0, 12.0 * 0.01);
}

TEST(ClosedSource, StopsAfterNumberIos)
{
  json r = run({{"job", {{"type", "source.closed"}, {"iodepth", 4}, {"number_ios", 1000}, {"target", "d"}}},
                {"d", {{"type", "device.null_blk"}}}},
               0.2, 0.0);
  EXPECT_EQ(r["jobs"]["job"]["requests"].get<int>(), 1000);
  EXPECT_EQ(r["components"]["job"]["submitted"].get<int>(), 1000);
}

TEST(OpenSource, ArrivesAtItsRate)
{
  json r = run({{"job", {{"type", "source.open"}, {"rate_iops", 20000}, {"arrival", "fixed"}, {"target", "d"}}},
                {"d", {{"type", "device.null_blk"}}}},
               1.0, 0.1);
  EXPECT_NEAR(r["jobs"]["job"]["iops"].get<double>(), 20000, 20);
}

TEST(FifoStation, ForwardsToItsNextHopAfterService)
{
  json r = run({{"job", {{"type", "source.closed"}, {"iodepth", 1}, {"target", "cpu"}}},
                {"cpu", {{"type", "station.fifo"}, {"service", "5us"}, {"next", "d"}}},
                {"d", {{"type", "device.null_blk"}, {"completion_latency", "10us"}}}});
  EXPECT_NEAR(r["jobs"]["job"]["latency_us"]["mean"].get<double>(), 15, 1e-6);
  EXPECT_NEAR(r["queues"]["cpu"]["response_us"]["mean"].get<double>(), 5, 1e-6);
}

TEST(Conservation, RequestsInFlightAtTheEndAreCounted)
{
  json r        = run({{"job", {{"type", "source.closed"}, {"iodepth", 32}, {"target", "d"}}},
                       {"d", {{"type", "device.null_blk"}, {"completion_latency", "1ms"}, {"hw_queue_depth", 8}}}},
                      0.01005, 0);
  const json& c = r["conservation"];
  EXPECT_TRUE(c["ok"].get<bool>());
  EXPECT_EQ(c["components"]["job"]["in_flight"].get<int>(), 32);
  EXPECT_EQ(c["components"]["d"]["in_flight"].get<int>(), 32);
  EXPECT_EQ(c["requests"]["pool_outstanding"].get<int>(), 32);
}

TEST(Rng, StreamsAreReproducibleAndIndependentPerName)
{
  Rng a(9, "job:x"), b(9, "job:x"), c(9, "job:y");
  for (int i = 0; i < 100; ++i) {
    auto va = a.next_u64();
    ASSERT_EQ(va, b.next_u64());
    ASSERT_NE(va, c.next_u64());
  }
}
