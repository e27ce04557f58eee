/* pvsim validate's score against each configuration's mean: a configuration's runs averaged, measured and predicted,
 * so that the repeats' noise leaves the score and a configuration measured five times counts once. */
#include "analysis/calibration/accuracy.hpp"

#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::validation;

namespace {
/** A validation row: measured and predicted IOPS and clat mean, and the bound formula's (bi) when given. */
json row(const std::string& config, double iops, double clat_us, double pvsim_iops, double pvsim_clat_us,
         double bi_iops = -1, double bi_clat_us = -1)
{
  json r = {{"trace", config + "-" + std::to_string(iops)},
            {"config", config},
            {"measured", {{"iops", iops}, {"clat_mean_us", clat_us}}},
            {"predicted", {{"iops", pvsim_iops}, {"clat_mean_us", pvsim_clat_us}}},
            {"baselines", json::object()}};
  if (bi_iops > 0)
    r["baselines"]["bound_interpolation"] = {{"iops", bi_iops}, {"clat_mean_us", bi_clat_us}};
  return r;
}
} // namespace

TEST(ByConfiguration, EachConfigurationIsScoredAgainstTheMeanOfItsRuns)
{
  // qd64: three runs, 85, 100 and 115 k (mean 100 k), pvsim predicts 102 k for each: +2 % against the mean, where
  // its run errors are +20 %, +2 % and -11 %. qd1: one run, 10 k, predicted 11 k: +10 %. The median of the two
  // configurations' |errors| is 6 %; the worst is qd1's +10 %.
  json runs =
      json::array({row("qd64", 85e3, 750, 102e3, 630, 110e3, 580), row("qd64", 100e3, 640, 102e3, 630, 110e3, 580),
                   row("qd64", 115e3, 560, 102e3, 630, 110e3, 580), row("qd1", 10e3, 70, 11e3, 63, 10e3, 70)});
  json c = by_configuration(runs);
  EXPECT_EQ(c["configurations"], 2);
  EXPECT_EQ(c["runs"], 4);
  const json& p = c["models"]["pvsim"];
  EXPECT_NEAR(p["median_abs_error_pct"]["iops"].get<double>(), (2.0 + 10.0) / 2, 1e-9);
  EXPECT_NEAR(p["worst_iops"]["error_pct"].get<double>(), 10.0, 1e-9);
  EXPECT_EQ(p["worst_iops"]["config"], "qd1");
  // clat: qd64 measured mean (750 + 640 + 560) / 3 = 650, predicted 630: -3.08 %; qd1 63 against 70: -10 %.
  EXPECT_NEAR(p["median_abs_error_pct"]["clat_mean_us"].get<double>(), (20.0 / 650 * 100 + 10.0) / 2, 1e-9);
  // The bound formula: qd64 +10 %, qd1 0 %: a median of 5 %, below pvsim's 6 %, and a worst of 10 % as pvsim's:
  // pvsim beats it on neither.
  const json& b = c["models"]["bound_interpolation"];
  EXPECT_NEAR(b["median_abs_error_pct"]["iops"].get<double>(), 5.0, 1e-9);
  EXPECT_FALSE(c["pvsim_beats_bound"]["iops"].get<bool>());
  EXPECT_FALSE(c["pvsim_beats_bound"]["worst_iops"].get<bool>());
}

TEST(ByConfiguration, RunsWithoutABaselineAreLeftOutAsInTheSideBySide)
{
  // A write run held out of a read-only calibration has no bound formula: it is not scored here.
  json runs = json::array({row("qd1", 10e3, 70, 11e3, 63, 10e3, 70), row("w-qd1", 9e3, 80, 11e3, 63)});
  json c    = by_configuration(runs);
  EXPECT_EQ(c["configurations"], 1);
  EXPECT_EQ(c["runs"], 1);
  EXPECT_TRUE(by_configuration(json::array({row("w-qd1", 9e3, 80, 11e3, 63)})).is_null());
}
