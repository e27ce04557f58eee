/* virtio-blk (its vring: vring_test.cpp): queues and tags as the Linux driver sets them,
 * descriptors without indirect tables, interrupts per virtqueue, virtqueues on IOThreads, conservation. */
#include "models/virtio/virtio_blk.hpp"
#include "tests/support/cli_support.hpp"

using namespace pvsim;

namespace {
struct VirtioSetup {
  int vcpus = 4, numjobs = 1, iodepth = 1, iothreads = 1, io_cores = 4;
  json disk = json::object(), fio = json::object(), iothread = json::object();
};

json components(const VirtioSetup& s)
{
  json fio = {{"type", "job.fio"},   {"vm", "guest"},         {"numjobs", s.numjobs}, {"iodepth", s.iodepth},
              {"submit_cpu", "2us"}, {"complete_cpu", "1us"}, {"target", "blkmq"}};
  fio.update(s.fio);
  json disk = {{"type", "virtio.blk"}, {"vm", "guest"}, {"target", "nullb0"}, {"iothread", "iot0"}};
  disk.update(s.disk);
  if (disk.contains("iothread_vq_mapping"))
    disk.erase("iothread");
  json c = {{"host", {{"type", "cpu.host"}, {"cores", s.vcpus}}},
            {"iohost", {{"type", "cpu.host"}, {"cores", s.io_cores}}},
            {"guest", {{"type", "guest.vm"}, {"vcpus", s.vcpus}, {"pcpus", "host"}}},
            {"fio", fio},
            {"blkmq", {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "vda"}}},
            {"vda", disk},
            {"nullb0", {{"type", "device.null_blk"}, {"completion_latency", "10us"}, {"hw_queue_depth", 4096}}}};
  for (int i = 0; i < s.iothreads; ++i) {
    c["iot" + std::to_string(i)] = {{"type", "qemu.iothread"}, {"cpus", "iohost"}, {"aio", "native"}};
    c["iot" + std::to_string(i)].update(s.iothread);
  }
  return c;
}

json scenario(const VirtioSetup& s, double duration = 0.02)
{
  return {
      {"name", "virtio"}, {"seed", 3}, {"duration_s", duration}, {"warmup_s", 0.002}, {"components", components(s)}};
}

json run(const VirtioSetup& s, double duration = 0.02)
{
  Simulation sim(scenario_from_json(scenario(s, duration), "virtio"));
  json r = sim.run();
  require_conservation(r);
  EXPECT_FALSE(r["liveness"]["stalled"].get<bool>());
  return r;
}

/** `pvsim check` of a scenario whose virtio.blk has `disk` as parameters. */
pvsim::test::CommandResult check(const json& disk)
{
  pvsim::test::TempDir dir;
  VirtioSetup s;
  json comps   = components(s);
  comps["vda"] = disk;
  auto f       = dir.write("s.json", json{{"duration", "1ms"}, {"components", comps}}.dump());
  return pvsim::test::run_pvsim("check " + f);
}

double fio_iops_with_mapping(const json& mapping)
{
  pvsim::test::TempDir dir;
  VirtioSetup s;
  s.vcpus     = 8;
  s.numjobs   = 8;
  s.iodepth   = 32;
  s.iothreads = 4;
  s.disk      = {{"num_queues", 4}, {"iothread_vq_mapping", mapping}};
  auto f      = dir.write("s.json", scenario(s).dump());
  auto r      = pvsim::test::run_pvsim("run -q " + f + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(pvsim::test::read_file(dir.file("out/results.json")))["jobs"]["fio"]["iops"].get<double>();
}
} // namespace

TEST(VirtioBlk, HardwareQueuesAreCappedByTheGuestsVcpus)
{
  VirtioSetup s;
  s.vcpus = 2;
  s.disk  = {{"num_queues", 8}};
  json r  = run(s);
  EXPECT_EQ(r["components"]["vda"]["num_queues"], 2);
  EXPECT_EQ(r["components"]["blkmq"]["hw_queues"].size(), 2u);
  EXPECT_FALSE(r["queues"].contains("vda.vq2"));
}

