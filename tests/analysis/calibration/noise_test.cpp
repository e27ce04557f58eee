/* pvsim validate's repeat noise: the coefficient of variation per configuration, the pooled fallback for a
 * configuration without repeats, and the "outside noise" flag (|IOPS error| > 2 x the IOPS CV). */
#include "analysis/calibration/noise.hpp"

#include <cmath>
#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::validation;

namespace {
RunConfig cfg(int qd, const std::string& tag = "")
{
  RunConfig c;
  c.file    = "randread_libaio_qd" + std::to_string(qd) + "_nj1_f1" + (tag.empty() ? "" : "_" + tag) + ".json";
  c.rw      = "randread";
  c.engine  = "libaio";
  c.iodepth = qd;
  c.tag     = tag;
  return c;
}
} // namespace

TEST(RepeatNoise, CoefficientOfVariationIsTheSampleStdOverTheMean)
{
  EXPECT_NEAR(coefficient_of_variation({90, 100, 110}), 10.0 / 100, 1e-12); // sample std 10
  EXPECT_EQ(coefficient_of_variation({100}), 0);
  EXPECT_EQ(coefficient_of_variation({}), 0);
}

TEST(RepeatNoise, PerConfigurationAndPooledForConfigurationsWithoutRepeats)
{
  std::vector<RunConfig> runs{cfg(1), cfg(1, "rep1"), cfg(1, "rep2"), cfg(16), cfg(16, "quiet"), cfg(64)};
  std::vector<double> iops{90, 100, 110, 1000, 1200, 5000};
  std::vector<double> clat{50, 50, 50, 160, 140, 1000};
  RepeatNoise noise(runs, iops, clat);
  auto qd1 = noise.band(cfg(1).key());
  ASSERT_TRUE(qd1);
  EXPECT_EQ(qd1->source, "configuration");
  EXPECT_EQ(qd1->runs, 3);
  EXPECT_NEAR(qd1->iops_cv, 0.1, 1e-12);
  EXPECT_NEAR(qd1->clat_mean_cv, 0, 1e-12);
  auto qd16 = noise.band(cfg(16).key());
  ASSERT_TRUE(qd16);
  double cv16 = std::sqrt(2.0 * 100 * 100) / 1100; // std of {1000, 1200} = 141.4
  EXPECT_NEAR(qd16->iops_cv, cv16, 1e-12);
  // qd64 has one run: the pooled CV, each configuration weighted by its n - 1 (2 and 1).
  auto qd64 = noise.band(cfg(64).key());
  ASSERT_TRUE(qd64);
  EXPECT_EQ(qd64->source, "pooled");
  EXPECT_EQ(qd64->runs, 5);
  EXPECT_NEAR(qd64->iops_cv, std::sqrt((2 * 0.01 + 1 * cv16 * cv16) / 3), 1e-12);
  json j = noise.to_json();
  EXPECT_EQ(j["configurations"].size(), 2u);
  EXPECT_EQ(j["pooled"]["configurations"], 2);
}

TEST(RepeatNoise, NoRepeatsNoBand)
{
  RepeatNoise noise({cfg(1), cfg(16)}, {100, 1000}, {50, 160});
  EXPECT_FALSE(noise.band(cfg(1).key()));
  EXPECT_TRUE(noise.to_json()["pooled"].is_null());
}

TEST(RepeatNoise, OutsideIsMoreThanTwiceTheIopsNoise)
{
  RepeatNoise::Band band{0.10, 0.05, "configuration", 3};
  EXPECT_FALSE(RepeatNoise::outside(19.9, band));
  EXPECT_FALSE(RepeatNoise::outside(-20.0, band));
  EXPECT_TRUE(RepeatNoise::outside(20.1, band));
  EXPECT_TRUE(RepeatNoise::outside(-25, band));
}

TEST(RepeatNoise, TwoNearIdenticalRunsAreJudgedAgainstAtLeastThePooledNoise)
{
  // psync at iodepth 1 on virtio-vm-1q: two runs 0.1 % apart. One degree of freedom says little: the pooled CV of the
  // configurations with repeats is the floor, or a 4 % error would count as far outside the noise.
  std::vector<RunConfig> runs{cfg(1), cfg(1, "rep1"), cfg(1, "rep2"), cfg(16), cfg(16, "quiet")};
  std::vector<double> iops{90, 100, 110, 1000, 1001};
  std::vector<double> clat{45, 50, 55, 160, 160};
  RepeatNoise noise(runs, iops, clat);
  auto qd16 = noise.band(cfg(16).key());
  ASSERT_TRUE(qd16);
  EXPECT_EQ(qd16->source, "pooled floor");
  double pooled = std::sqrt((2 * 0.01 + 1 * std::pow(std::sqrt(0.5) / 1000.5, 2)) / 3);
  EXPECT_NEAR(qd16->iops_cv, pooled, 1e-12);
  EXPECT_FALSE(RepeatNoise::outside(4.0, *qd16)); // 4 % < 2 x 8.2 %
}
