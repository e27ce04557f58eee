/* vCPUs, physical cores and fio jobs paying CPU per I/O: the mechanisms of cpu.host, guest.vm and job.fio. */
#include "models/host/guest_vm.hpp"
#include "tests/support/cli_support.hpp"

using namespace pvsim;

namespace {
/** A guest of `vcpus` vCPUs on `cores` cores, fio `numjobs` x iodepth 1, null_blk of 10 us. */
json guest_on_null_blk(int vcpus, int cores, int numjobs, const json& fio_extra = json::object())
{
  json fio = {{"type", "job.fio"},   {"vm", "guest"},         {"numjobs", numjobs}, {"iodepth", 1},
              {"submit_cpu", "3us"}, {"complete_cpu", "2us"}, {"target", "nullb0"}};
  fio.update(fio_extra);
  return {{"host", {{"type", "cpu.host"}, {"cores", cores}}},
          {"guest", {{"type", "guest.vm"}, {"vcpus", vcpus}, {"pcpus", "host"}}},
          {"fio", fio},
          {"nullb0", {{"type", "device.null_blk"}, {"completion_latency", "10us"}}}};
}

json run(const json& components, double duration_s = 0.05, double warmup_s = 0.005)
{
  json doc = {
      {"name", "cpu"}, {"seed", 3}, {"duration_s", duration_s}, {"warmup_s", warmup_s}, {"components", components}};
  Simulation sim(scenario_from_json(doc, "cpu"));
  json r = sim.run();
  require_conservation(r);
  return r;
}
} // namespace

TEST(FioJob, LatencyIsSubmitCpuPlusDevicePlusCompletionCpuOnAnIdleVcpu)
{
  json r = run(guest_on_null_blk(2, 2, 2));
  EXPECT_NEAR(r["jobs"]["fio"]["latency_us"]["mean"].get<double>(), 3 + 10 + 2, 1e-6);
}

TEST(FioJob, CpuBoundJobsGetHalfTheIopsOnHalfTheCores)
{
  // iodepth 8 keeps each vCPU busy (5 us of CPU per I/O): two cores give 2 x 200k IOPS...
  json r = run(guest_on_null_blk(2, 2, 2, {{"iodepth", 8}}));
  EXPECT_NEAR(r["jobs"]["fio"]["iops"].get<double>(), 400000, 4000);
  EXPECT_NEAR(r["components"]["host"]["utilization"].get<double>(), 1.0, 0.01);
}

TEST(FioJob, VcpusSharingOneCoreShareItsCapacity)
{
  // ... and the same two vCPUs on one core get one core's worth.
  json r = run(guest_on_null_blk(2, 1, 2, {{"iodepth", 8}}));
  EXPECT_NEAR(r["jobs"]["fio"]["iops"].get<double>(), 200000, 4000);
  EXPECT_NEAR(r["components"]["host"]["utilization"].get<double>(), 1.0, 0.01);
}

TEST(FioJob, CopiesPinnedToOneVcpuShareIt)
{
  // Two CPU-bound copies (iodepth 8, 5 us of CPU per I/O) both on vCPU 1: one vCPU's worth of IOPS.
  json r       = run(guest_on_null_blk(2, 2, 2, {{"cpus_allowed", "1"}, {"iodepth", 8}}));
  auto threads = r["components"]["fio"]["threads"];
  EXPECT_EQ(threads[0]["vcpu"], 1);
  EXPECT_EQ(threads[1]["vcpu"], 1);
  EXPECT_NEAR(r["jobs"]["fio"]["iops"].get<double>(), 200000, 4000);
}

TEST(FioJob, CopiesSpreadEvenlyOverTheAllowedVcpus)
{
  json r       = run(guest_on_null_blk(16, 16, 4));
  auto threads = r["components"]["fio"]["threads"];
  std::vector<int> vcpus;
  for (auto& t : threads)
    vcpus.push_back(t["vcpu"].get<int>());
  EXPECT_EQ(vcpus, (std::vector<int>{0, 4, 8, 12}));
}

TEST(FioJob, RateIopsSetsTheArrivalRate)
{
  json r = run(guest_on_null_blk(1, 1, 1, {{"rate_iops", 10000}}));
  EXPECT_NEAR(r["jobs"]["fio"]["iops"].get<double>(), 10000, 100);
}

