/* pvsim: the Xen commands of the command line.
 *   pvsim xenstore SCENARIO      the XenStore tree the scenario's devices negotiate, as `xenstore-ls -f` prints it,
 *                                and the xenbus state transitions with their simulated times
 *   pvsim from-xenstore DUMP     what a real `xenstore-ls -f` dump says was negotiated, as a scenario fragment */
#pragma once

#include "sim/json_node.hpp"
#include "sim/simulation.hpp"

#include <optional>
#include <string>

namespace pvsim {

/** The negotiated trees and transitions of every xen.blkfront of a built (not run) simulation. */
std::string xenstore_report(const Simulation& sim);

/** Reads a dump and returns {"source", "devices": [...], "components": {...}, "notes": [...]}; `domid` keeps only
 * that frontend domain. Throws InputError for an unreadable file or an inconsistent device (with the key's path). */
json from_xenstore(const std::string& dump_file, std::optional<unsigned> domid);

} // namespace pvsim
