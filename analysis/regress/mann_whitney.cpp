#include "analysis/regress/mann_whitney.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pvsim::regress {

namespace {
/** counts[u] = number of rank assignments giving U = u, for samples of n and m (no ties). */
std::vector<double> u_distribution(int n, int m)
{
  // f[i][j][u] built up one sample size at a time: f(i, j, u) = f(i-1, j, u-j) + f(i, j-1, u).
  std::vector<std::vector<std::vector<double>>> f(static_cast<std::size_t>(n + 1),
                                                  std::vector<std::vector<double>>(static_cast<std::size_t>(m + 1)));
  for (int i = 0; i <= n; ++i)
    for (int j = 0; j <= m; ++j) {
      auto& cell = f[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
      cell.assign(static_cast<std::size_t>(i * j + 1), 0.0);
      if (i == 0 or j == 0) {
        cell[0] = 1;
        continue;
      }
      const auto& a = f[static_cast<std::size_t>(i - 1)][static_cast<std::size_t>(j)];
      const auto& b = f[static_cast<std::size_t>(i)][static_cast<std::size_t>(j - 1)];
      for (int u = 0; u <= i * j; ++u) {
        double v = 0;
        if (u - j >= 0 and u - j < static_cast<int>(a.size()))
          v += a[static_cast<std::size_t>(u - j)];
        if (u < static_cast<int>(b.size()))
          v += b[static_cast<std::size_t>(u)];
        cell[static_cast<std::size_t>(u)] = v;
      }
    }
  return f[static_cast<std::size_t>(n)][static_cast<std::size_t>(m)];
}
} // namespace

MannWhitney mann_whitney(const std::vector<double>& x, const std::vector<double>& y)
{
  if (x.empty() or y.empty())
    throw std::invalid_argument("mann_whitney: empty sample");
  if (x.size() > 50 or y.size() > 50)
    throw std::invalid_argument("mann_whitney: the exact test is for samples of at most 50");
  double u = 0;
  for (double a : x)
    for (double b : y)
      u += a < b ? 1.0 : (a == b ? 0.5 : 0.0);
  auto n = static_cast<int>(x.size()), m = static_cast<int>(y.size());
  auto counts  = u_distribution(n, m);
  double total = 0;
  for (double c : counts)
    total += c;
  // Lower tail P(U <= u) and upper tail P(U >= u), with a half-integer U (ties) rounded towards the centre.
  double lo = 0, hi = 0;
  for (int k = 0; k <= n * m; ++k) {
    if (k <= std::floor(u))
      lo += counts[static_cast<std::size_t>(k)];
    if (k >= std::ceil(u))
      hi += counts[static_cast<std::size_t>(k)];
  }
  double p = std::min(1.0, 2.0 * std::min(lo, hi) / total);
  return {u, p};
}

} // namespace pvsim::regress
