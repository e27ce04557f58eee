#include "analysis/regress/compare.hpp"

#include "analysis/regress/mann_whitney.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace pvsim::regress {

const char* verdict_name(Verdict v)
{
  switch (v) {
  case Verdict::improved:
    return "improved";
  case Verdict::regressed:
    return "regressed";
  default:
    return "unchanged";
  }
}

Comparison compare(const std::vector<double>& baseline, const std::vector<double>& now, const NoiseTest& test)
{
  Comparison c{};
  c.median_baseline = median(baseline);
  c.median_now      = median(now);
  double scale      = std::fabs(c.median_baseline);
  c.change          = scale > 0 ? (c.median_now - c.median_baseline) / scale : (c.median_now == 0 ? 0.0 : 1.0);
  c.p_value         = mann_whitney(baseline, now).p_value;
  auto [lo, hi]     = std::minmax_element(baseline.begin(), baseline.end());
  c.beyond_noise    = (c.median_now < *lo or c.median_now > *hi) and std::fabs(c.change) >= test.min_change;
  return c;
}

std::vector<bool> holm_rejections(const std::vector<double>& p, double alpha)
{
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<bool> rejected(p.size(), false);
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (p[order[k]] > alpha / static_cast<double>(order.size() - k))
      break; // and every larger p-value is kept too
    rejected[order[k]] = true;
  }
  return rejected;
}

Verdict verdict_of(const Comparison& c, bool rejected, bool higher_is_better)
{
  if (not rejected or not c.beyond_noise)
    return Verdict::unchanged;
  return ((c.median_now > c.median_baseline) == higher_is_better) ? Verdict::improved : Verdict::regressed;
}

} // namespace pvsim::regress
