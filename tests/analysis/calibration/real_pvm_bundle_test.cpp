/* The calibration on a third set of real runs (tests/data/real/firecracker-pvm-2vcpu-20261205, its README): a
 * Firecracker guest of 2 vCPUs under PVM, where a kick costs ~10 us and fio's own vCPU, not the VMM thread, bounds one
 * job. What these runs showed, kept from regressing: the saturated run's IOPS then say nothing of the VMM's cost, and
 * the kicks still made at depth must be taken out of the deep runs' slat, not charged twice. */
#include "tests/support/json_support.hpp"

#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::test;

namespace {
std::string data_dir()
{
  return source_dir() + "/tests/data/real/firecracker-pvm-2vcpu-20261205";
}

/** `pvsim calibrate` on the one-job libaio runs of both rounds: the "read" parameters of the device file. */
json calibrate_libaio(const TempDir& dir)
{
  auto r = run_pvsim("calibrate" + trace_args(data_dir() + "/libaio-r1/fio") +
                     trace_args(data_dir() + "/libaio-r2/fio") + " -o " + dir.file("device.json"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json_file(dir.file("device.json"))["parameters"]["read"];
}
} // namespace

TEST(RealPvmBundle, AVcpuBoundSaturationKeepsTheVmmCostFromTheSource)
{
  TempDir dir;
  json read = calibrate_libaio(dir);
  std::printf("[check] bottleneck %s; sync_io_cpu %.2f us (expected 3.00, firecracker.vmm's default)\n",
              read["bottleneck"]["chosen"].get<std::string>().c_str(), read["sync_io_cpu"]["value_us"].get<double>());
  EXPECT_EQ(read["bottleneck"]["chosen"], "the jobs' vCPUs");
  EXPECT_NEAR(read["sync_io_cpu"]["value_us"].get<double>(), 3.0, 1e-9);
  ASSERT_TRUE(read["sync_io_cpu"]["refined"].is_string());
  EXPECT_EQ(read["sync_io_cpu"]["refined"].get<std::string>().rfind("no:", 0), 0u);
}

TEST(RealPvmBundle, TheKicksLeftAtDepthAreSplitOutOfTheDeepSlat)
{
  // slat1 = submit + queue_rq + kick and slat_deep = submit + queue_rq + f x kick, f the share of the saturated
  // run's submissions that kick in the model (~0.2 here: the VMM thread, faster than the guest, often finds the
  // ring empty). Without the split, the 9.5 us deep slat was all submission and the saturated run came out 30 % slow.
  TempDir dir;
  json read        = calibrate_libaio(dir);
  const json& kick = read["kick_cpu"];
  double slat1     = kick["slat_iodepth1_us"].get<double>();
  double slat_deep = kick["slat_deep_us"].get<double>();
  double queue_rq  = kick["queue_rq_cpu_us"].get<double>();
  double f         = kick["kick_fraction_at_depth"].get<double>();
  double submit    = read["submit_cpu"]["value_us"].get<double>();
  double k         = kick["value_us"].get<double>();
  const json& last = kick["refined"]["rounds"].back();
  double target    = kick["refined"]["target_iops"].get<double>();
  double simulated = last["simulated_iops"].get<double>();
  std::printf("[check] kick fraction at depth %.3f (expected 0.1-0.35); slat1 %.2f = submit %.2f + queue_rq %.2f + "
              "kick %.2f us; deep slat %.2f us vs submit + queue_rq + f kick %.2f us (tolerance 1.5 us); saturated run "
              "simulated %.0f vs measured %.0f IOPS (tolerance 15 %%)\n",
              f, slat1, submit, queue_rq, k, slat_deep, submit + queue_rq + f * k, simulated, target);
  EXPECT_GT(f, 0.1);
  EXPECT_LT(f, 0.35);
  EXPECT_NEAR(submit + queue_rq + k, slat1, 1e-6);
  EXPECT_NEAR(submit + queue_rq + f * k, slat_deep, 1.5); // f is damped over the rounds: close, not exact
  EXPECT_LT(submit, slat_deep - queue_rq - 1.0);          // the split moved CPU from submission to kicks
  EXPECT_NEAR(simulated, target, 0.15 * target);
}

TEST(RealPvmBundle, EachConfigurationIsPredictedByTheOthers)
{
  // Every run of the set (libaio, io_uring, 1-4 jobs, 1 or 4 files, random writes), leave-out by configuration.
  // Reached: 17.1 % median IOPS (22.4 % before the kick split); the repeats of this host differ by up to 27 %.
  TempDir dir;
  std::string traces;
  for (const char* b : {"libaio-r1", "libaio-r2", "uring", "write", "files"})
    traces += trace_args(data_dir() + "/" + b + "/fio");
  json v = validate_json("--leave-out config", traces, dir);
  std::printf("[check] each configuration in turn: median |error| IOPS %.1f %% (bound 21), clat mean %.1f %% (bound "
              "23)\n",
              median_abs_error(v, "iops"), median_abs_error(v, "clat_mean_us"));
  EXPECT_EQ(v["runs"].size(), 31u);
  EXPECT_LE(median_abs_error(v, "iops"), 21.0);
  EXPECT_LE(median_abs_error(v, "clat_mean_us"), 23.0);
}
