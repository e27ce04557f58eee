/* pvsim: `pvsim validate`: runs the calibrated virtio-blk stack on the configuration of each given fio json+ result
 * (rw, ioengine, iodepth, numjobs, bs; the guest of the device file), one `pvsim run` child process per simulation
 * (SimGrid allows one simulation per process), and compares IOPS and clat mean/p50/p99 with what fio measured. fio's
 * clat starts after the submission: the prediction is the model's lat minus the submission path (submit_cpu,
 * queue_rq_cpu and kick_cpu times the share of requests that kicked) for async engines, the model's lat for sync ones.
 *
 * Modes (the report's title and validation.json's "mode" say which):
 * - in-sample (--device FILE, the default when a device file is given): every run is simulated with that file. When
 *   the runs are the ones it was calibrated on (its "sources"), the figures are in-sample: the runs scored are the
 *   runs fitted, and say little about runs never seen.
 * - leave-out (no --device; leave_out_validation.hpp): each prediction comes from a calibration that did not see
 *   the run. --hold-out EXPR (repeatable, OR-ed; hold_out.hpp) predicts the runs matching any EXPR from the others;
 *   --kfold K deals the sorted configurations to K folds round-robin (a configuration's repeats and reruns stay in
 *   one fold); --leave-out config predicts each configuration from all the others. Every fold's calibration set is
 *   listed ("folds"). A leave-out with --device is refused: a leave-out calibrates itself.
 * - bundle (--bundle DIR, see bundle.hpp): the traces are the bundle's fio runs, each run's guest (vCPUs, hardware
 *   queues, tags) comes from the bundle instead of the device file, the device file is fitted from the bundle's runs
 *   when none is given (in-sample), and the outputs gain a "bundle" object: the machine, the structure checks (Xen:
 *   XenStore vs /sys/block) and notes.
 * In every mode (accuracy.hpp): each run's error next to the repeat noise of its configuration (noise.hpp: IOPS and
 * clat-mean coefficient of variation over its runs, or the pooled one of all configurations with repeats), runs
 * whose |IOPS error| exceeds 2 x that noise flagged "outside noise", and pvsim side by side with the baselines on
 * the same runs (median |error| of IOPS, clat mean, p99; the worst |IOPS error|; whether pvsim beats the bound
 * formula on each), and the repeats' floor (each run of a configuration measured more than once predicted by the
 * mean of its other runs, with pvsim on the same runs: how finely the measurements let a model be judged), and each
 * configuration scored against its own mean (its runs' measurements and predictions averaged: pvsim and the baselines
 * without the repeats' noise, one configuration counting once). With
 * --interval B (leave-out only), a bootstrap of each fold's calibration set (bootstrap.hpp) gives each run a 10th-90th
 * percentile interval of predicted IOPS and clat mean, and the summary their coverage. Baselines, fitted on the same
 * calibration runs (see calibration.hpp): exact MVA of N = iodepth x numjobs requests cycling between a delay Z and c
 * servers of mean service S (analytic::closed_mva), and the bound interpolation X(N) = N / (R1 + (N - 1) / Xmax); their
 * clat mean is N / X minus the part of the iodepth-1 cycle outside clat. A run whose fio result has the bundle's
 * /proc/interrupts snapshots beside it also gets its requests per interrupt, measured and simulated
 * (requests_per_interrupt.hpp). Outputs: the JSON asked with --json ({"runs": [...], "summary":
 * {"median_abs_error_pct": ..., "mode"}}; each run's "requests_per_interrupt" {"measured", "predicted"} when known; a
 * leave-out adds "mode", "folds", each run's "fold",
 * "noise", "outside_noise", "interval", and the summary's "outside_noise", "side_by_side", "repeat_floor",
 * "by_configuration", "coverage"), and in the report directory report.md (the table, baselines, noise, requests per
 * interrupt, folds),
 * validation.json (everything, for the plots) and the plots of analysis/validation_report.py. Errors are (predicted -
 * measured) / measured x 100. */
#pragma once

