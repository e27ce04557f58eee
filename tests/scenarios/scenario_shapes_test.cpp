/* The published shapes the block-stack scenarios must show, with stated tolerances. Each point is one pvsim process
 * (--set overrides of the committed scenario), as a user's sweep would run it. */
#include "tests/support/json_support.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <functional>
#include <sstream>

using namespace pvsim::test;
using nlohmann::json;

namespace {
/** Total IOPS of all the scenario's jobs with the given overrides. */
double iops(const std::string& scenario, const std::vector<std::string>& sets)
{
  json res     = run_scenario(scenario, sets);
  double total = 0;
  for (auto& [name, job] : res["jobs"].items())
    total += job["iops"].get<double>();
  return total;
}

double xen_blk_mq(int queues, int jobs)
{
  return iops("xen-blk-mq.json", {"components.xvda.max_queues=" + std::to_string(queues),
                                  "components.fio.numjobs=" + std::to_string(jobs)});
}

void expect_within(const std::string& what, double got, double published, double rel_tol,
                   const char* source = "published")
{
  std::printf("[shape] %-40s simulated %8.0f  %s %8.0f  (%+.0f%%, tolerance ±%.0f%%)\n", what.c_str(), got, source,
              published, (got / published - 1) * 100, rel_tol * 100);
  EXPECT_LE(std::fabs(got / published - 1), rel_tol) << what;
}

/** IOPS of a published row of analysis/published/xen_blkfront_mq_2015.csv (numjobs,max_queues,kiops,label) at
 * `jobs`: the row is the label's start ("RFC before", "RFC after"). */
double published_iops(const std::string& row, int jobs)
{
  std::istringstream csv(read_file(source_dir() + "/analysis/published/xen_blkfront_mq_2015.csv"));
  for (std::string line; std::getline(csv, line);) {
    std::istringstream fields(line);
    std::string numjobs, queues, kiops, label;
    if (line.empty() or line[0] == '#' or not std::getline(fields, numjobs, ',') or
        not std::getline(fields, queues, ',') or not std::getline(fields, kiops, ',') or
        not std::getline(fields, label))
      continue;
    if (label.rfind(row, 0) == 0 and numjobs == std::to_string(jobs))
      return std::stod(kiops) * 1000;
  }
  ADD_FAILURE() << "no published point '" << row << "' at " << jobs << " jobs";
  return 1;
}

/** Each of a published row's points at 1, 4, 8 and 16 jobs against `simulate(jobs)`, within `rel_tol`; `how` says
 * per point whether it was fitted or predicted. */
void expect_row_within(const std::string& name, const std::string& row, const std::function<double(int)>& simulate,
                       const std::array<const char*, 4>& how, double rel_tol)
{
  const std::array<int, 4> jobs = {1, 4, 8, 16};
  for (std::size_t i = 0; i < jobs.size(); ++i)
    expect_within(name + ", " + std::to_string(jobs[i]) + (jobs[i] == 1 ? " job (" : " jobs (") + how[i] + ")",
                  simulate(jobs[i]), published_iops(row, jobs[i]), rel_tol);
}
} // namespace

// Published (Linux 2015 xen-blkfront blk-mq series, 16-vCPU domU, null_blk): the driver before the series (legacy,
// one ring and one io_lock: xen-blk-legacy.json) 57k/95k/89k/68k IOPS for 1/4/8/16 jobs; with the series, 16
// hardware queues, 58k/201k/372k/284k (analysis/published/xen_blkfront_mq_2015.csv says what each row is).

namespace {
double xen_blk_legacy(int jobs)
{
  return iops("xen-blk-legacy.json", {"components.fio.numjobs=" + std::to_string(jobs)});
}
} // namespace

// Fitted on this row: the job's CPU (xen-blk-mq's calibration, on 1 job), elevator_cpu (4 jobs) and pv_wake_latency
// (16 jobs); the backend's CPU comes from the v3 series' single ring. 8 jobs is the prediction.
TEST(XenBlkLegacyShape, EveryPublishedPointWithinFifteenPercent)
{
  expect_row_within("legacy", "RFC before", xen_blk_legacy, {"fitted: job CPU", "fitted", "predicted", "fitted"}, 0.15);
}

