/* source.replay: its timing modes, its per-CPU submission and its accounting, on synthetic traces handed to the model
 * as the pvsim command hands it a file's (ReplayTraces). One Simulation per test. */
#include "models/workload/replay_trace.hpp"
#include "sim/input_error.hpp"
#include "sim/statistics.hpp"
#include "tests/support/cli_support.hpp"

#include <cstdio>

using namespace pvsim;

namespace {

/** `n` 4 KiB reads on `cpu`, `gap_ns` apart, from t = 0. */
ReplayTrace evenly_spaced(int n, std::int64_t gap_ns, int cpu = 0)
{
  ReplayTrace t;
  t.file   = "synthetic";
  t.format = "blkparse";
  for (int i = 0; i < n; ++i)
    t.ios.push_back({i * gap_ns, cpu, static_cast<std::uint64_t>(i) * 8, 4096, false});
  t.cpus = cpu + 1;
  return t;
}

/** A 4-vCPU guest whose null_blk has `hw_queues` queues of 1024 tags (never short of tags), 10 us per request. */
json components(const json& replay_extra, int hw_queues = 1)
{
  json replay = {{"type", "source.replay"},
                 {"vm", "guest"},
                 {"target", "blkmq"},
                 {"trace", "synthetic.txt"},
                 {"submit_cpu", "1us"}};
  replay.update(replay_extra);
  return {{"host", {{"type", "cpu.host"}, {"cores", 4}}},
          {"guest", {{"type", "guest.vm"}, {"vcpus", 4}, {"pcpus", "host"}}},
          {"replay", replay},
          {"blkmq", {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "nullb0"}}},
          {"nullb0",
           {{"type", "device.null_blk"},
            {"completion_latency", "10us"},
            {"submit_queues", hw_queues},
            {"hw_queue_depth", 1024}}}};
}

struct ReplayRun {
  json results;
  std::vector<double> submit_s; // each completed request's submission time, in completion order
};

ReplayRun run(const ReplayTrace& trace, const json& replay_extra, int hw_queues = 1, double duration_s = 0.05)
{
  ReplayTraces::provide("replay", trace);
  json doc = {
      {"name", "replay"}, {"seed", 1}, {"duration_s", duration_s}, {"components", components(replay_extra, hw_queues)}};
  Simulation sim(scenario_from_json(doc, "replay.json"));
  ReplayRun out;
  sim.on_models_started([&sim, &out] {
    for (const auto& c : sim.components())
      if (c->name() == "replay")
        c->job_probe()->connect([&out](const JobEvent& e) { out.submit_s.push_back(e.r->submit_s); });
  });
  out.results = sim.run();
  require_conservation(out.results);
  return out;
}

const json& replay_of(const ReplayRun& r)
{
  return r.results["components"]["replay"]["replay"];
}

} // namespace

