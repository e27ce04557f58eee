/* pvsim: the Mann-Whitney U test (Wilcoxon rank-sum), exact, for the small samples of a regression run.
 *
 * Two samples x (n values) and y (m values): U = #{(i, j) : x_i < y_j} + ½ #{x_i = y_j}. Under the null hypothesis
 * that both come from the same distribution, every assignment of the n + m ranks to the samples is equally likely;
 * the exact distribution of U counts them (Mann & Whitney 1947, the recurrence f(n, m, u) = f(n-1, m, u-m) +
 * f(n, m-1, u)). Ties are counted as halves in U and the no-ties distribution is used, which makes the p-value
 * slightly conservative. With 8 runs each, the smallest two-sided p is 2 / C(16, 8) = 1.6e-4: only samples that do
 * not overlap at all reach it. */
#pragma once

#include <vector>

namespace pvsim::regress {

struct MannWhitney {
  double u;       // U of x against y: large when y tends to be larger
  double p_value; // two-sided, exact
};

MannWhitney mann_whitney(const std::vector<double>& x, const std::vector<double>& y);

} // namespace pvsim::regress
