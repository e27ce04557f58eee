/* pvsim validate's repeats' floor: every run of a configuration measured more than once is predicted by the mean of
 * that configuration's other runs, with no model, and pvsim is scored on the same runs beside it. */
#include "analysis/calibration/accuracy.hpp"

#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::validation;

namespace {
json row(const std::string& trace, const std::string& config, double iops, double clat_us, double pvsim_iops_err,
         double pvsim_clat_err)
{
  return {{"trace", trace},
          {"config", config},
          {"measured", {{"iops", iops}, {"clat_mean_us", clat_us}}},
          {"error_pct", {{"iops", pvsim_iops_err}, {"clat_mean_us", pvsim_clat_err}}}};
}
} // namespace

TEST(RepeatFloor, EachRepeatIsPredictedByTheMeanOfItsConfigurationsOtherRuns)
{
  // qd1: 90, 100, 110. The 90 run is predicted by (100 + 110) / 2 = 105: +16.7 %; the 100 run by 100: 0 %; the 110
  // run by 95: -13.6 %. qd16: 1000 and 1250, each the other's prediction: +25 % and -20 %. qd64 has one run: no floor.
  json runs = json::array({row("a", "qd1", 90, 50, 1, 2), row("b", "qd1", 100, 50, -3, 4),
                           row("c", "qd1", 110, 50, 5, 6), row("d", "qd16", 1000, 160, -7, 8),
                           row("e", "qd16", 1250, 128, 9, 10), row("f", "qd64", 5000, 1000, 50, 50)});
  json f    = repeat_floor(runs);
  EXPECT_EQ(f["runs"], 5);
  const json& rep = f["models"]["repeats"];
  // |errors| sorted: 0, 13.6, 16.7, 20, 25: the median is 16.7 (the 90 run).
  EXPECT_NEAR(rep["median_abs_error_pct"]["iops"].get<double>(), (105.0 - 90) / 90 * 100, 1e-9);
  EXPECT_NEAR(rep["worst_iops"]["error_pct"].get<double>(), 25.0, 1e-9);
  EXPECT_EQ(rep["worst_iops"]["trace"], "d");
  // clat: qd1 all 50 (0 %), qd16 128 from 160 (-20 %) and 160 from 128 (+25 %): median 0.
  EXPECT_NEAR(rep["median_abs_error_pct"]["clat_mean_us"].get<double>(), 0.0, 1e-9);
}

TEST(RepeatFloor, PvsimIsScoredOnTheSameRunsOnly)
{
  // The single qd64 run's 50 % error is not among pvsim's floor runs: pvsim's IOPS errors there are 1, -3, 5, -7, 9.
  json runs     = json::array({row("a", "qd1", 90, 50, 1, 2), row("b", "qd1", 100, 50, -3, 4),
                               row("c", "qd1", 110, 50, 5, 6), row("d", "qd16", 1000, 160, -7, 8),
                               row("e", "qd16", 1250, 128, 9, 10), row("f", "qd64", 5000, 1000, 50, 50)});
  json f        = repeat_floor(runs);
  const json& p = f["models"]["pvsim"];
  EXPECT_NEAR(p["median_abs_error_pct"]["iops"].get<double>(), 5.0, 1e-9);
  EXPECT_NEAR(p["worst_iops"]["error_pct"].get<double>(), 9.0, 1e-9);
  EXPECT_NEAR(p["median_abs_error_pct"]["clat_mean_us"].get<double>(), 6.0, 1e-9);
  EXPECT_TRUE(f["pvsim_within_floor"]["iops"].get<bool>());          // 5 <= 16.7
  EXPECT_FALSE(f["pvsim_within_floor"]["clat_mean_us"].get<bool>()); // 6 > 0
}

TEST(RepeatFloor, WithoutRepeatsThereIsNoFloor)
{
  json runs = json::array({row("a", "qd1", 90, 50, 1, 2), row("f", "qd64", 5000, 1000, 50, 50)});
  EXPECT_TRUE(repeat_floor(runs).is_null());
}
