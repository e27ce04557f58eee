/* pvsim: `pvsim validate` in a leave-out mode (--hold-out, --kfold, --leave-out config; see validation.hpp): each
 * fold (leave_out.hpp) is calibrated (calibration::calibrate) on its calibration runs only, and its held-out runs
 * are simulated with that calibration, so that no prediction comes from a fit that saw its run, nor a repeat of it
 * (--kfold and --leave-out config keep a configuration's runs together; --hold-out holds out what its expressions
 * match, which may leave a repeat of a held-out run in the calibration set when the expression splits a
 * configuration, e.g. tag=rep1). The baselines come from the same fold's calibration.
 * With --interval B, each fold also gets B bootstrap calibrations of its calibration runs (bootstrap.hpp), and every
 * held-out run is simulated under each of them with seed --seed + 1 + b: the run's interval is the 10th-90th
 * percentile (linear interpolation between order statistics) of those B predictions of IOPS and clat mean.
 * Every simulation is its own `pvsim run` process, -j at a time, all folds together. */
#pragma once

#include "analysis/calibration/validation.hpp"

namespace pvsim::validation {

/** The full validation document of a leave-out: "mode", "folds" (name, calibration and held-out files, what the
 * fold's calibration could not fit), "runs" (each with its "fold", and "interval" with --interval), "summary". */
json run_leave_out(const Options& opt);

/** The q-quantile (0..1) of values, interpolating linearly between order statistics; 0 for none. */
double quantile(std::vector<double> values, double q);

} // namespace pvsim::validation