TEST(FioJob, RateIopsArrivalsAreCappedByIodepth)
{
  json capped = run(guest_on_null_blk(1, 1, 1, {{"rate_iops", 1000000}}));
  EXPECT_NEAR(capped["jobs"]["fio"]["iops"].get<double>(), 1.0 / 15e-6, 1.0 / 15e-6 * 0.01); // iodepth 1
}

TEST(CpuHost, NoContextSwitchWhileThreadsFitOnTheCores)
{
  json fits = run(guest_on_null_blk(2, 2, 2));
  EXPECT_EQ(fits["components"]["host"]["context_switches"].get<int>(), 0);
}

TEST(CpuHost, ContextSwitchesWhenThreadsOutnumberCores)
{
  json over = run(guest_on_null_blk(4, 2, 4, {{"iodepth", 8}})); // four busy vCPUs, two cores: time slices
  EXPECT_GT(over["components"]["host"]["context_switches"].get<int>(), 0);
}

TEST(CpuHost, SpeedFactorScalesCpuWorkWhileThreadsFitOnTheCores)
{
  // Cores twice as fast as the reference: 2.5 us per I/O, two CPU-bound jobs give 2 x 400k IOPS.
  json comps                    = guest_on_null_blk(2, 2, 2, {{"iodepth", 8}});
  comps["host"]["speed_factor"] = 2.0;
  json r                        = run(comps);
  EXPECT_NEAR(r["jobs"]["fio"]["iops"].get<double>(), 800000, 8000);
}

namespace {
/** Two CPU-bound jobs (5 us of CPU per I/O) on a host whose threads lose their core 200 times per CPU-second for
 * 0.5 ms: each CPU-second takes 1.1 s, so 400k IOPS become 400k / 1.1. Over 1 s the ~400 preemptions (Poisson) make
 * the lost share 0.1 +- 0.005 (1 sigma): the tolerance is 3 sigma. */
json preempted_cpu_bound(int cores)
{
  json comps                        = guest_on_null_blk(2, cores, 2, {{"iodepth", 8}});
  comps["host"]["preempt_rate"]     = "200Hz";
  comps["host"]["preempt_duration"] = "0.5ms";
  return run(comps, 1.0);
}
} // namespace

TEST(CpuHost, PreemptionTakesItsShareOfABusyThreadsTime)
{
  json r          = preempted_cpu_bound(2);
  double expected = 400000 / 1.1;
  std::printf("IOPS expected %.0f +- 1.5%%, got %.0f\n", expected, r["jobs"]["fio"]["iops"].get<double>());
  EXPECT_NEAR(r["jobs"]["fio"]["iops"].get<double>(), expected, expected * 0.015);
  EXPECT_NEAR(r["components"]["host"]["preempted_s"].get<double>(),
              r["components"]["host"]["preemptions"].get<double>() * 0.5e-3, 1e-9);
}

TEST(CpuHost, PreemptionOnAnOversubscribedPoolTakesCoreTime)
{
  // The same two jobs sharing one core: the outside work takes its time from the pool, 200k / 1.1 IOPS.
  json r          = preempted_cpu_bound(1);
  double expected = 200000 / 1.1;
  std::printf("IOPS expected %.0f +- 1.5%%, got %.0f\n", expected, r["jobs"]["fio"]["iops"].get<double>());
  EXPECT_NEAR(r["jobs"]["fio"]["iops"].get<double>(), expected, expected * 0.015);
}

TEST(CpuHost, PreemptionDelaysTheRequestWhoseWorkWasRunningByItsWholeDuration)
{
  // One job at iodepth 1: 3 + 10 + 2 us per request. A preemption of 2 ms lands inside the CPU work of ~0.5 % of
  // the requests (1000 per CPU-second x 5 us); those take 2 ms more, the others are untouched.
  json comps                        = guest_on_null_blk(1, 1, 1);
  comps["host"]["preempt_rate"]     = "1000Hz";
  comps["host"]["preempt_duration"] = "2ms";
  json r                            = run(comps);
  const json& lat                   = r["jobs"]["fio"]["latency_us"];
  EXPECT_NEAR(lat["max"].get<double>(), 2015, 1e-3);
  EXPECT_NEAR(lat["p50"].get<double>(), 15, 0.5);
  EXPECT_GT(r["components"]["host"]["preemptions"].get<int>(), 0);
}

