/* pvsim: the load other processes put on the guest while each traced run ran, where the traces say it, and
 * validate's accuracy split by it.
 *
 * The virtio-vm-1q traces record that load per run: summary.csv beside the fio/ directory, column `foreign_cpus`
 * (CPUs used by tasks other than fio, averaged over the run), keyed by `run` (the fio file's name without .json). On
 * those traces loaded qd16 runs have 2-4x the p99 of quiet ones and 5-20 % more IOPS. calibrate fits guest.vm's
 * background waits from it (DirectionFit::fit_preemption), validate gives each run its load (scenario_for_run), and
 * the split shows what is left of the error in each kind of run. */
#pragma once

#include "sim/json_node.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::validation {

/** Runs at or above this many CPUs of other processes count as loaded. */
constexpr double loaded_above_cpus = 0.1;

/** fio file name (with .json) -> foreign_cpus, from the summary.csv beside each trace's fio/ directory (the parent
 * of the directory holding the file). Traces with no such file, no such column or an empty value are absent. Throws
 * InputError (file, line and column) for a value that is not a non-negative number. */
std::map<std::string, double> guest_load_of(const std::vector<std::string>& trace_files);

/** The load recorded for `trace_file` (a path) in guest_load_of()'s map, if any. */
std::optional<double> guest_load_for(const std::map<std::string, double>& load, const std::string& trace_file);

/** Adds "foreign_cpus" to each run of full["runs"] whose trace has it, and when any has, full["summary"]["by_guest_
 * load"]: {"loaded_above_cpus", "quiet": {"runs", "median_abs_error_pct": {iops, clat_mean_us, clat_p99_us}},
 * "loaded": {...}, "unknown": n}. */
void add_guest_load(json& full, const std::map<std::string, double>& load);

} // namespace pvsim::validation
