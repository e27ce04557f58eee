/* Issue 14's accuracy on the visible virtio-vm-1q traces with the Firecracker stack that calibrate picks for them:
 * figures from calibrations that never saw the runs they predict (pvsim validate's leave-out modes). Each test prints
 * its figures; the bounds are the targets where they are met, and where they are not, the figure reached
 * today (so that a regression shows) with the target in the message. */
#include "tests/support/json_support.hpp"

#include <gtest/gtest.h>

#include <cmath>

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
  EXPECT_LE(median_abs_error(v, "iops"), 8.0) << "reached 6.7-7.5 %; the issue's target is 6 %";
  EXPECT_LE(median_abs_error(v, "clat_p99_us"), 32.0) << "reached 20-23 %; the issue's target is 25 %";
  // Against each configuration's mean (the repeats' noise out of the score, each configuration once): the saturation
  // fitted to the saturated configuration's mean leaves no configuration 20 % off, and the bound formula is beaten
  // on the median, the mean latency and the worst configuration.
  const json& bc = v["summary"]["by_configuration"];
  const json& bp = bc["models"]["pvsim"];
  std::printf("5-fold against each configuration's mean: IOPS %.1f %%, clat mean %.1f %%, worst %+.1f %% (%s); bound "
              "formula IOPS %.1f %%, worst %+.1f %%\n",
              bp["median_abs_error_pct"]["iops"].get<double>(),
              bp["median_abs_error_pct"]["clat_mean_us"].get<double>(), bp["worst_iops"]["error_pct"].get<double>(),
              bp["worst_iops"]["config"].get<std::string>().c_str(),
              bc["models"]["bound_interpolation"]["median_abs_error_pct"]["iops"].get<double>(),
              bc["models"]["bound_interpolation"]["worst_iops"]["error_pct"].get<double>());
  EXPECT_EQ(bc["configurations"], 11);
  EXPECT_LE(bp["median_abs_error_pct"]["iops"].get<double>(), 4.0) << "reached 2.2-2.5 %";
  EXPECT_LE(std::abs(bp["worst_iops"]["error_pct"].get<double>()), 15.0) << "reached 10.4-11.0 % (qd256)";
  EXPECT_TRUE(bc["pvsim_beats_bound"]["iops"].get<bool>());
  EXPECT_TRUE(bc["pvsim_beats_bound"]["clat_mean_us"].get<bool>());
  EXPECT_TRUE(bc["pvsim_beats_bound"]["worst_iops"].get<bool>());
}
