/* pvsim: fio results, `--output-format=json` and `json+`.
 *
 * Reads the top level (fio version, timestamp, global options, disk_util) and per job: jobname, groupid, error, the
 * job options (merged over the global ones, with typed accessors), the read/write/trim sections (io_bytes, IOPS,
 * bandwidth, runtime, total_ios; slat/clat/lat min/max/mean/stddev/N, percentiles, and the json+ `bins` histogram),
 * usr/sys CPU, context switches and job_runtime. Text before the JSON (fio warnings printed to stdout) is kept in
 * `leading_text`, text after it in `trailing_text`. Latencies must be fio 3's *_ns objects.
 * Left out: fio 2.x files (latencies in µs under "clat"), the iodepth_* and latency_* distributions, bw/iops
 * sample statistics (bw_min, iops_mean...), the "mixed" section of unified_rw_reporting, disk_util's aggr_* fields,
 * client/server ("hostname") wrappers.
 *
 * Units are converted here: bandwidth to bytes/s, runtimes to seconds; latencies stay in ns as fio writes them. */
#pragma once

#include "analysis/readers/fio_jobfile.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::readers {

/** One of slat_ns / clat_ns / lat_ns. */
struct FioLatency {
  std::uint64_t count = 0; // fio's N
  double min_ns       = 0;
  double max_ns       = 0;
  double mean_ns      = 0;
  double stddev_ns    = 0;
  std::map<double, double> percentiles_ns;       // percent (e.g. 99.9) -> ns; empty when fio printed none
  std::map<std::int64_t, std::uint64_t> bins_ns; // json+ only: bucket value in ns -> count
  bool has_bins = false;                         // the json+ "bins" object was present

  /** fio's reported percentile `percent` (matched to 1e-6), or nullopt if fio did not print it. */
  std::optional<double> percentile_ns(double percent) const;
  /** The percentile computed from the json+ bins the way fio does (first bucket whose cumulative count reaches
   * percent/100 * total); nullopt without bins or with an empty histogram. */
  std::optional<double> percentile_from_bins_ns(double percent) const;
  /** Sum of the bins' counts. */
  std::uint64_t bins_total() const;
};

/** One direction (read, write or trim) of a job. */
struct FioDirection {
  std::uint64_t io_bytes  = 0;
  double iops             = 0;
  double bw_Bps           = 0; // bytes per second (fio's bw_bytes; bw KiB/s * 1024 for old fio)
  double runtime_s        = 0;
  std::uint64_t total_ios = 0;
  FioLatency slat;
  FioLatency clat;
  FioLatency lat;
};

struct FioJob {
  std::string jobname;
  int groupid = 0;
  int error   = 0;
  FioOptions job_options; // "job options" as written
  FioOptions options;     // "global options" overlaid by "job options"
  FioDirection read;
  FioDirection write;
  std::optional<FioDirection> trim; // absent in some fio versions
  double usr_cpu_pct = 0;
  double sys_cpu_pct = 0;
  std::uint64_t ctx  = 0;
  std::optional<double> job_runtime_s; // fio >= 3.17: summed over the threads of a group_reporting entry
  std::optional<double> elapsed_s;
  /** fio threads this entry stands for: numjobs (or several jobs of a group) summed by group_reporting give one
   * entry. Estimated as job_runtime / max(read, write runtime), which fio makes the number of threads; 1 when it
   * cannot be told. */
  int aggregated_threads = 1;

  // Typed accessors over `options`, with fio's defaults when an option is absent (see fio_jobfile.hpp).
  std::string rw() const;
  int rwmixread() const;
  std::string ioengine() const;
  int iodepth() const;
  int numjobs() const;
  int nrfiles() const;
  bool direct() const;
  std::uint64_t bs_bytes() const; // the block size of the main direction (read for read/mixed, else write)
  std::optional<double> runtime_s() const;
  double ramp_time_s() const;
  /** The options as a pvsim workload (see to_workload). */
  WorkloadMapping workload() const;

  std::string file; // the result file, for error messages of the accessors
};

struct FioDiskUtil {
  std::string name;
  std::uint64_t read_ios     = 0;
  std::uint64_t write_ios    = 0;
  std::uint64_t read_merges  = 0;
  std::uint64_t write_merges = 0;
  double read_ticks_s        = 0;
  double write_ticks_s       = 0;
  double in_queue_s          = 0;
  double util_pct            = 0;
};

struct FioResult {
  std::string file;
  std::string fio_version; // "fio-3.33"
  std::optional<std::int64_t> timestamp_s;
  FioOptions global_options;
  std::vector<FioJob> jobs;
  std::vector<FioDiskUtil> disk_util;
  std::string leading_text;  // anything before the JSON object (warnings), trimmed
  std::string trailing_text; // anything after it, trimmed
  /** True when some entry aggregates several threads (group_reporting, or numjobs > 1 with fewer entries). */
  bool group_reporting = false;
};

/** Reads a fio JSON or json+ result. Throws InputError naming the file, a JSON pointer ("/jobs/0/read/iops") or
 * "line N" for syntax errors, and what was expected. */
FioResult read_fio_json(const std::string& path);
/** Same from text; `file` names the input in error messages. */
FioResult parse_fio_json(std::string_view text, const std::string& file);

} // namespace pvsim::readers
