/* Issue 14's accuracy on the visible virtio-vm-1q traces with the Firecracker stack that calibrate picks for them:
 * figures from calibrations that never saw the runs they predict (pvsim validate's leave-out modes). Each test prints
 * its figures; the bounds are the targets where they are met, and where they are not, the figure reached
 * today (so that a regression shows) with the target in the message. */
#include "tests/support/json_support.hpp"

#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::test;

namespace {
json leave_out(const std::string& mode, const TempDir& dir)
{
  return validate_json(mode, trace_args(std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio"), dir);
}
} // namespace

TEST(FirecrackerAccuracy, ACalibrationOnIodepth1RunsAlonePredictsTheDeeperOnesWithin12Percent)
{
  TempDir dir;
  json v = leave_out("--hold-out 'iodepth>1'", dir);
  std::printf("calibrated on iodepth 1, predicting %zu deeper runs: median |error| IOPS %.1f %% (target <= 12), "
              "clat mean %.1f %%\n",
              v["runs"].size(), median_abs_error(v, "iops"), median_abs_error(v, "clat_mean_us"));
  EXPECT_EQ(v["runs"].size(), 20u);
  EXPECT_LE(median_abs_error(v, "iops"), 12.0);
}

TEST(FirecrackerAccuracy, FiveFoldByConfiguration)
{
  TempDir dir;
  json v             = leave_out("--kfold 5", dir);
  const json& models = v["summary"]["side_by_side"]["models"];
  double bound_mean  = models["bound_interpolation"]["median_abs_error_pct"]["clat_mean_us"].get<double>();
  std::printf("5-fold: median |error| IOPS %.1f %% (target 6), clat mean %.1f %% (target 8, bound formula %.1f %%), "
              "p99 %.1f %% (target 25)\n",
              median_abs_error(v, "iops"), median_abs_error(v, "clat_mean_us"), bound_mean,
              median_abs_error(v, "clat_p99_us"));
  EXPECT_LE(median_abs_error(v, "clat_mean_us"), 8.0);        // the target, met
  EXPECT_LT(median_abs_error(v, "clat_mean_us"), bound_mean); // and better than the bound formula's
  EXPECT_LE(median_abs_error(v, "iops"), 8.0) << "reached 7.2-7.6 %; the issue's target is 6 %";
  EXPECT_LE(median_abs_error(v, "clat_p99_us"), 32.0) << "reached 27-30 %; the issue's target is 25 %";
}
