/* pvsim: what calibration and validation take from one fio json+ result, direction by direction: IOPS, latencies
 * (means, percentiles, the merged json+ histogram), fio's CPU per I/O, depth and jobs. */
#pragma once

#include "analysis/readers/fio_json.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::calibration {

/** What one fio result says about one direction, all jobs of the file together. Times in seconds. */
struct RunFacts {
  std::string file;
  std::string direction; // "read" or "write"
  std::string rw;
  std::string engine;
  bool sync_engine    = false;
  int iodepth         = 1; // 1 for sync engines
  int numjobs         = 1; // fio threads (numjobs × jobs of the file)
  int files           = 1; // files each job spreads its I/O over (fio nrfiles)
  std::uint64_t bs    = 4096;
  std::uint64_t ios   = 0;
  double iops         = 0;
  double clat_mean_s  = 0;
  double clat_p50_s   = 0;
  double clat_p99_s   = 0;
  double slat_mean_s  = 0;
  double cpu_per_io_s = 0;                     // 0 when fio reported no CPU time
  double runtime_s    = 0;                     // how long the run measured (its longest thread's), 0 unknown
  double ramp_s       = 0;                     // fio's ramp_time before it (I/O not measured)
  std::optional<double> foreign_cpus;          // CPUs the guest's other processes used meanwhile (summary.csv)
  std::map<double, double> clat_percentiles_s; // percent → s, for CDF plots
  std::map<std::int64_t, std::uint64_t> clat_bins_ns;
  int in_flight() const { return iodepth * numjobs; }
};

bool is_sync_engine(const std::string& engine);
/** The facts of every direction with I/O in a fio result; throws InputError when there is none. */
std::vector<RunFacts> run_facts(const readers::FioResult& result);

/** Percentile from merged json+ bins (ns -> count), the way fio computes it; in seconds. */
double bins_percentile_s(const std::map<std::int64_t, std::uint64_t>& bins, double percent);

} // namespace pvsim::calibration
