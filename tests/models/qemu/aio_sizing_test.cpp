/* AIO queue sizing (issue 19, part 1): the fixed queue shared as n closed loops share k slots, per-disk and adaptive
 * sizing, hot-plug, the host request queue that makes io_submit sleep (where a longer queue is worse), the QEMU
 * version's defaults, the cost in kernel memory. Devices of ample parallelism and 5 ms mean service (lognormal, cv
 * 0.5), so that Little's law gives the throughput: a disk with c requests in flight does c / 5 ms (the IOThread stays
 * below saturation). */
#include "models/qemu/aio_sizing.hpp"
#include "tests/support/cli_support.hpp"

#include <cmath>

using namespace pvsim;

namespace {
struct SizingSetup {
  int disks = 4, iodepth = 64;
  std::string aio = "native", sizing = "fixed";
  json iothread   = json::object(); // more iothread fields
  json disk0      = json::object(); // more fields of vd0 (hot-plug)
  json fio0       = json::object(); // more fields of fio0
  double duration = 0.1, warmup = 0.02;
  json service = {{"dist", "lognormal"}, {"mean", "5ms"}, {"cv", 0.5}};
};

json run(const SizingSetup& s)
{
  int vcpus = s.disks;
  json c    = {{"host", {{"type", "cpu.host"}, {"cores", vcpus}}},
               {"iohost", {{"type", "cpu.host"}, {"cores", 2}}},
               {"guest", {{"type", "guest.vm"}, {"vcpus", vcpus}, {"pcpus", "host"}}}};
  json t    = {{"type", "qemu.iothread"}, {"cpus", "iohost"}, {"aio", s.aio}, {"sizing", s.sizing}};
  t.update(s.iothread);
  c["iot"] = t;
  for (int d = 0; d < s.disks; ++d) {
    std::string n  = std::to_string(d);
    c["fio" + n]   = {{"type", "job.fio"},   {"vm", "guest"},         {"iodepth", s.iodepth}, {"cpus_allowed", n},
                      {"submit_cpu", "1us"}, {"complete_cpu", "1us"}, {"target", "blkmq" + n}};
    c["blkmq" + n] = {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "vd" + n}};
    c["vd" + n]    = {{"type", "virtio.blk"}, {"vm", "guest"},     {"target", "lun" + n},
                      {"num_queues", 1},      {"queue_size", 256}, {"iothread", "iot"}};
    c["lun" + n]   = {{"type", "device.parallel"}, {"channels", 1024}, {"read_service", s.service}};
  }
  c["vd0"].update(s.disk0);
  c["fio0"].update(s.fio0);
  json doc = {{"name", "sizing"}, {"seed", 5}, {"duration_s", s.duration}, {"warmup_s", s.warmup}, {"components", c}};
  Simulation sim(scenario_from_json(doc, "sizing"));
  json r = sim.run();
  require_conservation(r);
  return r;
}

constexpr double s_ = 5e-3; // the devices' service time

double iops(const json& r, int disk)
{
  return r["jobs"]["fio" + std::to_string(disk)]["iops"].get<double>();
}

double mean_iops(const json& r, int disks)
{
  double sum = 0;
  for (int d = 0; d < disks; ++d)
    sum += iops(r, d);
  return sum / disks;
}

void expect_near_rel(const std::string& what, double got, double expected, double tol, const std::string& why)
{
  std::cout << what << ": expected " << expected << " +/- " << tol * 100 << " % (" << why << "), got " << got << "\n";
  EXPECT_NEAR(got, expected, tol * expected) << what;
}
} // namespace

TEST(AioSizing, TheRegistryHasFixedPerDiskAndAdaptive)
{
  EXPECT_EQ(aio_sizing_names(), (std::vector<std::string>{"adaptive", "fixed", "per-disk"}));
  ASSERT_NE(aio_sizing_info("adaptive"), nullptr);
  EXPECT_NE(std::string(aio_sizing_info("adaptive")->params).find("sizing_step"), std::string::npos);
}