TEST(SourceReplay, AsRecordedSubmitsEachIoAtItsRecordedOffsetWhenTheStackIsIdle)
{
  // Gaps of 100 us, 10x the request's time through the stack: nothing waits, so nothing can delay a submission.
  ReplayTrace t = evenly_spaced(50, 100'000);
  t.ios[7].t_ns += 12'345; // and an uneven one
  ReplayRun r = run(t, {{"timing", "as-recorded"}});
  ASSERT_EQ(r.submit_s.size(), t.ios.size());
  for (std::size_t i = 0; i < t.ios.size(); ++i)
    EXPECT_NEAR(r.submit_s[i], static_cast<double>(t.ios[i].t_ns) * 1e-9, 1e-12) << "I/O " << i;
  EXPECT_EQ(replay_of(r)["replayed"], 50);
  EXPECT_EQ(replay_of(r)["max_in_flight"], 1);
}

TEST(SourceReplay, AsFastAsPossibleNeverExceedsTheDepthCapAndFinishesSooner)
{
  // 400 I/Os recorded 100 us apart (39.9 ms); at most 3 in flight, each ~12 us through the stack.
  ReplayTrace t = evenly_spaced(400, 100'000, 1);
  ReplayRun r   = run(t, {{"timing", "as-fast-as-possible"}, {"depth", 3}});
  const json& x = replay_of(r);
  EXPECT_EQ(x["replayed"], 400);
  EXPECT_EQ(x["completed"], 400);
  EXPECT_EQ(x["max_in_flight"], 3) << "the cap is reached and never exceeded";
  double recorded = x["recorded_span_s"].get<double>(), simulated = x["simulated_span_s"].get<double>();
  std::printf("[check] recorded span %.6g s, simulated span %.6g s: expected simulated < recorded / 10\n", recorded,
              simulated);
  EXPECT_LT(simulated, recorded / 10);
}

TEST(SourceReplay, ScaledAtOneHalfHalvesEveryGap)
{
  ReplayTrace t = evenly_spaced(40, 200'000);
  t.ios[5].t_ns += 30'000;
  ReplayRun r = run(t, {{"timing", "scaled"}, {"time_scale", 0.5}});
  ASSERT_EQ(r.submit_s.size(), t.ios.size());
  for (std::size_t i = 0; i < t.ios.size(); ++i)
    EXPECT_NEAR(r.submit_s[i], 0.5 * static_cast<double>(t.ios[i].t_ns) * 1e-9, 1e-12) << "I/O " << i;
  std::printf("[check] last submission at %.9g s, recorded %.9g s: expected half\n", r.submit_s.back(),
              static_cast<double>(t.ios.back().t_ns) * 1e-9);
}

TEST(SourceReplay, EachIoIsSubmittedFromTheVcpuOfItsRecordedCpuSoTheQueueMapPicksItsHctx)
{
  // 2 hardware queues on 4 vCPUs: blk-mq's default map gives hctx0 vCPUs 0-1 and hctx1 vCPUs 2-3.
  ReplayTrace t = evenly_spaced(30, 50'000, 0);
  for (std::size_t i = 0; i < t.ios.size(); i += 3)
    t.ios[i].cpu = 3; // 10 of 30 on CPU 3
  t.cpus        = 4;
  ReplayRun r   = run(t, {{"timing", "as-recorded"}}, 2);
  const json& q = r.results["queues"];
  EXPECT_EQ(q["blkmq.hctx1"]["requests"], 10);
  EXPECT_EQ(q["blkmq.hctx0"]["requests"], 20);
  EXPECT_EQ(replay_of(r)["by_vcpu"], json({{"0", 20}, {"3", 10}}));
}

TEST(SourceReplay, AnExplicitCpuMapMovesARecordedCpuToAnotherVcpu)
{
  ReplayTrace t = evenly_spaced(20, 50'000, 0); // all on CPU 0, which "3" puts on vCPU 3: hctx1
  ReplayRun r   = run(t, {{"cpu_map", "3"}}, 2);
  EXPECT_EQ(r.results["queues"]["blkmq.hctx1"]["requests"], 20);
  EXPECT_EQ(r.results["queues"]["blkmq.hctx0"]["requests"], 0);
}

TEST(SourceReplay, ATraceWithMoreCpusThanTheGuestWrapsThemAndSaysSo)
{
  ReplayTrace t = evenly_spaced(10, 50'000, 6); // CPU 6 on a 4-vCPU guest: vCPU 2
  ReplayRun r   = run(t, json::object());
  EXPECT_EQ(replay_of(r)["by_vcpu"], json({{"2", 10}}));
  ASSERT_EQ(replay_of(r)["warnings"].size(), 1u);
  EXPECT_NE(replay_of(r)["warnings"][0].get<std::string>().find("7 CPUs"), std::string::npos)
      << replay_of(r)["warnings"];
}

TEST(SourceReplay, LoopReplaysTheTraceAgainUntilTheEndOfTheRun)
{
  // 10 I/Os over 0.9 ms, one pass every 1 ms (one mean gap after the last): 20 ms of run make 20 passes.
  ReplayRun r = run(evenly_spaced(10, 100'000), {{"loop", true}}, 1, 0.02);
  std::printf("[check] replayed %d: expected 200 (20 passes of 10)\n", replay_of(r)["replayed"].get<int>());
  EXPECT_EQ(replay_of(r)["replayed"], 200);
  EXPECT_EQ(replay_of(r)["passes"], 20);
}

TEST(SourceReplay, WithoutLoopItStopsSubmittingAtTheEndOfTheTrace)
{
  ReplayRun r = run(evenly_spaced(10, 100'000), json::object(), 1, 0.02);
  EXPECT_EQ(replay_of(r)["replayed"], 10);
  EXPECT_EQ(r.results["jobs"]["replay"]["requests"], 10);
}

TEST(SourceReplay, ReportsTheSimulatedQToCBesideTheRecordedOne)
{
  ReplayTrace t     = evenly_spaced(20, 100'000);
  t.recorded_q_to_c = {20, 55.0, 50.0, 90.0};
  ReplayRun r       = run(t, json::object());
  const json& x     = replay_of(r);
  EXPECT_EQ(x["recorded_q_to_c_us"]["mean"], 55.0);
  // Idle stack: submit_cpu 1 us, then blk_mq and null_blk's 10 us.
  double sim_mean = x["simulated_q_to_c_us"]["mean"].get<double>();
  std::printf("[check] simulated Q->C mean %.4g us: expected 11 us +- 1 us\n", sim_mean);
  EXPECT_NEAR(sim_mean, 11.0, 1.0);
  EXPECT_EQ(x["simulated_q_to_c_us"]["count"], 20);
}

TEST(SourceReplay, AComponentWhoseTraceWasNotReadIsRefused)
{
  json doc = {{"name", "replay"}, {"seed", 1}, {"duration_s", 0.01}, {"components", components(json::object())}};
  try {
    Simulation sim(scenario_from_json(doc, "replay.json"));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("was not read"), std::string::npos) << e.what();
  }
}
