#include "sim/distribution.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace pvsim;

namespace {
double sample_mean(const Distribution& d, int n = 400000)
{
  Rng rng(3);
  double s = 0;
  for (int i = 0; i < n; ++i)
    s += d.sample(rng);
  return s / n;
}
Distribution parse(const json& j)
{
  return Distribution::parse(JsonNode(j, "d.json", "/service"));
}
} // namespace

TEST(Distribution, ADurationStringIsDeterministic)
{
  auto d = parse("12us");
  Rng rng(1);
  EXPECT_DOUBLE_EQ(d.sample(rng), 12e-6);
  EXPECT_DOUBLE_EQ(d.scv(), 0.0);
}

TEST(Distribution, ExponentialSamplesHaveTheirMean)
{
  auto d = parse({{"dist", "exponential"}, {"mean", "50us"}});
  EXPECT_NEAR(sample_mean(d), 50e-6, 50e-6 * 0.01);
  EXPECT_DOUBLE_EQ(d.scv(), 1.0);
}

TEST(Distribution, LognormalByMeanAndCvHasThatMeanAndVariance)
{
  auto d = parse({{"dist", "lognormal"}, {"mean_us", 80}, {"cv", 0.5}});
  EXPECT_NEAR(d.mean(), 80e-6, 1e-12);
  EXPECT_NEAR(d.scv(), 0.25, 1e-12);
  EXPECT_NEAR(sample_mean(d), 80e-6, 80e-6 * 0.01);
}

TEST(Distribution, EmpiricalHistogramSamplesInsideItsBins)
{
  auto d = parse({{"dist", "empirical"}, {"edges_us", {10, 20, 100}}, {"counts", {3, 1}}});
  EXPECT_NEAR(d.mean(), 0.75 * 15e-6 + 0.25 * 60e-6, 1e-12);
  EXPECT_NEAR(sample_mean(d), d.mean(), d.mean() * 0.01);
  Rng rng(5);
  for (int i = 0; i < 10000; ++i) {
    double x = d.sample(rng);
    ASSERT_GE(x, 10e-6);
    ASSERT_LE(x, 100e-6);
  }
}

TEST(Distribution, EmpiricalAtomsReturnOnlyTheirValues)
{
  auto d = parse({{"dist", "empirical"}, {"values_us", {5, 7}}, {"counts", {1, 1}}});
  Rng rng(5);
  for (int i = 0; i < 1000; ++i) {
    double x = d.sample(rng);
    ASSERT_TRUE(std::fabs(x - 5e-6) < 1e-15 or std::fabs(x - 7e-6) < 1e-15) << x;
  }
}

TEST(Distribution, UnknownKindSuggestsTheClosest)
{
  try {
    parse({{"dist", "exponental"}, {"mean", "1us"}});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "/service/dist");
    EXPECT_NE(std::string(e.what()).find("did you mean 'exponential'"), std::string::npos) << e.what();
  }
}

TEST(Distribution, BadShapesAreRejectedWithTheirPlace)
{
  EXPECT_THROW(parse({{"dist", "exponential"}}), InputError);                                          // no mean
  EXPECT_THROW(parse({{"dist", "exponential"}, {"mean", "-1us"}}), InputError);                        // negative
  EXPECT_THROW(parse({{"dist", "exponential"}, {"mean", "1us"}, {"cv", 2}}), InputError);              // unknown key
  EXPECT_THROW(parse({{"dist", "empirical"}, {"edges_us", {1, 2}}, {"counts", {1, 2}}}), InputError);  // counts
  EXPECT_THROW(parse({{"dist", "empirical"}, {"values_us", {3, 2}}, {"counts", {1, 2}}}), InputError); // order
  EXPECT_THROW(parse(42), InputError);
}

TEST(Distribution, CanonicalJsonParsesBackToTheSameDistribution)
{
  auto d  = parse({{"dist", "lognormal"}, {"mean", "80us"}, {"cv", 1.5}});
  auto d2 = parse(d.to_json());
  EXPECT_NEAR(d2.mean(), d.mean(), 1e-15);
  EXPECT_NEAR(d2.scv(), d.scv(), 1e-12);
}

TEST(Distribution, ASumOfTwoUniformsIsATrapezoidWithTheMeansAdded)
{
  // U(0, 1) + U(0, 3): density x/3 up to 1, flat 1/3 to 3, falling to 0 at 4; mean 2, variance 1/12 + 9/12.
  Distribution d = Distribution::uniform_sum(1, 3);
  std::printf("mean %.6f (expected 2, 1e-9), scv %.6f (expected %.6f, 1e-3)\n", d.mean(), d.scv(), (10.0 / 12) / 4);
  EXPECT_NEAR(d.mean(), 2, 1e-9);
  EXPECT_NEAR(d.scv(), (10.0 / 12) / 4, 1e-3);
  Rng rng(7, "trapezoid");
  int below_one = 0, n = 200000;
  for (int i = 0; i < n; ++i)
    below_one += d.sample(rng) < 1;
  EXPECT_NEAR(below_one / static_cast<double>(n), 1.0 / 6, 0.005) << "P(sum < 1) = 1 / (2 x 1 x 3)";
  EXPECT_NEAR(Distribution::uniform_sum(0, 2).mean(), 1, 1e-12) << "a zero width is the other uniform";
}
