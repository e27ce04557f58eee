/* pvsim: `pvsim predict`: what a calibrated device (a device.json from `pvsim calibrate`) gives for a fio
 * configuration no trace measured (rw, ioengine, iodepth, numjobs, bs), with an interval when the device file holds
 * bootstrap parameter sets (`calibrate --bootstrap B`, bootstrap.hpp): the run is simulated once with the fitted
 * parameters and once per parameter set (seed + 1 + b), one pvsim process each (one simulation per process), and the
 * 10th-90th percentiles of IOPS and clat mean over the sets are the interval. Like validate's intervals it holds the
 * spread of the fitted parameters and of the seeds, not the run-to-run noise of a real host (8-12 % on the
 * virtio-vm-1q traces), which a measurement adds. */
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
  double duration_s  = 1.0;
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

/** Runs the prediction: {"configuration", "predicted": {iops, clat_mean_us, clat_p50_us, clat_p99_us}, "interval"
 * (when the device has parameter sets): {"sets", "iops": [lo, hi], "clat_mean_us": [lo, hi], "holds"}}. */
json predict(const Options& opt);
/** Prints it (and writes --json); returns the exit code. */
int predict_command(const Options& opt);

} // namespace pvsim::prediction
