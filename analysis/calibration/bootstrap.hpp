/* pvsim: bootstrap of a calibration, for the intervals of `pvsim validate --interval B` and the "uncertainty"
 * block of `pvsim calibrate --bootstrap B`.
 *
 * A resample draws as many configurations as the calibration set has (RunConfig::key, leave_out.hpp), with
 * replacement, and takes every run of each configuration drawn (a configuration drawn twice counts twice in the
 * fit). Configurations, not runs, are the unit: repeats of one configuration are not independent evidence about the
 * model, and the noise between them is inside each configuration's runs anyway. Resample b draws from a
 * std::mt19937_64 seeded with b + 1 (index = draw mod count), so the resamples are the same on every machine. A
 * resample whose calibration leaves unfitted something the whole set fits (a "not_fitted" note the whole set's
 * calibration does not have: e.g. it drew no iodepth-1 run, so the service time would stand on the shallowest run;
 * or no write run, so the writes would use the reads' parameters) is redrawn, from seed b + 1 + B x attempt, up to 20
 * times; then it is kept as drawn, and "redrawn" says so. */
#pragma once

#include "sim/json_node.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pvsim::calibration {

/** One resample and its calibration (the document calibrate() returns). */
struct Resample {
  std::uint64_t seed = 0;
  std::vector<std::string> configurations; // the keys drawn, in draw order
  std::vector<std::string> files;          // the runs of those configurations (with repetitions)
  int redrawn = 0;                         // draws rejected before this one
  json device;
};

/** B resamples of the runs `files` (their configuration keys in `config_keys`, same order), each calibrated.
 * `fitted_reference` is the calibration of all the runs: a resample with a "not_fitted" note it does not have is
 * redrawn.
 * `on_done(b)` is called after each calibration (progress). */
std::vector<Resample> bootstrap_calibrations(const std::vector<std::string>& files,
                                             const std::vector<std::string>& config_keys, int resamples,
                                             const json& fitted_reference,
                                             const std::function<void(int)>& on_done = {});

/** The "uncertainty" block of a device.json: {"method", "resamples": B, "parameter sets": [{"seed",
 * "configurations", "parameters", "baselines", "scenario_fragment"}]}; reads the runs' configurations. */
json bootstrap_uncertainty(const std::vector<std::string>& trace_files, int resamples, const json& device,
                           bool progress);

} // namespace pvsim::calibration