TEST(XenBlkLegacyShape, IopsPeakAtFourJobsAndFallPastThem)
{
  double one = xen_blk_legacy(1), four = xen_blk_legacy(4), eight = xen_blk_legacy(8), sixteen = xen_blk_legacy(16);
  EXPECT_GT(four, one);
  EXPECT_GT(four, eight) << "past saturation the io_lock makes more jobs worse";
  EXPECT_GT(eight, sixteen);
}

TEST(XenBlkLegacyShape, WithoutTheLockNothingFalls)
{
  // The decline is the lock's: switched off, 16 jobs do at least as well as 4.
  double four    = iops("xen-blk-legacy.json", {"components.fio.numjobs=4", "components.xvda.ring_lock=off"});
  double sixteen = iops("xen-blk-legacy.json", {"components.fio.numjobs=16", "components.xvda.ring_lock=off"});
  std::printf("[shape] legacy without io_lock: 4 jobs %.0f, 16 jobs %.0f\n", four, sixteen);
  EXPECT_GE(sixteen, four * 0.98);
}

TEST(XenBlkMqShape, OneJobIsBoundByItsVcpuWhateverTheQueues)
{
  expect_within("1 queue, 1 job", xen_blk_mq(1, 1), 57000, 0.15);
  expect_within("4 queues, 1 job", xen_blk_mq(4, 1), 58000, 0.15);
}

TEST(XenBlkMqShape, WithOneQueueIopsStopGrowingAfterFourJobs)
{
  double four = xen_blk_mq(1, 4), sixteen = xen_blk_mq(1, 16);
  expect_within("1 queue, 4 jobs", four, 95000, 0.15);
  // Stops growing: 16 jobs give at most 5 % more than 4 (published: 28 % less, from contention pvsim leaves out).
  EXPECT_LE(sixteen, four * 1.05) << "one ring must be the bottleneck";
}

TEST(XenBlkMqShape, WithFourQueuesIopsGrowUntilTheBackendCpusSaturate)
{
  double one = xen_blk_mq(4, 1), four = xen_blk_mq(4, 4), eight = xen_blk_mq(4, 8), sixteen = xen_blk_mq(4, 16);
  expect_within("4 queues, 4 jobs", four, 201000, 0.30);
  expect_within("4 queues, 8 jobs", eight, 372000, 0.15);
  EXPECT_GE(eight, 5 * one) << "multi-queue must scale with the jobs";
  EXPECT_GE(eight, 3 * xen_blk_mq(1, 8)) << "4 queues must beat 1 queue at 8 jobs by far";
  EXPECT_LE(sixteen, eight * 1.05) << "dom0's 4 CPUs are saturated at 8 jobs";
}

namespace {
double xen_blk_rfc(int jobs, const std::string& pool = "device")
{
  return iops("xen-blk-rfc.json",
              {"components.fio.numjobs=" + std::to_string(jobs), "components.vbd.pgrants_pool=" + pool});
}
} // namespace

// The RFC's "after" row (16 rings, the IOmeter mix). Nothing is fitted on it: the CPU costs are xen-blk-mq.json's,
// fitted on the "before" row; the shared tree of persistent grants is the series' own code before its v4 patch 10.
TEST(XenBlkRfcShape, EveryPublishedPointWithinFifteenPercent)
{
  expect_row_within(
      "RFC after", "RFC after", [](int jobs) { return xen_blk_rfc(jobs); },
      {"predicted", "predicted", "predicted", "predicted"}, 0.15);
}

TEST(XenBlkRfcShape, IopsPeakAtEightJobsAndFallAtSixteen)
{
  double four = xen_blk_rfc(4), eight = xen_blk_rfc(8), sixteen = xen_blk_rfc(16);
  std::printf("[shape] RFC after: 4 jobs %.0f, 8 jobs %.0f, 16 jobs %.0f IOPS (published 201k, 372k, 284k)\n", four,
              eight, sixteen);
  EXPECT_GT(eight, four);
  EXPECT_LT(sixteen, 0.93 * eight) << "past the shared persistent grants, 16 jobs must fall clearly below 8";
}

