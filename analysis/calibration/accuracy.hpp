/* pvsim: what `pvsim validate` says about its own accuracy, in every mode (in-sample, leave-out), once each run has
 * its row (compare_run, validation.hpp):
 * - each run's error next to the repeat noise of its configuration (or the pooled one; noise.hpp), and whether
 *   |IOPS error| is outside 2 x that noise; how many runs are;
 * - pvsim and the baselines side by side on the same runs: median |error| of IOPS, clat mean (and clat p99, pvsim
 *   only), the worst |IOPS error| (signed, with its run), and whether pvsim beats the bound interpolation on each;
 * - the repeats' floor: each run whose configuration was measured more than once, predicted by the mean of its
 *   configuration's other runs, with no model at all (what a second measurement would have said); pvsim on the same
 *   runs beside it. A model cannot be judged more finely than that: an error target below the floor is met or missed
 *   by the host's run-to-run noise, not by the model;
 * - each configuration scored against its own mean (its runs' measurements and predictions averaged), pvsim and the
 *   baselines: the score without the repeats' noise, one configuration counting once;
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

/** The repeats' floor of some runs' rows (each needs "trace", "config", "measured" {"iops", "clat_mean_us"} and
 * "error_pct" {"iops", "clat_mean_us"}): the runs of every configuration with at least two, each predicted by the
 * mean measured IOPS and clat mean of its configuration's other runs. {"runs": n, "models": {"repeats":
 * {"median_abs_error_pct": {"iops", "clat_mean_us"}, "worst_iops": {"error_pct", "trace"}}, "pvsim": the same on
 * those runs}, "pvsim_within_floor": {"iops", "clat_mean_us"}}: pvsim's median |error| no larger than the floor's.
 * Null when no configuration has two runs. */
json repeat_floor(const json& runs);

/** Each configuration scored against its own mean: the measured IOPS and clat mean of its runs averaged, and so each
 * model's predictions (on the runs the bound interpolation predicts, as side_by_side). This takes the repeats' noise
 * out of the score, where a run's error carries it; one configuration counts once, however often it was measured.
 * {"configurations": n, "runs": m, "models": {"pvsim": {"median_abs_error_pct": {"iops", "clat_mean_us"},
 * "worst_iops": {"error_pct", "config"}}, "bound_interpolation": ..., "mva": ...}, "pvsim_beats_bound": {"iops",
 * "clat_mean_us", "worst_iops"}}; null when no run has a baseline. */
json by_configuration(const json& runs);

} // namespace pvsim::validation
