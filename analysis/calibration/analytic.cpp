#include "analysis/calibration/analytic.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace pvsim::analytic {

double mm1_response(double lambda, double mu)
{
  return 1.0 / (mu - lambda);
}

double mm1_response_quantile(double lambda, double mu, double q)
{
  return -std::log(1.0 - q) / (mu - lambda);
}

double mg1_response(double lambda, double mean_service, double scv)
{
  double rho = lambda * mean_service;
  return mean_service + rho * mean_service * (1.0 + scv) / (2.0 * (1.0 - rho));
}

double erlang_c(int c, double a)
{
  // Erlang B by its stable recurrence, then C = B / (1 - (a/c)(1 - B)).
  double b = 1.0;
  for (int k = 1; k <= c; ++k)
    b = a * b / (k + a * b);
  double rho = a / c;
  return b / (1.0 - rho * (1.0 - b));
}

double mmc_response(double lambda, double mu, int c)
{
  return erlang_c(c, lambda / mu) / (c * mu - lambda) + 1.0 / mu;
}

ClosedResult closed_mva(int customers, double think_time, double mu, int c)
{
  std::vector<double> p{1.0}; // p[j]: probability of j customers at the station, population n-1
  ClosedResult res{0, 0, 0, 0};
  for (int n = 1; n <= customers; ++n) {
    double r = 0;
    for (int j = 1; j <= n; ++j)
      r += j / (mu * std::min(j, c)) * p[static_cast<std::size_t>(j - 1)];
    double x = n / (think_time + r);
    std::vector<double> next(static_cast<std::size_t>(n + 1), 0.0);
    double rest = 0;
    for (int j = 1; j <= n; ++j) {
      next[static_cast<std::size_t>(j)] = x / (mu * std::min(j, c)) * p[static_cast<std::size_t>(j - 1)];
      rest += next[static_cast<std::size_t>(j)];
    }
    next[0] = std::max(0.0, 1.0 - rest);
    p.swap(next);
    res.throughput      = x;
    res.response        = r;
    res.mean_at_station = x * r;
  }
  res.utilization = res.throughput / (mu * c);
  return res;
}

double bound_interpolation(double n, double r1, double xmax)
{
  return n / (r1 + (n - 1.0) / xmax);
}

} // namespace pvsim::analytic