TEST(XenBlkRfcShape, WithPersistentGrantsPerRingNothingFalls)
{
  // Linux 4.6 as merged: each ring has its own 1056 grants, the grants in flight always fit, and 16 jobs do as well
  // as 8 (dom0's 4 CPUs saturated): the decline is the shared tree's.
  double eight = xen_blk_rfc(8, "ring"), sixteen = xen_blk_rfc(16, "ring");
  std::printf("[shape] RFC after with per-ring grants: 8 jobs %.0f, 16 jobs %.0f IOPS\n", eight, sixteen);
  EXPECT_GE(sixteen, 0.97 * eight);
}

TEST(XenBlkRfcShape, WithSixteenJobsFourRingsBeatEightAndEightBeatSixteen)
{
  // The rings share the device's persistent grants: 4 rings stay inside them, 8 fill them and map a few grants per
  // request, 16 map six times as many on dom0's saturated CPUs. The v4 series' order with its shared pools (1024k >
  // 800k > 750k); the margin here is 2 % and 14 %, the published one 22 % and 27 %.
  auto rings = [](int n) {
    return iops("xen-blk-rfc.json", {"components.xvda.max_queues=" + std::to_string(n), "components.fio.numjobs=16"});
  };
  double four = rings(4), eight = rings(8), sixteen = rings(16);
  std::printf("[shape] RFC mix, 16 jobs: 4 rings %.0f > 8 rings %.0f > 16 rings %.0f IOPS\n", four, eight, sixteen);
  EXPECT_GT(four, eight);
  EXPECT_LT(sixteen, 0.93 * eight) << "16 rings must fall clearly below 8: their grants outgrow the shared pool";
}

TEST(XenBlkRfcShape, WithPersistentGrantsPerRingSixteenRingsLoseNothingToEight)
{
  // The same with the per-ring pools merged in Linux 4.6: every ring keeps its grants, and 16 rings do within 3 % of 8.
  auto rings = [](int n) {
    return iops("xen-blk-rfc.json", {"components.xvda.max_queues=" + std::to_string(n), "components.fio.numjobs=16",
                                     "components.vbd.pgrants_pool=ring"});
  };
  double eight = rings(8), sixteen = rings(16);
  std::printf("[shape] RFC mix, 16 jobs, per-ring grants: 8 rings %.0f, 16 rings %.0f IOPS\n", eight, sixteen);
  EXPECT_GE(sixteen, 0.97 * eight);
}

TEST(XenBlkQueuesShape, MoreQueuesThanBackendCpusDoNotHelp)
{
  auto q      = [](int n) { return iops("xen-blk-queues.json", {"components.xvda.max_queues=" + std::to_string(n)}); };
  double four = q(4), eight = q(8), sixteen = q(16);
  std::printf("[shape] xen-blk-queues: 4 queues %.0f, 8 queues %.0f, 16 queues %.0f IOPS\n", four, eight, sixteen);
  EXPECT_LE(eight, four * 1.02);
  EXPECT_LE(sixteen, four * 1.02);
  EXPECT_GE(four, 1.8 * q(2)) << "up to dom0's CPU count, queues do help";
}

TEST(XenBlkQueuesShape, FourRingsBeatEightAndEightBeatSixteen)
{
  // The v4 series' order (1024k > 800k > 750k): past dom0's 4 CPUs, more kthreads only add CFS's context switches.
  // Its size (27 %) is not reproduced: the margin here is about 1 %.
  auto q      = [](int n) { return iops("xen-blk-queues.json", {"components.xvda.max_queues=" + std::to_string(n)}); };
  double four = q(4), eight = q(8), sixteen = q(16);
  std::printf("[shape] xen-blk-queues: 4 queues %.0f > 8 queues %.0f > 16 queues %.0f IOPS\n", four, eight, sixteen);
  EXPECT_GT(four, eight);
  EXPECT_GT(eight, sixteen);
}

namespace {
double virtio_iothreads(int iothreads, int jobs)
{
  std::string mapping = iothreads == 1 ? "[\\\"iot0\\\"]" : "[\\\"iot0\\\",\\\"iot1\\\",\\\"iot2\\\",\\\"iot3\\\"]";
  return iops("virtio-blk-iothreads.json", {"\"components.vda.iothread_vq_mapping=" + mapping + "\"",
                                            "components.fio.numjobs=" + std::to_string(jobs)});
}
} // namespace

