/* pvsim: fio-compatible results (`pvsim run --output-format=json|json+` writes fio.json beside results.json).
 *
 * Shaped as fio 3.x writes `--output-format=json` (fio's stat.c, show_thread_status_json / add_ddir_status_json):
 * "fio version", "timestamp", "global options", "jobs" (one entry per job copy: numjobs copies keep the job's name;
 * with group_reporting one entry per reporting group, named after its first job, job_runtime summed over the
 * copies), each with jobname, groupid, error, "job options" and read / write / trim: io_bytes, io_kbytes, bw_bytes,
 * bw (KiB/s), iops, runtime (ms), total_ios, and slat_ns / clat_ns / lat_ns with min, max, mean, stddev, N and
 * percentile (fio's default list or percentile_list; as fio with lat_percentiles and slat_percentiles set, for all
 * three) and, for json+, "bins" (bucket value in ns -> count); a direction without I/O has neither, as in fio.
 * What pvsim measures: the window after the warm-up (fio's ramp_time); slat from the start of a submission to the
 * request leaving the job for its target (the submission CPU and any wait for the vCPU), clat from there to the
 * completion being reaped, lat = slat + clat (the latency of results.json). Latencies come from pvsim's histograms
 * (sim/latency_histogram.hpp): percentiles within 0.8 % and bins are pvsim's buckets (their midpoints), not fio's.
 * Left out (written as zeros or empty): usr_cpu/sys_cpu/ctx, bw/iops samples (bw_min...), the iodepth and latency
 * distributions, disk_util (an empty array: pvsim has no guest block device statistics), trim (never issued). */
#pragma once

#include "analysis/commands/fio_workload.hpp"
#include "sim/latency_histogram.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace pvsim {

class Simulation;
class Component;
struct JobEvent;

class FioReport {
public:
  /** `plus`: json+ (with bins). The workload names the jobs made from a job file (others keep their component's). */
  FioReport(Simulation& sim, const FioWorkload& workload, bool plus);
  /** Connects to every job's probes; call once the models have started (Simulation::on_models_started). */
  void connect();
  /** Forgets what was measured before `now` (Simulation::on_warmup_end). */
  void restart(double now);
  /** The fio.json text, for the window [warm-up, results' simulated time]. */
  std::string text(const nlohmann::json& results) const;

private:
  struct Latency {
    LatencyHistogram histogram;
    double sum_sq_ns2 = 0;
    void record(double seconds);
    void merge(const Latency& other);
  };
  struct Direction {
    Latency slat, clat, lat;
    std::uint64_t bytes = 0;
    void merge(const Direction& other);
  };
  struct Copy {
    std::string component;
    int copy = 0;
    Direction read, write;
  };
  void on_submitted(const JobEvent& ev);
  void on_completed(std::size_t first_copy, int first_job_id, const JobEvent& ev);
  nlohmann::json direction_json(const Direction& d, double window_s, const std::vector<double>& percentiles) const;
  nlohmann::json latency_json(const Latency& l, const std::vector<double>& percentiles) const;

  Simulation& sim_;
  const FioWorkload& workload_;
  bool plus_;
  std::vector<Copy> copies_;                          // in component order, copies in order
  std::unordered_map<std::uint64_t, double> pending_; // request id -> when it left the job (slat's end)
};

} // namespace pvsim
