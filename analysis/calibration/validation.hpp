/* pvsim: `pvsim validate`: runs the calibrated virtio-blk stack (a device.json from `pvsim calibrate`) on the
 * configuration of each given fio json+ result (rw, ioengine, iodepth, numjobs, bs; the guest of the device file),
 * one `pvsim run` child process per trace (SimGrid allows one simulation per process), and compares IOPS and clat
 * mean/p50/p99 with what fio measured. fio's clat starts after the submission: the prediction is the model's lat
 * minus the submission path (submit_cpu, queue_rq_cpu and kick_cpu times the share of requests that kicked) for
 * async engines, the model's lat for sync ones.
 * Baselines, fitted on the same calibration runs (see calibration.hpp): exact MVA of N = iodepth × numjobs requests
 * cycling between a delay Z and c servers of mean service S (analytic::closed_mva), and the bound interpolation
 * X(N) = N / (R1 + (N − 1) / Xmax); their clat mean is N / X minus the part of the iodepth-1 cycle outside clat.
 * Outputs: the JSON asked with --json ({"runs": [...], "summary": {"median_abs_error_pct": ...}}), and in the report
 * directory report.md (the table, baselines included), validation.json (everything, for the plots) and the plots of
 * analysis/validation_report.py. Errors are (predicted − measured) / measured × 100.
 * With a bundle (--bundle DIR, see bundle.hpp), the traces are the bundle's fio runs, each run's guest (vCPUs, hardware
 * queues, tags) comes from the bundle instead of the device file, the device file is fitted from the bundle's runs
 * when none is given, and the outputs gain a "bundle" object: the machine, the structure checks (Xen: XenStore vs
 * /sys/block) and notes. */
#pragma once

#include "sim/json_node.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pvsim::validation {

struct Options {
  std::string device_file; // may be empty with bundle_dir: calibrated from the bundle's runs
  std::vector<std::string> traces;
  std::string bundle_dir; // a capture bundle (bundle.hpp): its runs are the traces, its machine the guest
  std::string json_out;
  std::string report_dir;
  std::optional<double> max_iops_error_pct;
  std::optional<double> max_mean_error_pct;
  double duration_s     = 1.0; // long enough to hold ~100 preemptions of the calibrated host (a few ms each)
  double warmup_s       = 0.1;
  std::uint64_t seed    = 1;
  int parallel          = 2;
  std::string pvsim_exe = "/proc/self/exe"; // the binary whose `run` subcommand simulates one configuration
  std::string report_script;                // empty: analysis/validation_report.py of the source tree
  bool quiet = false;
};

/** Median of |values|; 0 for none. */
double median_abs(std::vector<double> values);
/** (predicted − measured) / measured × 100; 0 when measured is 0. */
double error_pct(double predicted, double measured);

/** Runs `pvsim_exe run SCENARIO -o OUT -q` for each scenario file (SimGrid allows one simulation per process),
 * `parallel` at a time; returns each child's exit status (128 when it did not exit normally). */
std::vector<int> run_simulations(const std::string& pvsim_exe, const std::vector<std::string>& scenario_files,
                                 const std::vector<std::string>& out_dirs, int parallel);

/** Runs the validation; returns the full document ("runs" with baselines and CDF points, "summary", "table"). */
json run_validation(const Options& opt);
/** The --json document: exactly {"runs": [{"trace", "measured", "predicted", "error_pct"}], "summary"}. */
json public_view(const json& full);
/** Writes the outputs, prints the table and returns the exit code (0, or 1 when a threshold is exceeded). */
int validate_command(const Options& opt);

} // namespace pvsim::validation
