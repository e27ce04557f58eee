/* Test helpers: build a scenario in code, run it in this process (one simulation per test process), and
 * estimate confidence intervals by batch means. */
#pragma once

#include "sim/fifo_servers.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace pvsim::test {

inline std::string source_dir()
{
  return PVSIM_SOURCE_DIR;
}
inline std::string shared_dir()
{
  return PVSIM_SHARED_DIR;
}
inline std::string pvsim_binary()
{
  return PVSIM_BINARY;
}

/** Response times of one station, in batches, for a 95 % confidence interval of their mean. */
class BatchMeans {
public:
  BatchMeans(const Probe<StationEvent>& probe, double warmup_s, std::uint64_t batch_size) : batch_size_(batch_size)
  {
    probe.connect([this, warmup_s](const StationEvent& ev) {
      if (ev.what != StationEvent::What::depart or ev.t < warmup_s)
        return;
      sum_ += ev.t - ev.arrived_s;
      if (++n_ == batch_size_) {
        means_.push_back(sum_ / static_cast<double>(n_));
        sum_ = 0;
        n_   = 0;
      }
    });
  }
  double mean() const
  {
    double s = 0;
    for (double m : means_)
      s += m;
    return s / static_cast<double>(means_.size());
  }
  /** Half-width of the 95 % confidence interval of the mean (normal approximation, batches ≥ 30). */
  double half_width() const
  {
    double m = mean(), v = 0;
    for (double x : means_)
      v += (x - m) * (x - m);
    v /= static_cast<double>(means_.size() - 1);
    return 1.96 * std::sqrt(v / static_cast<double>(means_.size()));
  }
  std::size_t batches() const { return means_.size(); }

private:
  std::uint64_t batch_size_;
  std::uint64_t n_ = 0;
  double sum_      = 0;
  std::vector<double> means_;
};

/** Prints an analytic check the way every theory test reports it, then asserts the tolerance. */
inline void expect_close(const std::string& what, double simulated, double expected, double rel_tol,
                         double ci_half_width = -1)
{
  double err = (simulated - expected) / expected;
  std::printf("[theory] %-44s expected %.6g  simulated %.6g  error %+.2f%%  tolerance ±%.1f%%", what.c_str(), expected,
              simulated, err * 100, rel_tol * 100);
  if (ci_half_width >= 0)
    std::printf("  (95%% CI of the simulated mean ±%.2f%%)", ci_half_width / simulated * 100);
  std::printf("\n");
  EXPECT_LE(std::fabs(err), rel_tol) << what << ": simulated " << simulated << ", expected " << expected;
}

} // namespace pvsim::test
