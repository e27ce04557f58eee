/* When is a metric's change outside the noise of the repeats (analysis/regress/compare.hpp)? */
#include "analysis/regress/compare.hpp"

#include <gtest/gtest.h>

using namespace pvsim::regress;

namespace {
const std::vector<double> baseline = {100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1};
const std::vector<double> lower    = {90, 91, 89, 90.5, 89.5, 90.2, 89.8, 90.1};

Verdict verdict(const std::vector<double>& b, const std::vector<double>& n, bool higher_is_better)
{
  Comparison c = compare(b, n, {});
  return verdict_of(c, holm_rejections({c.p_value}, 0.05)[0], higher_is_better);
}
} // namespace

TEST(RegressCompare, TheSameValuesAreUnchanged)
{
  auto c = compare(baseline, baseline, {});
  EXPECT_DOUBLE_EQ(c.p_value, 1.0);
  EXPECT_EQ(verdict(baseline, baseline, true), Verdict::unchanged);
}

TEST(RegressCompare, ALowerThroughputBeyondTheNoiseIsARegression)
{
  EXPECT_EQ(verdict(baseline, lower, true), Verdict::regressed);
  EXPECT_NEAR(compare(baseline, lower, {}).change, -0.10, 0.002);
}

TEST(RegressCompare, ALowerLatencyBeyondTheNoiseIsAnImprovement)
{
  EXPECT_EQ(verdict(baseline, lower, false), Verdict::improved);
}

TEST(RegressCompare, ASeparatedShiftSmallerThanMinChangeIsUnchanged)
{
  // Every new value above every old one (p = 1.6e-4) but the medians only 0.6 % apart, inside min_change (1 %).
  std::vector<double> b = {100, 100.1, 100.2, 100.3, 100.4, 100.05, 100.15, 100.25};
  std::vector<double> n = {100.6, 100.7, 100.8, 100.9, 101, 100.65, 100.75, 100.85};
  EXPECT_LT(compare(b, n, {}).p_value, 0.001);
  EXPECT_EQ(verdict(b, n, true), Verdict::unchanged);
}

TEST(RegressCompare, OverlappingSamplesAreUnchangedWhateverTheirMedians)
{
  // The medians differ by 5 %, but the samples interleave: the test cannot tell them from noise.
  std::vector<double> b = {90, 100, 110, 95, 105, 92, 108, 99};
  std::vector<double> n = {95, 105, 115, 100, 110, 97, 113, 104};
  EXPECT_GT(compare(b, n, {}).p_value, 0.05);
  EXPECT_EQ(verdict(b, n, true), Verdict::unchanged);
}

TEST(RegressCompare, HolmKeepsTheFamilyWiseErrorUnderAlpha)
{
  // Four tests at family-wise 0.05: thresholds 0.0125, 0.0167, 0.025, 0.05 for the sorted p-values; the step-down
  // stops at the first p above its threshold, and keeps every larger one.
  auto r = holm_rejections({0.01, 0.04, 0.012, 0.3}, 0.05);
  EXPECT_EQ(r, (std::vector<bool>{true, false, true, false}));
  // p = 0.02 alone is rejected; among 100 tests it is not.
  EXPECT_TRUE(holm_rejections({0.02}, 0.05)[0]);
  std::vector<double> many(100, 0.5);
  many[0] = 0.02;
  EXPECT_FALSE(holm_rejections(many, 0.05)[0]);
}