TEST(VirtioBlk, NumQueuesDefaultsToOnePerVcpu)
{
  VirtioSetup s;
  s.vcpus = 4;
  json r  = run(s);
  EXPECT_EQ(r["components"]["vda"]["num_queues"], 4);
  EXPECT_EQ(r["components"]["blkmq"]["hw_queues"].size(), 4u);
}

TEST(VirtioBlk, TagsFillTheVirtqueueWithIndirectDescriptors)
{
  VirtioSetup s;
  json r = run(s);
  EXPECT_EQ(r["components"]["blkmq"]["hw_queues"][0]["nr_tags"], 256);
}

TEST(VirtioBlk, TagsAreHalvedWithoutIndirectDescriptors)
{
  VirtioSetup s;
  s.disk = {{"indirect_desc", false}, {"queue_size", 512}};
  json r = run(s);
  EXPECT_EQ(r["components"]["vda"]["queue_depth"], 256);
  EXPECT_EQ(r["components"]["blkmq"]["hw_queues"][0]["nr_tags"], 256);
}

TEST(VirtioBlk, WithoutIndirectDescriptorsADeepQueueRunsOutOfDescriptors)
{
  // 128 tags, but a 4 KiB request takes 3 of the 256 descriptors: at most 85 requests fit in the vring.
  VirtioSetup s;
  s.numjobs = 2;
  s.iodepth = 128;
  s.disk    = {{"num_queues", 1}, {"indirect_desc", false}};
  json r    = run(s);
  auto vq   = r["components"]["vda"]["virtqueues"][0];
  EXPECT_GT(vq["queue_stops"].get<int>(), 0);
  EXPECT_LE(vq["max_used_per_interrupt"].get<int>(), 85);
  EXPECT_GT(r["queues"]["vda.vq0"]["mean_wait_us"].get<double>(), 0.0);
}

TEST(VirtioBlk, AStoppedQueueIsRunAgainByKblockdOnTheHctxsCpusInTurn)
{
  // The ring runs out of descriptors (previous test); each completion batch that finds requests waiting queues one
  // kblockd run (restart_cpu, here a very visible 100 us) on the hctx's CPUs, eight runs each in turn. One queue on
  // 4 vCPUs, the job on vCPU 0, the interrupt on vCPU 3: vCPUs 1 and 2 run nothing but their turns.
  VirtioSetup s;
  s.iodepth = 256;
  s.fio     = {{"cpus_allowed", "0"}};
  s.disk    = {{"num_queues", 1}, {"indirect_desc", false}, {"restart_cpu", "100us"}};
  json r    = run(s, 0.05);
  auto vq   = r["components"]["vda"]["virtqueues"][0];
  EXPECT_EQ(vq["irq_vcpu"], 3);
  double restarts = vq["queue_restarts"].get<double>();
  EXPECT_GT(restarts, 32);
  EXPECT_LE(restarts, vq["interrupts"].get<double>()); // at most one run per completion batch
  // vCPUs 1 and 2 run nothing else: each takes its turns (a run costs 100 us plus queue_rq for each request it
  // dispatches), about as much as the other.
  double window = r["window_s"].get<double>();
  double busy1  = r["components"]["guest"]["vcpus"][1]["utilization"].get<double>() * window;
  double busy2  = r["components"]["guest"]["vcpus"][2]["utilization"].get<double>() * window;
  EXPECT_GT(busy1, 0.2 * restarts * 100e-6);
  EXPECT_GT(busy2, 0.2 * restarts * 100e-6);
  EXPECT_NEAR(busy1, busy2, 0.25 * busy1);
}

TEST(VirtioBlk, WithIndirectDescriptorsEveryTagFitsInTheVring)
{
  VirtioSetup s;
  s.numjobs = 2;
  s.iodepth = 128;
  s.disk    = {{"num_queues", 1}};
  json r    = run(s);
  EXPECT_EQ(r["components"]["vda"]["virtqueues"][0]["queue_stops"], 0);
  EXPECT_EQ(r["queues"]["vda.vq0"]["mean_wait_us"].get<double>(), 0.0);
}

