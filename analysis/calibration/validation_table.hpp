/* pvsim: the report.md of `pvsim validate`: the title says the mode (in-sample, or what was held out); per run the
 * measured and predicted figures, errors, the configuration's repeat noise and the outside-noise flag, the
 * baselines' errors and, with --interval, the 10-90 % intervals; then the median errors, pvsim and the baselines side
 * by side, the noise of repeats, the coverage of the intervals and which runs calibrated which fold. */
#pragma once

#include "sim/json_node.hpp"

#include <string>

namespace pvsim::validation {

/** The report (markdown) of a full validation document (run_validation). */
std::string markdown(const json& full);

} // namespace pvsim::validation