TEST(CpuHost, ASleepingThreadIsNotPreempted)
{
  // 1000 I/O per second of 5 us of CPU: 5 ms of CPU per second, so ~5 preemptions at 1000 per CPU-second, not the
  // ~1000 that a per-second rate would give (at most 20 is 6 sigma above 5).
  json comps                        = guest_on_null_blk(1, 1, 1, {{"rate_iops", 1000}});
  comps["host"]["preempt_rate"]     = "1000Hz";
  comps["host"]["preempt_duration"] = "0.1ms";
  json r                            = run(comps, 1.0);
  EXPECT_LE(r["components"]["host"]["preemptions"].get<int>(), 20);
}

TEST(GuestVm, ReportsEachVcpusUtilisation)
{
  json r     = run(guest_on_null_blk(2, 2, 1));
  auto vcpus = r["components"]["guest"]["vcpus"];
  EXPECT_NEAR(vcpus[0]["utilization"].get<double>(), 5.0 / 15.0, 0.01);
  EXPECT_EQ(vcpus[1]["utilization"].get<double>(), 0.0);
}

TEST(FioJob, CpusAllowedBeyondTheGuestIsBadInput)
{
  pvsim::test::TempDir dir;
  json doc      = {{"duration", "1ms"}, {"components", guest_on_null_blk(2, 2, 1, {{"cpus_allowed", "0-3"}})}};
  std::string f = dir.write("s.json", doc.dump());
  auto r        = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/components/fio/cpus_allowed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vCPU 2 does not exist"), std::string::npos) << r.output;
}

TEST(GuestVm, PcpusMustNameACpuHost)
{
  pvsim::test::TempDir dir;
  json comps              = guest_on_null_blk(2, 2, 1);
  comps["guest"]["pcpus"] = "nullb0";
  std::string f           = dir.write("s.json", json{{"duration", "1ms"}, {"components", comps}}.dump());
  auto r                  = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/components/guest/pcpus"), std::string::npos) << r.output;
}

TEST(GuestVm, BackgroundLoadDelaysTheRequestWhoseWorkWasRunningByTheWait)
{
  // One job at iodepth 1 (3 + 10 + 2 us) on a guest whose other processes use one CPU: its work waits behind them
  // 1000 times per CPU-second of it, 2 ms each. The host takes nothing (no preempt_rate).
  json comps                                    = guest_on_null_blk(1, 1, 1);
  comps["guest"]["background_cpus"]             = 1;
  comps["guest"]["background_preempt_rate"]     = "1000Hz";
  comps["guest"]["background_preempt_duration"] = "2ms";
  json r                                        = run(comps);
  const json& lat                               = r["jobs"]["fio"]["latency_us"];
  EXPECT_NEAR(lat["max"].get<double>(), 2015, 1e-3);
  EXPECT_NEAR(lat["p50"].get<double>(), 15, 0.5);
  EXPECT_GT(r["components"]["guest"]["vcpus"][0]["background_waits"].get<int>(), 0);
  EXPECT_EQ(r["components"]["host"].value("preemptions", 0), 0);
}

TEST(GuestVm, BackgroundWaitsTakeTheirShareOfABusyVcpuInProportionToTheLoad)
{
  // One CPU-bound job (iodepth 8, 5 us of CPU per I/O) alone on its vCPU: 200k IOPS quiet. Background load of 0.5 CPU
  // at 200 waits per CPU per CPU-second, 1 ms each: 100 waits per second of work, 0.1 s lost per second: 200k / 1.1.
  json comps                                    = guest_on_null_blk(1, 1, 1, {{"iodepth", 8}});
  comps["guest"]["background_cpus"]             = 0.5;
  comps["guest"]["background_preempt_rate"]     = "200Hz";
  comps["guest"]["background_preempt_duration"] = "1ms";
  json r                                        = run(comps, 1.0);
  double expected                               = 200000 / 1.1;
  std::printf("IOPS expected %.0f +- 1.5%%, got %.0f\n", expected, r["jobs"]["fio"]["iops"].get<double>());
  EXPECT_NEAR(r["jobs"]["fio"]["iops"].get<double>(), expected, expected * 0.015);
  EXPECT_NEAR(r["components"]["guest"]["vcpus"][0]["background_wait_s"].get<double>(),
              r["components"]["guest"]["vcpus"][0]["background_waits"].get<double>() * 1e-3, 1e-9);
}