TEST(VirtioBlk, OneRequestAtATimeKicksAndInterruptsEveryTime)
{
  VirtioSetup s;
  s.iothread = {{"poll_max", "0s"}}; // an IOThread that does not poll: every request finds notifications on
  json r     = run(s);
  auto vq    = r["components"]["vda"]["virtqueues"][0];
  EXPECT_GT(vq["kicks"].get<int>(), 100);
  EXPECT_EQ(vq["kicks_suppressed"], 0);
  EXPECT_EQ(vq["notifications_suppressed"], 0);
  // One pass per kick; a kick in the run's last instants may have its pass after the end.
  EXPECT_NEAR(vq["kicks"].get<double>(), vq["handler_passes"].get<double>(), 1.0);
}

TEST(VirtioBlk, WhileItsIothreadPollsTheGuestStopsKickingAndThePollFindsTheRequests)
{
  VirtioSetup s; // one request at a time: the IOThread's idle gaps are shorter than poll_max, it stays in poll mode
  json r       = run(s);
  auto vq      = r["components"]["vda"]["virtqueues"][0];
  double added = r["queues"]["vda.vq0"]["requests"].get<double>();
  EXPECT_GT(added, 100);
  EXPECT_LT(vq["kicks"].get<double>(), 0.01 * added);
  EXPECT_GT(vq["kicks_suppressed"].get<double>(), 0.99 * added);
  EXPECT_GT(vq["polled_passes"].get<double>(), 0.99 * added);
  EXPECT_EQ(r["components"]["iot0"]["wakeups"], 0);
}

TEST(VirtioBlk, LeavingPollModeTurnsNotificationsBackOn)
{
  VirtioSetup s; // 40 us between requests (beyond poll_max): every window runs out, the guest kicks each request
  s.fio        = {{"think_time", "40us"}};
  json r       = run(s);
  auto vq      = r["components"]["vda"]["virtqueues"][0];
  double added = r["queues"]["vda.vq0"]["requests"].get<double>();
  EXPECT_GT(added, 100);
  EXPECT_GT(vq["kicks"].get<double>(), 0.99 * added);
  EXPECT_GT(r["components"]["iot0"]["poll"]["expired"].get<double>(), 0);
}

TEST(VirtioBlk, UnderLoadEventIdxSuppressesMostKicksAndInterrupts)
{
  VirtioSetup s;
  s.numjobs = 4;
  s.iodepth = 16;
  s.disk    = {{"num_queues", 1}};
  json r    = run(s);
  auto vq   = r["components"]["vda"]["virtqueues"][0];
  EXPECT_GT(vq["kicks_suppressed"].get<double>(), 2 * vq["kicks"].get<double>());
  EXPECT_GT(vq["notifications_suppressed"].get<double>(), 2 * vq["notifications"].get<double>());
  EXPECT_GT(vq["max_used_per_interrupt"].get<int>(), 1);
}

TEST(VirtioBlk, TheDevicePopsEveryPublishedRequestInOneHandlerPass)
{
  VirtioSetup s;
  s.numjobs = 4;
  s.iodepth = 8;
  s.disk    = {{"num_queues", 1}, {"request_cpu", "5us"}};
  json r    = run(s);
  int multi = 0;
  for (auto& [n, passes] : r["components"]["vda"]["virtqueues"][0]["requests_per_pass"].items())
    if (std::stoi(n) > 1)
      multi += passes.get<int>();
  EXPECT_GT(multi, 0);
}

TEST(VirtioBlk, WithoutEventIdxInterruptsForAPendingVectorMerge)
{
  // With the NO_INTERRUPT flag the device interrupts for every request completed outside virtblk_done; the local
  // APIC keeps one pending interrupt per vector, so most of them merge.
  VirtioSetup s;
  s.numjobs = 4;
  s.iodepth = 32;
  s.disk    = {{"num_queues", 1}, {"event_idx", false}};
  json r    = run(s);
  auto vq   = r["components"]["vda"]["virtqueues"][0];
  EXPECT_GT(vq["interrupts_coalesced"].get<int>(), 0);
  EXPECT_LT(vq["interrupts"].get<int>(), vq["notifications"].get<int>());
}

namespace {
std::vector<int> irq_vcpus_of(const json& r)
{
  std::vector<int> vcpus;
  for (auto& vq : r["components"]["vda"]["virtqueues"])
    vcpus.push_back(vq["irq_vcpu"].get<int>());
  return vcpus;
}
} // namespace