TEST(VirtioBlkIothreadsShape, OneIothreadSaturatesAndFourScaleFurther)
{
  double one8 = virtio_iothreads(1, 8), one16 = virtio_iothreads(1, 16), four8 = virtio_iothreads(4, 8);
  std::printf("[shape] virtio-blk-iothreads: 1 IOThread 8 jobs %.0f, 16 jobs %.0f; 4 IOThreads 8 jobs %.0f IOPS\n",
              one8, one16, four8);
  EXPECT_LE(one16, one8 * 1.1) << "one IOThread's CPU is the bottleneck";
  // Four IOThreads scale until the 8 vCPUs (8 jobs plus the completion interrupts) are busy: ~2.45x here.
  EXPECT_GE(four8, 2.3 * one8) << "spreading the virtqueues over four IOThreads must scale";
}

TEST(QemuSharedAioShape, ASmallSharedEngineQueueCapsTheTotalOutstandingIo)
{
  // 4 disks x 64 reads outstanding on 2 ms LUNs: 256 in flight would give 128k IOPS; a shared queue of 64 gives 32k.
  double shared_default = iops("qemu-shared-aio.json", {});
  double shared_small   = iops("qemu-shared-aio.json", {"components.iot0.max_events=64"});
  std::vector<std::string> separate{"components.vdb.iothread=iot1", "components.vdc.iothread=iot2",
                                    "components.vdd.iothread=iot3"};
  for (const char* iot : {"iot0", "iot1", "iot2", "iot3"})
    separate.push_back(std::string("components.") + iot + ".max_events=64");
  double separate_small = iops("qemu-shared-aio.json", separate);
  expect_within("shared AioContext, max_events 1024", shared_default, 128000, 0.05, "Little's law");
  expect_within("shared AioContext, max_events 64", shared_small, 32000, 0.05, "Little's law");
  expect_within("one AioContext each, max_events 64 each", separate_small, 128000, 0.05, "Little's law");
}

namespace {
/** Mean IOPS per disk of qemu-aio-sizing.json under `sizing`, averaged over seeds 1 and 2 (the repeats' noise is
 * printed: the spread between the two). */
double sizing_per_disk(const std::string& sizing, const std::vector<std::string>& more = {})
{
  double sum = 0, lo = 1e300, hi = 0;
  for (int seed : {1, 2}) {
    std::vector<std::string> sets{"components.iot.sizing=" + sizing, "seed=" + std::to_string(seed)};
    sets.insert(sets.end(), more.begin(), more.end());
    double v = iops("qemu-aio-sizing.json", sets) / 8;
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  std::printf("[shape] qemu-aio-sizing %-9s %8.0f IOPS per disk (seeds 1, 2: %.0f .. %.0f)\n", sizing.c_str(), sum / 2,
              lo, hi);
  return sum / 2;
}
} // namespace

// Issue 19's "done when": with 8 disks on one AioContext, QEMU's fixed 1024 events give each disk half of what
// sizing the queue per disk gives, and the adaptive policy, untuned, is at least as good as the better of the two.
TEST(QemuAioSizingShape, WithEightDisksPerDiskBeatsFixedAndAdaptiveMatchesTheBetter)
{
  double fixed = sizing_per_disk("fixed"), per_disk = sizing_per_disk("per-disk");
  double adaptive = sizing_per_disk("adaptive");
  EXPECT_LT(fixed, 0.7 * per_disk);
  EXPECT_GE(adaptive, 0.97 * std::max(fixed, per_disk));
}

// Where more is worse: guests 512 deep per disk overfill the LUNs' host request queues (256) under the per-disk queue,
// and io_submit sleeps for tags inside the IOThread; QEMU's fixed queue overfills them less; adaptive backs off.
TEST(QemuAioSizingShape, PastTheHostQueuesPerDiskLosesAndAdaptiveStillMatchesTheBetter)
{
  std::vector<std::string> deep{"groups.disk.components.fio{i}.iodepth=512",
                                "groups.disk.components.vd{i}.queue_size=512"};
  double fixed = sizing_per_disk("fixed", deep), per_disk = sizing_per_disk("per-disk", deep);
  double adaptive = sizing_per_disk("adaptive", deep);
  EXPECT_LT(per_disk, 0.7 * fixed);
  EXPECT_GE(adaptive, 0.97 * std::max(fixed, per_disk));
}