TEST(GuestVm, ABackgroundWaitIsByDefaultTheRestOfAnEevdfSliceThenTheNextTick)
{
  // U(0, slice) + U(0, 1 / CONFIG_HZ), slice = sysctl_sched_base_slice 0.70 ms x (1 + ilog2(min(vCPUs, 8))): on 2
  // vCPUs at 250 Hz, 0.7 + 2.0 = 2.7 ms on average, 5.4 ms at most.
  auto p  = GuestVm::param_table().defaults();
  p.vcpus = 2;
  Distribution w = GuestVm("g", p).background_wait();
  std::printf("2 vCPUs, 250 Hz: mean %.4f ms (expected 2.7, 1e-6 ms)\n", w.mean() * 1e3);
  EXPECT_NEAR(w.mean(), 2.7e-3, 1e-9);
  Rng rng(1, "waits");
  double most = 0;
  for (int i = 0; i < 100000; ++i)
    most = std::max(most, w.sample(rng));
  EXPECT_LE(most, 5.4e-3);
  EXPECT_GT(most, 5.2e-3) << "the trapezoid reaches slice + tick";
  p.vcpus = 1;
  EXPECT_NEAR(GuestVm("g", p).background_wait().mean(), 0.35e-3 + 2e-3, 1e-9);
  p.vcpus = 16;
  EXPECT_NEAR(GuestVm("g", p).background_wait().mean(), 1.4e-3 + 2e-3, 1e-9);
  p.vcpus   = 2;
  p.tick_hz = 1000;
  EXPECT_NEAR(GuestVm("g", p).background_wait().mean(), 0.7e-3 + 0.5e-3, 1e-9);
}

TEST(GuestVm, BackgroundCpusBeyondTheVcpusIsBadInput)
{
  pvsim::test::TempDir dir;
  json comps                        = guest_on_null_blk(2, 2, 1);
  comps["guest"]["background_cpus"] = 2.5;
  std::string f                     = dir.write("s.json", json{{"duration", "1ms"}, {"components", comps}}.dump());
  auto r                            = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/components/guest/background_cpus"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cannot exceed the guest's 2 vCPUs"), std::string::npos) << r.output;
}

namespace {
/** One job at iodepth 1 (3 + 2 us of CPU per I/O) on a 1-vCPU guest whose vCPU halts between I/Os: a null_blk of
 * `device` keeps it idle that long each time; halt_wake_latency 30 us, busy_kick_latency 15 us. */
json halting_guest(const std::string& device)
{
  json comps                                = guest_on_null_blk(1, 1, 1);
  comps["nullb0"]["completion_latency"]     = device;
  comps["guest"]["halt_wake_latency"]       = "30us";
  comps["guest"]["busy_kick_latency"]       = "15us";
  comps["guest"]["background_preempt_rate"] = "0Hz";
  return comps;
}
} // namespace

TEST(GuestVm, AVcpuIdleLongerThanKvmsHaltPollMaxPaysTheHostsWakeUpEveryTime)
{
  // Idle 300 us a time: each halt (330 us with the wake-up) is longer than halt_poll_max (200 us), so KVM never grows
  // the poll window from 0 and every completion waits for the blocked vCPU thread: 3 + 300 + 30 + 2 us.
  json r          = run(halting_guest("300us"));
  const json& cpu = r["components"]["guest"]["vcpus"][0];
  std::printf("latency %.3f us (expected 335, 1e-6)\n", r["jobs"]["fio"]["latency_us"]["mean"].get<double>());
  EXPECT_NEAR(r["jobs"]["fio"]["latency_us"]["mean"].get<double>(), 335, 1e-6);
  EXPECT_EQ(cpu["halts_polled"].get<int>(), 0);
  EXPECT_GT(cpu["halts_blocked"].get<int>(), 100);
}