TEST(VirtioBlk, ManagedAffinityPutsEachVectorOnTheLastCpuOfItsGroup)
{
  // Fewest managed vectors, the last CPU on a tie: with disjoint groups, each group's last CPU.
  VirtioSetup s;
  s.vcpus = 8;
  s.disk  = {{"num_queues", 4}};
  EXPECT_EQ(irq_vcpus_of(run(s)), (std::vector<int>{1, 3, 5, 7}));
}

TEST(VirtioBlk, OneQueueOnTwoVcpusInterruptsVcpuOneAsTheRealGuestsDo)
{
  // virtio-vm-1q and qemu-lab-tcg native_q1: "all completions interrupting vCPU 1".
  VirtioSetup s;
  s.vcpus = 2;
  s.disk  = {{"num_queues", 1}};
  EXPECT_EQ(irq_vcpus_of(run(s)), (std::vector<int>{1}));
}

TEST(VirtioBlk, SpreadInterruptsTheFirstVcpuOfEachGroup)
{
  VirtioSetup s;
  s.vcpus = 8;
  s.disk  = {{"num_queues", 4}, {"irq_affinity", "spread"}};
  EXPECT_EQ(irq_vcpus_of(run(s)), (std::vector<int>{0, 2, 4, 6}));
}

TEST(VirtioBlk, ExplicitIrqVcpusOverrideThePolicy)
{
  VirtioSetup s;
  s.vcpus = 4;
  s.disk  = {{"num_queues", 2}, {"irq_vcpus", {3, 3}}};
  EXPECT_EQ(irq_vcpus_of(run(s)), (std::vector<int>{3, 3}));
}

TEST(VirtioBlk, IothreadVqMappingAssignsVirtqueuesRoundRobin)
{
  VirtioSetup s;
  s.iothreads = 2;
  s.disk      = {{"num_queues", 4}, {"iothread_vq_mapping", {"iot1", "iot0"}}};
  json r      = run(s);
  std::vector<std::string> names;
  for (auto& vq : r["components"]["vda"]["virtqueues"])
    names.push_back(vq["iothread"].get<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"iot1", "iot0", "iot1", "iot0"}));
}

TEST(VirtioBlk, AllVirtqueuesOfOneIothreadShareItsCpu)
{
  VirtioSetup s;
  s.vcpus   = 8;
  s.numjobs = 8;
  s.iodepth = 32;
  s.disk    = {{"num_queues", 4}};
  json r    = run(s);
  EXPECT_GT(r["components"]["iot0"]["utilization"].get<double>(), 0.99);
  for (auto& vq : r["components"]["vda"]["virtqueues"])
    EXPECT_EQ(vq["iothread"], "iot0");
}

TEST(VirtioBlk, VirtqueuesSpreadOverFourIothreadsServeMoreThanOnOne)
{
  double one  = fio_iops_with_mapping({"iot0"});
  double four = fio_iops_with_mapping({"iot0", "iot1", "iot2", "iot3"});
  EXPECT_GT(four, 2 * one) << "one IOThread " << one << " IOPS, four " << four;
}

TEST(VirtioBlk, EveryVirtqueueAccountsForItsRequests)
{
  VirtioSetup s;
  s.numjobs = 4;
  s.iodepth = 32;
  s.disk    = {{"num_queues", 2}};
  json r    = run(s, 0.0101);
  for (auto& [name, c] : r["conservation"]["components"].items())
    EXPECT_TRUE(c["ok"].get<bool>()) << name;
  EXPECT_GT(r["conservation"]["components"]["vda.vq0"]["in_flight"].get<int>(), 0);
  EXPECT_GT(r["conservation"]["components"]["iot0.aio"]["issued"].get<int>(), 0);
}

TEST(VirtioBlk, ItNeedsAnIothread)
{
  auto r = check({{"type", "virtio.blk"}, {"vm", "guest"}, {"target", "nullb0"}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/components/vda"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'iothread' or 'iothread_vq_mapping'"), std::string::npos) << r.output;
}

