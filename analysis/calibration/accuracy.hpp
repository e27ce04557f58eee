/* pvsim: what `pvsim validate` says about its own accuracy, in every mode (in-sample, leave-out), once each run has
 * its row (compare_run, validation.hpp):
 * - each run's error next to the repeat noise of its configuration (or the pooled one; noise.hpp), and whether
 *   |IOPS error| is outside 2 x that noise; how many runs are;
 * - pvsim and the baselines side by side on the same runs: median |error| of IOPS, clat mean (and clat p99, pvsim
 *   only), the worst |IOPS error| (signed, with its run), and whether pvsim beats the bound interpolation on each;
 * - with intervals (--interval), the coverage: the share of measurements inside their 10th-90th percentile
 *   interval (an honest 10-90 interval covers about 80 %). */
#pragma once

#include "analysis/calibration/noise.hpp"
#include "sim/json_node.hpp"

namespace pvsim::validation {

/** Adds "noise" and "outside_noise" to each run of full["runs"], and "noise", "outside_noise", "side_by_side" (and
 * "coverage" when runs carry an "interval") to full["summary"]. */
void add_accuracy(json& full, const RepeatNoise& noise);

/** The side-by-side block of some runs' rows, on those the bound interpolation predicts (the others, whose direction
 * had no calibration run, listed in "left_out"): {"runs": n, "left_out": [...], "models": {"pvsim":
 * {"median_abs_error_pct": {...}, "worst_iops": {"error_pct", "trace"}}, "bound_interpolation": ..., "mva": ...},
 * "pvsim_beats_bound": {"iops", "clat_mean_us", "worst_iops"}}. */
json side_by_side(const json& runs);

} // namespace pvsim::validation