TEST(GuestVm, KvmGrowsThePollWindowUntilItCoversTheHaltsThenTheVcpuWakesAtOnce)
{
  // The first submission finds the vCPU halted since it booted (window 0 -> 10 us: grow_halt_poll_ns() starts at
  // halt_poll_grow_start). Then idle 150 us a time, 180 with the wake-up: under halt_poll_max, so each blocked halt
  // doubles the window (20, 40, 80, 160 us); from then on every halt ends while KVM polls: 3 + 150 + 2 us.
  json r          = run(halting_guest("150us"), 0.05, 0);
  const json& cpu = r["components"]["guest"]["vcpus"][0];
  EXPECT_EQ(cpu["halts_blocked"].get<int>(), 5);
  EXPECT_GT(cpu["halts_polled"].get<int>(), 100);
  EXPECT_NEAR(r["jobs"]["fio"]["latency_us"]["p50"].get<double>(), 155, 0.5);
}

TEST(GuestVm, AHaltBeyondTheMaximumResetsThePollWindow)
{
  // halt_poll_shrink 0 (the kernel's default): a halt longer than halt_poll_max takes the window back to 0, and it
  // grows again from halt_poll_grow_start. With a maximum of 100 us, a vCPU idle 150 us a time never keeps a window
  // (with 200 us it does: the test above).
  json comps                      = halting_guest("150us");
  comps["guest"]["halt_poll_max"] = "100us";
  json r                          = run(comps);
  EXPECT_EQ(r["components"]["guest"]["vcpus"][0]["halts_polled"].get<int>(), 0);
  EXPECT_NEAR(r["jobs"]["fio"]["latency_us"]["mean"].get<double>(), 185, 1e-6);
}

TEST(GuestVm, WithoutGrowthTheWindowStaysShutAndEveryHaltBlocks)
{
  // halt_poll_grow 0 (grow_halt_poll_ns() returns at once): the vCPU idle 150 us a time, which the default window
  // covers after five halts, blocks every time: 3 + 150 + 30 + 2 us.
  json comps                       = halting_guest("150us");
  comps["guest"]["halt_poll_grow"] = 0;
  json r                           = run(comps);
  EXPECT_EQ(r["components"]["guest"]["vcpus"][0]["halts_polled"].get<int>(), 0);
  EXPECT_NEAR(r["jobs"]["fio"]["latency_us"]["mean"].get<double>(), 185, 1e-6);
}

TEST(GuestVm, AVcpuThatRunsABackgroundTaskDoesNotHaltButPaysTheKick)
{
  // Background work as large as the guest's idle capacity fills every idle period: no halt, a kick each time
  // (3 + 300 + 15 + 2 us).
  json comps                        = halting_guest("300us");
  comps["guest"]["background_cpus"] = 1;
  json r                            = run(comps);
  EXPECT_NEAR(r["jobs"]["fio"]["latency_us"]["mean"].get<double>(), 320, 1e-6);
  EXPECT_EQ(r["components"]["guest"]["vcpus"][0]["halts_blocked"].get<int>(), 0);
}

TEST(GuestVm, ABackgroundTaskFillsIdlePeriodsInProportionToItsShareOfTheIdleCapacity)
{
  // Half a CPU of background work on a vCPU idle all but 5 us of each I/O (its wake-up is idle time too), about
  // 1 - 5/327 of the time: a share 0.5 / 0.985 of the idle periods end with a kick (15 us), the others with a blocked
  // halt (30 us). 0.5 s: some 1500 periods, a binomial sd of 0.013.
  json comps                        = halting_guest("300us");
  comps["guest"]["background_cpus"] = 0.5;
  json r                            = run(comps, 0.5);
  const json& cpu                   = r["components"]["guest"]["vcpus"][0];
  double kicked                     = cpu["background_kicks"].get<double>();
  double share                      = kicked / (kicked + cpu["halts_blocked"].get<double>());
  std::printf("kicked share %.3f (expected %.3f, 0.03)\n", share, 0.5 / (1 - 5.0 / 327));
  EXPECT_NEAR(share, 0.5 / (1 - 5.0 / 327), 0.03);
  EXPECT_NEAR(r["jobs"]["fio"]["latency_us"]["mean"].get<double>(), 305 + share * 15 + (1 - share) * 30, 0.5);
}

TEST(GuestVm, WithoutAWakeUpLatencyIdleVcpusAreNotModelled)
{
  // The default: no halt statistics, and the latency is the work's alone.
  json r = run(guest_on_null_blk(1, 1, 1));
  EXPECT_FALSE(r["components"]["guest"]["vcpus"][0].contains("halts_blocked"));
  EXPECT_NEAR(r["jobs"]["fio"]["latency_us"]["mean"].get<double>(), 15, 1e-6);
}