TEST(VirtioBlk, IothreadAndIothreadVqMappingAreExclusive)
{
  auto r = check({{"type", "virtio.blk"},
                  {"vm", "guest"},
                  {"target", "nullb0"},
                  {"iothread", "iot0"},
                  {"iothread_vq_mapping", {"iot0"}}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("set only one of"), std::string::npos) << r.output;
}

TEST(VirtioBlk, AnIothreadMustBeAQemuIothread)
{
  auto r = check({{"type", "virtio.blk"}, {"vm", "guest"}, {"target", "nullb0"}, {"iothread_vq_mapping", {"iohost"}}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/components/vda/iothread_vq_mapping"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("is not a qemu.iothread"), std::string::npos) << r.output;
}

TEST(VirtioBlk, QueueSizeMustBeAPowerOfTwo)
{
  auto r =
      check({{"type", "virtio.blk"}, {"vm", "guest"}, {"target", "nullb0"}, {"iothread", "iot0"}, {"queue_size", 100}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/components/vda/queue_size"), std::string::npos) << r.output;
}

namespace {
/** blk-mq's cpu_list of each hardware queue, for a 4-vCPU guest running Linux `kernel` with 2 virtqueues. */
std::vector<std::string> cpu_lists(const std::string& kernel, const std::string& transport)
{
  VirtioSetup s;
  s.disk                               = {{"num_queues", 2}, {"transport", transport}};
  json doc                             = scenario(s, 0.004);
  doc["components"]["guest"]["kernel"] = kernel;
  Simulation sim(scenario_from_json(doc, "virtio"));
  json r = sim.run();
  std::vector<std::string> out;
  for (const auto& hw : r["components"]["blkmq"]["hw_queues"])
    out.push_back(hw["cpu_list"].get<std::string>());
  return out;
}
} // namespace

TEST(VirtioBlk, OverPciBlkMqMapsCpusByTheManagedAffinityOfTheQueuesVectors)
{
  // Linux 6.1's blk_mq_map_queues() would give {0,2},{1,3}; blk_mq_virtio_map_queues() follows the vectors' spread.
  EXPECT_EQ(cpu_lists("6.1", "pci"), (std::vector<std::string>{"0-1", "2-3"}));
}

TEST(VirtioBlk, OverMmioBlkMqFallsBackToTheKernelsOwnMap)
{
  // virtio-mmio (Firecracker) has no get_vq_affinity: blk_mq_map_queues() of 5.4-6.2 wraps CPUs over the queues.
  EXPECT_EQ(cpu_lists("6.1", "mmio"), (std::vector<std::string>{"0,2", "1,3"}));
}

namespace {
/** Mean latency (us) of one job at iodepth 1 with a 20 us kick of which `share` comes before the ioeventfd's signal. */
double qd1_latency_us_with_signal_share(double share)
{
  pvsim::test::TempDir dir;
  VirtioSetup s;
  s.iothread = {{"poll_max", "0s"}}; // every request kicks
  s.disk     = {{"kick_cpu", "20us"}, {"kick_signal_share", share}};
  auto f     = dir.write("s.json", scenario(s).dump());
  auto r     = pvsim::test::run_pvsim("run -q " + f + " -o " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(pvsim::test::read_file(dir.file("out/results.json")))["jobs"]["fio"]["latency_us"]["mean"]
      .get<double>();
}
} // namespace

TEST(VirtioBlk, TheIothreadStartsWhenKvmSignalsTheIoeventfdNotWhenTheExitEnds)
{
  // KVM signals the ioeventfd inside the exit (ioeventfd_write -> eventfd_signal) and the vCPU goes on with the way
  // back: the host's side starts (1 - share) x kick_cpu earlier, and at iodepth 1 every request gains that much.
  double at_end = qd1_latency_us_with_signal_share(1.0), halfway = qd1_latency_us_with_signal_share(0.5);
  std::printf("[check] latency at iodepth 1: %.2f us signalled at the exit's end, %.2f us halfway: gain %.2f us "
              "(expected 10.00 = 0.5 x 20 us, tolerance 0.5)\n",
              at_end, halfway, at_end - halfway);
  EXPECT_NEAR(at_end - halfway, 10.0, 0.5);
}
