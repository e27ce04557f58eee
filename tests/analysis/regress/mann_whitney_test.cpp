/* The exact Mann-Whitney U test against values worked out by hand from the distribution of U. */
#include "analysis/regress/mann_whitney.hpp"

#include <gtest/gtest.h>

using namespace pvsim::regress;

TEST(MannWhitney, SamplesThatDoNotOverlapGiveTheSmallestPValue)
{
  // n = m = 5: U = 25 is reached by 1 of the C(10, 5) = 252 rank assignments; two-sided p = 2/252.
  auto r = mann_whitney({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(r.u, 25);
  std::printf("[mann-whitney] p = %.6f, expected 2/252 = %.6f\n", r.p_value, 2.0 / 252);
  EXPECT_NEAR(r.p_value, 2.0 / 252, 1e-12);
}

TEST(MannWhitney, ASmallOverlapIsCountedExactly)
{
  // x = {1, 2, 4}, y = {3, 5, 6}: U = 8 (x < y in 8 of 9 pairs). Of the C(6, 3) = 20 assignments, U = 9 and U = 8
  // occur once each: P(U >= 8) = 2/20, two-sided p = 0.2.
  auto r = mann_whitney({1, 2, 4}, {3, 5, 6});
  EXPECT_DOUBLE_EQ(r.u, 8);
  EXPECT_NEAR(r.p_value, 0.2, 1e-12);
}

TEST(MannWhitney, IdenticalSamplesAreNeverSignificant)
{
  auto r = mann_whitney({3, 3, 3, 3, 3}, {3, 3, 3, 3, 3});
  EXPECT_DOUBLE_EQ(r.u, 12.5);
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
}

TEST(MannWhitney, IsSymmetricInItsSamples)
{
  auto a = mann_whitney({1.0, 2.5, 3.1, 7.0}, {2.0, 4.0, 5.5, 6.0, 8.0});
  auto b = mann_whitney({2.0, 4.0, 5.5, 6.0, 8.0}, {1.0, 2.5, 3.1, 7.0});
  EXPECT_DOUBLE_EQ(a.p_value, b.p_value);
  EXPECT_DOUBLE_EQ(a.u + b.u, 20);
}
