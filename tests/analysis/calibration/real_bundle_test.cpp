/* The calibration on a second set of real runs (tests/data/real/firecracker-2vcpu-20261205/bundle, its README):
 * a Firecracker guest of 2 vCPUs, iodepth 1-256 x 1 and 2 jobs. The figures are leave-out ones (no run is predicted
 * by a calibration that saw it); the bounds are those reached when these runs were added, with room for the
 * simulations' seeds, so that a regression shows. */
#include "tests/support/json_support.hpp"

#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::test;

namespace {
std::string bundle_dir()
{
  return source_dir() + "/tests/data/real/firecracker-2vcpu-20261205/bundle";
}

json leave_out(const std::string& mode, const TempDir& dir)
{
  return validate_json(mode, trace_args(bundle_dir() + "/fio"), dir);
}

double worst_iops(const json& v)
{
  double worst = 0;
  for (const auto& r : v["runs"])
    worst = std::max(worst, std::abs(r["error_pct"]["iops"].get<double>()));
  return worst;
}
} // namespace

TEST(RealFirecrackerBundle, TheGuestIsDetectedAsFirecracker)
{
  auto r = run_pvsim("detect " + bundle_dir());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("vmm: firecracker"), std::string::npos) << r.output;
}

TEST(RealFirecrackerBundle, TwoJobRunsArePredictedFromOneJobRuns)
{
  // One VMM thread serves both jobs: calibrated on the 1-job runs, the 2-job ones within 3.5 % (median), 8 % worst.
  TempDir dir;
  json v = leave_out("--hold-out 'numjobs>1'", dir);
  std::printf("[check] 2-job runs from 1-job runs: median |error| IOPS %.1f %% (bound 6), clat mean %.1f %% (bound 6), "
              "worst IOPS %.1f %% (bound 12)\n",
              median_abs_error(v, "iops"), median_abs_error(v, "clat_mean_us"), worst_iops(v));
  EXPECT_EQ(v["runs"].size(), 6u);
  EXPECT_LE(median_abs_error(v, "iops"), 6.0);
  EXPECT_LE(median_abs_error(v, "clat_mean_us"), 6.0);
  EXPECT_LE(worst_iops(v), 12.0);
}

TEST(RealFirecrackerBundle, EachConfigurationIsPredictedByTheOthers)
{
  // Leave-out by configuration (12 folds). Reached: 7.6 % median IOPS, 13.3 % worst. Before the VMM cost's
  // refinement stopped scaling its step by the jobs, folds with a 2-job saturated run oscillated (worst +120 %).
  TempDir dir;
  json v = leave_out("--leave-out config", dir);
  std::printf("[check] each configuration in turn: median |error| IOPS %.1f %% (bound 10), clat mean %.1f %% (bound "
              "10), worst IOPS %.1f %% (bound 20)\n",
              median_abs_error(v, "iops"), median_abs_error(v, "clat_mean_us"), worst_iops(v));
  EXPECT_LE(median_abs_error(v, "iops"), 10.0);
  EXPECT_LE(median_abs_error(v, "clat_mean_us"), 10.0);
  EXPECT_LE(worst_iops(v), 20.0);
}

TEST(RealFirecrackerBundle, PvsimInstalledUnderAnotherNameStillRefinesItsFits)
{
  // calibrate refines the VMM's cost by running the pvsim binary; a copy called otherwise (pvsim-35, an installed
  // name) is still that binary, and must give the same device file, not skip the refinement.
  TempDir dir;
  std::string copy = dir.file("pvsim-renamed");
  std::filesystem::copy_file(pvsim_binary(), copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
  std::string traces = trace_args(bundle_dir() + "/fio");
  auto renamed       = run_command(copy + " calibrate" + traces + " -o " + dir.file("renamed.json"));
  auto named         = run_pvsim("calibrate" + traces + " -o " + dir.file("named.json"));
  ASSERT_EQ(renamed.exit_code, 0) << renamed.output;
  ASSERT_EQ(named.exit_code, 0) << named.output;
  json refined = read_json_file(dir.file("renamed.json"))["parameters"]["read"]["sync_io_cpu"]["refined"];
  EXPECT_TRUE(refined.is_object()) << refined.dump(); // "no: not run from the pvsim binary" before
  EXPECT_EQ(read_file(dir.file("renamed.json")), read_file(dir.file("named.json")));
}

TEST(RealFirecrackerBundle, ThePassPingPongIsSimulatedAsMeasured)
{
  // The host's /proc/interrupts around each run: every interrupt returns the whole batch in flight (1, 4, 16; with
  // two jobs 2, 8, 31), at most the 85 requests the ring holds (83-86 from 128 in flight on), the VMM's pass
  // ping-pong of Firecracker >= 1.13. The model's virtqueue interrupts do the same, within 10 %, in 4-fold leave-out;
  // not yet at iodepth 64 with one job, where the model splits the cycle in two passes (about 33-36 requests per
  // interrupt against 63; README "Requests per interrupt").
  TempDir dir;
  json v      = leave_out("--kfold 4", dir);
  int checked = 0;
  for (const auto& r : v["runs"]) {
    ASSERT_TRUE(r.contains("requests_per_interrupt")) << r["trace"];
    std::string trace = r["trace"].get<std::string>();
    double m          = r["requests_per_interrupt"]["measured"].get<double>();
    double p          = r["requests_per_interrupt"]["predicted"].get<double>();
    bool known_gap    = trace == "randread_libaio_qd64_nj1.json";
    std::printf("[check] %s: requests per interrupt measured %.1f, pvsim %.1f (%s)\n", trace.c_str(), m, p,
                known_gap ? "the known gap, not checked" : "tolerance 10 %");
    if (known_gap)
      continue;
    EXPECT_NEAR(p, m, 0.1 * m) << trace;
    ++checked;
  }
  EXPECT_EQ(checked, 11);
}
