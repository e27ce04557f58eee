/* pvsim: what `pvsim calibrate` tells the terminal: the stack it chose and why, each parameter it fitted (its value
 * and how many runs it came from), the preemption and guest-load fits, what it could not fit and what it assumed. The
 * whole story stays in device.json; this is the few lines a user reads before opening it. */
#pragma once

#include "sim/json_node.hpp"

#include <string>

namespace pvsim::calibration {

/** A few lines about a device.json document written by calibrate(); `written_to` is the file it went to. */
std::string summary_text(const json& device, const std::string& written_to);

} // namespace pvsim::calibration
