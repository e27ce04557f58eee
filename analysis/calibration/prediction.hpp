/* pvsim: `pvsim predict`: what a calibrated device (a device.json from `pvsim calibrate`) gives for a fio
 * configuration no trace measured (rw, ioengine, iodepth, numjobs, bs), with an interval when the device file holds
 * bootstrap parameter sets (`calibrate --bootstrap B`, bootstrap.hpp): the run is simulated once with the fitted
 * parameters and once per parameter set (seed + 1 + b), one pvsim process each (one simulation per process), and the
 * 10th-90th percentiles of IOPS and clat mean over the sets are the interval. Like validate's intervals it holds the
 * spread of the fitted parameters and of the seeds, not the run-to-run noise of a real host (8-12 % on the
 * virtio-vm-1q traces), which a measurement adds.
 *
 * How long it simulates (unless --duration says): as `validate` simulates a measured run (validation::run_duration_s),
 * taking the configuration as a fio run of reference_runtime_s at the rate the device file's bound formula gives it
 * (its baselines: N / (R1 + (N - 1) / X_sat) for N requests in flight). The fitted parameters' run is five times that
 * run, at most validation::prediction_max_requests at that rate and at least min_run_s: the model's expectation rather
 * than one draw of it (the tail of a one-second run at depth moves by several points of p99 from one seed to the next).
 * Each bootstrap set runs a fifth of that (at least min_run_s), as validate's --interval resamples run shorter than its
 * predictions: their spread is the fitted parameters'. A device file without baselines for the direction (no iodepth-1
 * run among its sources) gives no rate: the fitted run is then reference_runtime_s long. */
#pragma once

#include "sim/json_node.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace pvsim::prediction {

struct Options {
  std::string device_file;
  std::string rw     = "randread";
  std::string engine = "libaio";
  int iodepth        = 1;
  int numjobs        = 1;
  std::uint64_t bs   = 4096;
  std::optional<double> duration_s; // simulated seconds per run after the warm-up; unset: see the header
  double warmup_s    = 0.1;
  std::uint64_t seed = 1;
  int parallel       = 2;
  int max_sets       = 0; // 0: every parameter set of the device file
  std::optional<double> background_cpus; // the guest's other processes (guest.vm background_cpus)
  std::string json_out;
  std::string scenario_out; // the scenario simulated for the fitted parameters, written as pvsim run takes it
  std::string pvsim_exe = "/proc/self/exe";
  bool quiet            = false;
};

/** The length of fio run a prediction stands for when --duration is not given: 10 s, the runtime of the runs of
 * ../shared/traces/virtio-vm-1q (summary.csv runtime_s). */
constexpr double reference_runtime_s = 10;
/** No run shorter than this (the default of --duration before session 44). */
constexpr double min_run_s = 1;

/** Simulated seconds after the warm-up of the fitted parameters' run (`bootstrap_set` false) or of a bootstrap set's.
 */
double run_length_s(const Options& opt, const json& device, bool bootstrap_set);

/** Runs the prediction: {"configuration", "predicted": {iops, clat_mean_us, clat_p50_us, clat_p99_us}, "interval"
 * (when the device has parameter sets): {"sets", "iops": [lo, hi], "clat_mean_us": [lo, hi], "holds"}}. */
json predict(const Options& opt);
/** Prints it (and writes --json); returns the exit code. */
int predict_command(const Options& opt);

} // namespace pvsim::prediction
