/* pvsim: the run-to-run noise of repeated measurements, against which `pvsim validate` judges prediction errors.
 *
 * Per configuration (RunConfig::key, leave_out.hpp) with at least 2 runs (repeats, quiet reruns, tagged reruns of
 * the same fio options), the coefficient of variation (sample standard deviation / mean) of the measured IOPS and
 * of the measured clat mean. A configuration without repeats is judged against the pooled CV of all configurations
 * with repeats, sqrt(sum (n_i - 1) CV_i^2 / sum (n_i - 1)) (each configuration's variance weighted by its degrees
 * of freedom, as a pooled standard deviation). A run is "outside noise" when |IOPS error| > 2 x its CV: the
 * prediction misses by more than two standard deviations of what the same configuration measured run to run. */
#pragma once

#include "analysis/calibration/leave_out.hpp"
#include "sim/json_node.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::validation {

/** Sample standard deviation / mean (n - 1 in the denominator); 0 for fewer than 2 values or a zero mean. */
double coefficient_of_variation(const std::vector<double>& values);

class RepeatNoise {
public:
  /** The noise a run's error is judged against. CVs are fractions (0.1 = 10 %). */
  struct Band {
    double iops_cv      = 0;
    double clat_mean_cv = 0;
    std::string source; // "configuration", "pooled", or "pooled floor" (2 runs, below the pooled CV)
    int runs = 0;       // the runs the CVs come from (all configurations' for the pooled one)
  };

  /** From every run given: its configuration, measured IOPS and measured clat mean (same order). */
  RepeatNoise(const std::vector<RunConfig>& runs, const std::vector<double>& iops,
              const std::vector<double>& clat_mean);

  /** The configuration's own noise when it has repeats (at least the pooled one when it has only two: a CV of one
   * degree of freedom), else the pooled one; nullopt when no configuration has repeats. */
  std::optional<Band> band(const std::string& config_key) const;
  /** The CVs of all configurations with repeats pooled (by their degrees of freedom); nullopt when none has any. */
  const std::optional<Band>& pooled() const { return pooled_; }
  /** |IOPS error %| > 2 x the IOPS CV. */
  static bool outside(double iops_error_pct, const Band& band);
  /** {"configurations": [{"config", "runs", "iops_cv_pct", "clat_mean_cv_pct"}], "pooled": {...} or null}. */
  json to_json() const;

private:
  std::map<std::string, Band> per_config_; // configurations with >= 2 runs
  std::optional<Band> pooled_;
};

} // namespace pvsim::validation