TEST(AioSizing, FixedSharesKSlotsAmongNClosedLoopsAsTheClosedFormSays)
{
  // 4 disks x 64 outstanding on a 64-event queue: each disk keeps k / n = 16 in flight, so 16 / 5 ms = 3200 IOPS.
  SizingSetup s;
  s.iothread = {{"max_events", 64}};
  s.service  = "5ms"; // deterministic: the closed form is exact
  json r     = run(s);
  for (int d = 0; d < 4; ++d)
    expect_near_rel("disk " + std::to_string(d) + " IOPS", iops(r, d), 16 / s_, 0.05,
                    "n closed loops sharing k slots of a 2 ms infinite server: (k / n) / s");
  EXPECT_EQ(r["components"]["iot"]["engine"]["max_in_flight"], 64);
  EXPECT_GT(r["components"]["iot"]["engine"]["waited"].get<double>(), 0);
}

TEST(AioSizing, PerDiskGivesEachDiskItsOwnCapacitySoNothingWaits)
{
  SizingSetup s;
  s.sizing   = "per-disk";
  s.iothread = {{"max_events", 64}};
  json r     = run(s);
  EXPECT_EQ(r["components"]["iot"]["sizing"]["length"], 4 * 256); // each disk's 256 descriptors
  EXPECT_EQ(r["components"]["iot"]["engine"]["waited"], 0);
  expect_near_rel("per-disk IOPS", mean_iops(r, 4), 64 / s_, 0.05, "each disk's 64 in flight: 64 / s");
}

TEST(AioSizing, PerDiskLengthIsTheGivenLengthTimesTheDisks)
{
  SizingSetup s;
  s.sizing   = "per-disk";
  s.iothread = {{"per_disk_length", 32}};
  json r     = run(s);
  EXPECT_EQ(r["components"]["iot"]["sizing"]["length"], 128);
  expect_near_rel("per-disk IOPS", mean_iops(r, 4), 32 / s_, 0.05, "32 slots per disk: 32 / s");
}

TEST(AioSizing, PerDiskFollowsAHotPluggedDiskInAndOut)
{
  SizingSetup s;
  s.sizing   = "per-disk";
  s.iothread = {{"per_disk_length", 32}};
  s.disk0    = {{"plug_at", "30ms"}, {"unplug_at", "70ms"}};
  s.fio0     = {{"startdelay", "30ms"}, {"runtime", "35ms"}};
  json r     = run(s);
  json z     = r["components"]["iot"]["sizing"];
  EXPECT_EQ(z["length"], 96); // vd0 has left again: 3 disks
  EXPECT_EQ(z["max_length"], 128);
  EXPECT_GE(z["resizes"].get<int>(), 2); // in at 30 ms, out once drained after 70 ms
  EXPECT_GT(iops(r, 0), 0);
}

TEST(AioSizing, AJobOutlivingItsHotUnpluggedDiskIsAnInputError)
{
  SizingSetup s;
  s.disk0 = {{"unplug_at", "50ms"}};
  try {
    run(s);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "/components/fio0/runtime") << e.what();
    EXPECT_NE(e.detail().find("'vd0', plugged from 0 s to 0.05 s"), std::string::npos) << e.what();
  }
}

TEST(AioSizing, AMisspeltPolicyIsAnInputErrorWithASuggestion)
{
  SizingSetup s;
  s.sizing = "per_disk";
  try {
    run(s);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "/components/iot/sizing");
    EXPECT_NE(e.detail().find("did you mean 'per-disk'"), std::string::npos) << e.what();
  }
}

TEST(AioSizing, AdaptiveGrowsTheQueueUntilNothingWaits)
{
  SizingSetup s;
  s.sizing   = "adaptive";
  s.iothread = {{"max_events", 64}};
  json r     = run(s);
  json z     = r["components"]["iot"]["sizing"];
  EXPECT_GE(z["length"].get<int>(), 256) << z.dump();
  expect_near_rel("adaptive IOPS", mean_iops(r, 4), 64 / s_, 0.05,
                  "grown past the disks' 256 requests within the warm-up: as per-disk");
}