#include "analysis/calibration/leave_out.hpp"
#include "analysis/calibration/run_facts.hpp"
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
  // Simulated seconds per run, warm-up included. Unset: after the warm-up, five times as long as the run was
  // measured (RunFacts::runtime_s; 1 s for a result without one), capped at two million requests at the measured
  // rate but never shorter than the run: the prediction is then the model's expectation, not one draw of it. A tail
  // made by rare events (the host preempting the VMM thread a few times a second) shifts a one-second run's median
  // |error| by a point of IOPS and several of p99 from one seed to the next (run_duration_s).
  std::optional<double> duration_s;
  double warmup_s       = 0.1;
  std::uint64_t seed    = 1;
  int parallel          = 2;
  std::string pvsim_exe = "/proc/self/exe"; // the binary whose `run` subcommand simulates one configuration
  std::string report_script;                // empty: analysis/validation_report.py of the source tree
  bool quiet = false;
  // Leave-out (at most one of the three; none with device_file or bundle_dir).
  std::vector<std::string> hold_out; // --hold-out EXPR: held out, the runs matching any
  int kfold = 0;                     // --kfold K (0: off)
  std::string leave_out;             // --leave-out config
  int interval = 0;                  // --interval B: bootstrap resamples per fold (0: no intervals)
  // job.fio's loop of the calibrations validate makes (leave-out, a bundle without --device); a device file carries
  // its own (the command refuses --fio-loop beside --device).
  std::string fio_loop = "batched";
};

/** A prediction simulates its run this many times as long as the run was measured (see Options::duration_s). */
constexpr double prediction_times_measured = 5;
/** A prediction simulates no more requests than this at its run's rate (about a second of wall time); `pvsim predict`
 * keeps the same cap. */
constexpr double prediction_max_requests = 2e6;
/** The simulated length of one run, warm-up included (see Options::duration_s): `times_measured` the measured run
 * (prediction_times_measured for a prediction; 1 for the bootstrap resamples of --interval, whose spread is the
 * fitted parameters', and which are B per run), capped at 2 M requests at the measured rate, never shorter than the
 * run. */
double run_duration_s(const Options& opt, const calibration::RunFacts& run,
                      double times_measured = prediction_times_measured);

/** The bound formula's IOPS for `run` (the baseline bound_interpolation: N / (R1 + (N - 1) / X_sat) with N its
 * requests in flight), from the device file's baselines of its direction; nothing when the file has none (or no
 * positive R1). */
std::optional<double> bound_formula_iops(const json& device, const calibration::RunFacts& run);

/** True when a leave-out option is given. */
bool leave_out_mode(const Options& opt);

/** Median of |values|; 0 for none. */
double median_abs(std::vector<double> values);
/** (predicted − measured) / measured × 100; 0 when measured is 0. */
double error_pct(double predicted, double measured);

/** Runs `pvsim_exe run SCENARIO -o OUT -q` for each scenario file (SimGrid allows one simulation per process),
 * `parallel` at a time; returns each child's exit status (128 when it did not exit normally). With `progress`, a
 * "validate: done/total" line on stderr when it is a terminal. */
std::vector<int> run_simulations(const std::string& pvsim_exe, const std::vector<std::string>& scenario_files,
                                 const std::vector<std::string>& out_dirs, int parallel, bool progress = false);
/** The results.json of a finished simulation; InputError (exit 2 of the child: the scenario was rejected, naming
 * `device_file`) or runtime_error (any other failure) otherwise. */
json simulation_results(int status, const std::string& trace, const std::string& scenario, const std::string& outdir,
                        const std::string& device_file);
/** What the model predicts for fio's figures of a run: {"iops", "clat_mean_us", "clat_p50_us", "clat_p99_us",
 * "cdf"} from the simulation's results.json (clat = the model's lat less the submission path, see above). */
json predicted_of(const json& device, const calibration::RunFacts& facts, const json& results, bool xen_frontend);
/** One run's row: configuration, measured, predicted, error_pct, baselines (from `device`), CDF points. */
json compare_run(const json& device, const RunConfig& config, const calibration::RunFacts& facts, const json& results,
                 bool xen_frontend);
/** {metric: median |error_pct[metric]|} over the rows (pvsim's own errors). */
json median_abs_errors(const json& runs, const std::vector<std::string>& metrics);
/** The summary of rows: median |error| per metric, and per baseline. */
json summarize_runs(const json& runs);

/** Runs the validation; returns the full document ("runs" with baselines and CDF points, "summary", "table"). */
json run_validation(const Options& opt);
/** The --json document: exactly {"runs": [{"trace", "measured", "predicted", "error_pct"}], "summary"}. */
json public_view(const json& full);
/** Writes the outputs, prints the table and returns the exit code (0, or 1 when a threshold is exceeded). */
int validate_command(const Options& opt);

} // namespace pvsim::validation
