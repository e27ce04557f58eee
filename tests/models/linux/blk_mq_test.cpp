/* The blk_mq model: CPU to hardware-queue mapping and tag sets. */
#include "tests/support/cli_support.hpp"

using namespace pvsim;

namespace {
json guest(int vcpus, const json& blkmq_extra, const json& fio_extra, const json& nullb_extra)
{
  json fio = {{"type", "job.fio"},   {"vm", "guest"},         {"numjobs", vcpus}, {"iodepth", 8},
              {"submit_cpu", "1us"}, {"complete_cpu", "1us"}, {"target", "blkmq"}};
  fio.update(fio_extra);
  json mq = {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "nullb0"}};
  mq.update(blkmq_extra);
  json nb = {{"type", "device.null_blk"}, {"completion_latency", "10us"}, {"submit_queues", 4}, {"hw_queue_depth", 64}};
  nb.update(nullb_extra);
  return {{"host", {{"type", "cpu.host"}, {"cores", vcpus}}},
          {"guest", {{"type", "guest.vm"}, {"vcpus", vcpus}, {"pcpus", "host"}}},
          {"fio", fio},
          {"blkmq", mq},
          {"nullb0", nb}};
}

void expect_close_abs_rel(const char* what, double simulated, double expected, double rel)
{
  std::printf("[check] %s: expected %.6g simulated %.6g tolerance ±%.0f%%\n", what, expected, simulated, rel * 100);
  EXPECT_NEAR(simulated, expected, rel * expected) << what;
}

json run(const json& components)
{
  json doc = {{"name", "mq"}, {"seed", 3}, {"duration_s", 0.02}, {"warmup_s", 0.002}, {"components", components}};
  Simulation sim(scenario_from_json(doc, "mq"));
  json r = sim.run();
  require_conservation(r);
  return r;
}
} // namespace

TEST(BlkMq, TheDefaultMapGivesEachQueueAContiguousGroupOfCpus)
{
  json r  = run(guest(8, json::object(), json::object(), json::object()));
  auto hw = r["components"]["blkmq"]["hw_queues"];
  ASSERT_EQ(hw.size(), 4u);
  EXPECT_EQ(hw[0]["cpu_list"], "0-1");
  EXPECT_EQ(hw[3]["cpu_list"], "6-7");
}

TEST(BlkMq, HardwareQueuesAndTagsComeFromTheDriver)
{
  json r  = run(guest(8, json::object(), json::object(), {{"submit_queues", 2}, {"hw_queue_depth", 16}}));
  auto hw = r["components"]["blkmq"]["hw_queues"];
  ASSERT_EQ(hw.size(), 2u);
  EXPECT_EQ(hw[0]["nr_tags"], 16);
}

TEST(BlkMq, WithEnoughTagsNoRequestWaits)
{
  json plenty = run(guest(4, json::object(), json::object(), {{"hw_queue_depth", 64}}));
  for (auto& h : plenty["components"]["blkmq"]["hw_queues"])
    EXPECT_EQ(h["tag_waits"], 0);
}

TEST(BlkMq, ARequestWithoutAFreeTagWaitsAndTheWaitIsCounted)
{
  // The wait alone: no CPU for sleeping and waking (next test).
  json few = run(guest(4, {{"tag_sleep_cpu", "0us"}, {"tag_wake_cpu", "0us"}}, json::object(),
                       {{"hw_queue_depth", 4}, {"completion_latency", "100us"}}));
  for (auto& h : few["components"]["blkmq"]["hw_queues"])
    EXPECT_GT(h["tag_waits"].get<int>(), 0);
  // 8 requests per vCPU on 4 tags of a 100 us device: a request waits about one device time for its tag.
  EXPECT_NEAR(few["queues"]["blkmq.hctx0"]["mean_wait_us"].get<double>(), 100.0, 10.0);
  EXPECT_NEAR(few["queues"]["blkmq.hctx0"]["utilization"].get<double>(), 1.0, 0.01);
}

TEST(BlkMq, ASubmitterThatSleptForATagPaysTheSleepOnItsVcpu)
{
  // 8 requests per vCPU on 4 tags: most requests wait for a tag; the submitter sleeps once per wake_batch of them
  // (1 for 4 tags). The vCPUs' CPU is each request's submit and complete (1 us each) plus 20 us per sleep (null_blk
  // completes from no vCPU: nobody pays a wake-up).
  json r = run(
      guest(4, {{"tag_sleep_cpu", "20us"}}, json::object(), {{"hw_queue_depth", 4}, {"completion_latency", "100us"}}));
  double window    = r["window_s"].get<double>();
  double completed = r["jobs"]["fio"]["iops"].get<double>() * window;
  auto wakeups     = r["components"]["blkmq"]["tag_wakeups"].get<double>();
  EXPECT_GT(wakeups, completed / 2);
  expect_close_abs_rel("vCPU CPU = 2 us per request + 20 us per sleep", r["components"]["host"]["cpu_s"].get<double>(),
                       completed * 2e-6 + wakeups * 20e-6, 0.02);
}

TEST(BlkMq, SubmittersSleepOncePerWakeBatchOfTagsWaitedFor)
{
  // 64 tags per hardware queue: sbitmap's wake_batch is 8, so 8 requests that waited cost one sleep.
  json r       = run(guest(4, json::object(), {{"iodepth", 128}, {"submit_cpu", "0.1us"}, {"complete_cpu", "0.1us"}},
                           {{"hw_queue_depth", 64}, {"completion_latency", "100us"}}));
  double waits = 0;
  for (auto& h : r["components"]["blkmq"]["hw_queues"])
    waits += h["tag_waits"].get<double>();
  ASSERT_GT(waits, 1000);
  EXPECT_NEAR(r["components"]["blkmq"]["tag_wakeups"].get<double>(), waits / 8, 4);
}

TEST(BlkMq, ASingleQueueMapSendsEveryCpuToQueueZero)
{
  json r  = run(guest(4, {{"map", "single"}}, json::object(), json::object()));
  auto hw = r["components"]["blkmq"]["hw_queues"];
  EXPECT_EQ(hw[0]["cpu_list"], "0-3");
  EXPECT_EQ(hw[1]["dispatched"], 0);
}

TEST(BlkMq, AnExplicitTableIsFollowed)
{
  json r  = run(guest(4, {{"map", "explicit"}, {"map_table", {3, 3, 0, 0}}}, json::object(), json::object()));
  auto hw = r["components"]["blkmq"]["hw_queues"];
  EXPECT_EQ(hw[3]["cpu_list"], "0-1");
  EXPECT_EQ(hw[0]["cpu_list"], "2-3");
}

TEST(BlkMq, AnExplicitTableOfTheWrongLengthIsBadInput)
{
  pvsim::test::TempDir dir;
  json comps  = guest(4, {{"map", "explicit"}, {"map_table", {0, 1}}}, json::object(), json::object());
  auto f      = dir.write("s.json", json{{"duration", "1ms"}, {"components", comps}}.dump());
  auto result = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("/components/blkmq"), std::string::npos) << result.output;
}

TEST(BlkMq, ItMustFeedABlockDriver)
{
  pvsim::test::TempDir dir;
  json comps               = guest(2, json::object(), json::object(), json::object());
  comps["st"]              = {{"type", "station.fifo"}, {"service", "1us"}};
  comps["blkmq"]["target"] = "st";
  comps.erase("nullb0");
  auto f      = dir.write("s.json", json{{"duration", "1ms"}, {"components", comps}}.dump());
  auto result = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("is not a block driver"), std::string::npos) << result.output;
}