TEST(AioSizing, ANativeQueueNoLongerThanAHostQueueNeverSleepsInIoSubmit)
{
  // Host request queues of 32 per LUN, guests 64 deep per disk: a 32-event queue can never fill one LUN's queue.
  SizingSetup s;
  s.iothread = {{"max_events", 32}, {"host_nr_requests", 32}};
  json r     = run(s);
  EXPECT_EQ(r["components"]["iot"]["host_queue"]["blocked_s"], 0.0);
  expect_near_rel("IOPS per disk", mean_iops(r, 4), 8 / s_, 0.05, "32 events shared by 4 disks: (32 / 4) / s");
}

TEST(AioSizing, ANativeQueueLongerThanTheHostQueuesMakesIoSubmitSleepAndLoses)
{
  // The same host queues under the per-disk queue (4 x 256): io_submit sleeps for tags inside the IOThread, which
  // meanwhile reaps nothing and pops nothing, for every disk: less than the right-sized queue's 32 / s.
  SizingSetup s;
  s.sizing   = "per-disk";
  s.iothread = {{"host_nr_requests", 32}};
  json r     = run(s);
  EXPECT_GT(r["components"]["iot"]["host_queue"]["blocked_fraction"].get<double>(), 0.2);
  std::cout << "per-disk: " << mean_iops(r, 4) << " IOPS per disk; the right-sized queue gives " << 32 / s_ << "\n";
  EXPECT_LT(mean_iops(r, 4), 0.9 * 32 / s_);
}

TEST(AioSizing, AdaptiveBacksOffBelowTheHostQueues)
{
  SizingSetup s;
  s.sizing   = "adaptive";
  s.iothread = {{"host_nr_requests", 32}};
  json r     = run(s);
  json h     = r["components"]["iot"]["host_queue"];
  std::cout << "adaptive: " << mean_iops(r, 4) << " IOPS per disk (every host tag busy: " << 32 / s_
            << "), io_submit asleep " << h["blocked_fraction"] << " of the time\n";
  EXPECT_LT(r["components"]["iot"]["sizing"]["mean_length"].get<double>(), 256); // below the guests' 4 x 64
  EXPECT_GT(r["components"]["iot"]["sizing"]["resizes"].get<double>(), 10);      // it keeps probing
  EXPECT_GT(mean_iops(r, 4), 0.6 * 32 / s_); // the per-disk queue gives about 0.57 here (one process, one run)
}

TEST(AioSizing, ThreadsSleepInAWorkerNotInTheIothread)
{
  SizingSetup s;
  s.aio      = "threads";
  s.iothread = {{"max_threads", 256}, {"host_nr_requests", 32}};
  json r     = run(s);
  json h     = r["components"]["iot"]["host_queue"];
  EXPECT_GT(h["full"].get<double>(), 0);
  EXPECT_EQ(h["blocked_s"], 0.0);
  expect_near_rel("threads IOPS", mean_iops(r, 4), 32 / s_, 0.05, "32 host tags per LUN: 32 / s");
}

TEST(AioSizing, QemuBefore50Has128EventsAndNoBatchLimit)
{
  SizingSetup s;
  s.iothread = {{"qemu_version", "4.2"}};
  json e     = run(s)["components"]["iot"]["engine"];
  EXPECT_EQ(e["max_events"], 128);
  EXPECT_GT(e["aio_max_batch"].get<double>(), 1e9); // laio_do_submit() before 6.1: only MAX_EVENTS bounds a batch
}

TEST(AioSizing, QemuSince61Has1024EventsAndBatchesOf32)
{
  SizingSetup s;
  json e = run(s)["components"]["iot"]["engine"];
  EXPECT_EQ(e["max_events"], 1024);
  EXPECT_EQ(e["aio_max_batch"], 32);
}

TEST(AioSizing, KernelMemoryIsTheIoSetupRingOfTwiceTheEvents)
{
  SizingSetup s; // 1024 events on a 2-CPU host: 2 x 1024 io_events of 32 bytes + 32, in 4 KiB pages = 17 pages
  json r = run(s);
  EXPECT_EQ(r["components"]["iot"]["sizing"]["kernel_memory_bytes"], 17 * 4096);
}
