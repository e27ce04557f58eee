/* pvsim: facts of fio runs (see run_facts.hpp). */
#include "analysis/calibration/run_facts.hpp"

#include "sim/input_error.hpp"

#include <algorithm>
#include <cmath>

namespace pvsim::calibration {

double bins_percentile_s(const std::map<std::int64_t, std::uint64_t>& bins, double percent)
{
  std::uint64_t total = 0;
  for (auto& [v, c] : bins)
    total += c;
  if (total == 0)
    return 0;
  double need       = percent / 100.0 * static_cast<double>(total);
  std::uint64_t cum = 0;
  for (auto& [v, c] : bins) {
    cum += c;
    if (static_cast<double>(cum) >= need)
      return static_cast<double>(v) * 1e-9;
  }
  return static_cast<double>(bins.rbegin()->first) * 1e-9;
}

bool is_sync_engine(const std::string& engine)
{
  return engine == "psync" or engine == "sync" or engine == "pvsync" or engine == "pvsync2" or engine == "vsync";
}

std::vector<RunFacts> run_facts(const readers::FioResult& result)
{
  std::vector<RunFacts> out;
  if (result.jobs.empty())
    throw InputError(result.file, "/jobs", "no job in this fio result (expected fio --output-format=json+)");
  for (const char* dir : {"read", "write"}) {
    RunFacts f;
    f.file          = result.file;
    f.direction     = dir;
    double clat_sum = 0, slat_sum = 0, cpu_s = 0, cpu_ios = 0;
    int threads = 0;
    for (const auto& job : result.jobs) {
      const readers::FioDirection& d = f.direction == "read" ? job.read : job.write;
      f.rw                           = job.rw();
      f.engine                       = job.ioengine();
      f.sync_engine                  = is_sync_engine(f.engine);
      f.iodepth                      = f.sync_engine ? 1 : job.iodepth();
      f.bs                           = job.bs_bytes();
      f.files                        = job.nrfiles();
      f.ramp_s                       = std::max(f.ramp_s, job.ramp_time_s());
      threads += job.aggregated_threads;
      std::uint64_t job_ios = job.read.total_ios + job.write.total_ios;
      double runtime_s      = job.job_runtime_s.value_or(std::max(job.read.runtime_s, job.write.runtime_s) *
                                                         static_cast<double>(job.aggregated_threads));
      // A thread's own run time: job_runtime sums the threads fio folded into this entry.
      f.runtime_s = std::max(f.runtime_s, runtime_s / static_cast<double>(std::max(1, job.aggregated_threads)));
      if (job_ios > 0 and d.total_ios > 0) {
        // CPU is not split by direction in fio: charge it pro rata.
        double share = static_cast<double>(d.total_ios) / static_cast<double>(job_ios);
        cpu_s += (job.usr_cpu_pct + job.sys_cpu_pct) / 100.0 * runtime_s * share;
        cpu_ios += static_cast<double>(d.total_ios);
      }
      if (d.total_ios == 0)
        continue;
      f.ios += d.total_ios;
      f.iops += d.iops;
      clat_sum += d.clat.mean_ns * 1e-9 * static_cast<double>(d.total_ios);
      slat_sum += d.slat.mean_ns * 1e-9 * static_cast<double>(d.total_ios);
      for (auto& [v, c] : d.clat.bins_ns)
        f.clat_bins_ns[v] += c;
      if (f.clat_percentiles_s.empty())
        for (auto& [p, v] : d.clat.percentiles_ns)
          f.clat_percentiles_s[p] = v * 1e-9;
    }
    if (f.ios == 0)
      continue;
    f.numjobs      = std::max(1, threads);
    f.clat_mean_s  = clat_sum / static_cast<double>(f.ios);
    f.slat_mean_s  = slat_sum / static_cast<double>(f.ios);
    f.cpu_per_io_s = cpu_ios > 0 ? cpu_s / cpu_ios : 0;
    if (not f.clat_bins_ns.empty()) {
      f.clat_p50_s = bins_percentile_s(f.clat_bins_ns, 50);
      f.clat_p99_s = bins_percentile_s(f.clat_bins_ns, 99);
      if (f.clat_percentiles_s.empty() or result.jobs.size() > 1) {
        f.clat_percentiles_s.clear();
        for (double p : {1.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 99.0, 99.5, 99.9})
          f.clat_percentiles_s[p] = bins_percentile_s(f.clat_bins_ns, p);
      }
    } else {
      auto find = [&](double p) {
        for (auto& [q, v] : f.clat_percentiles_s)
          if (std::abs(q - p) < 1e-6)
            return v;
        return 0.0;
      };
      f.clat_p50_s = find(50);
      f.clat_p99_s = find(99);
    }
    out.push_back(std::move(f));
  }
  if (out.empty())
    throw InputError(result.file, "/jobs", "no job has any read or write I/O (total_ios is 0 everywhere)");
  return out;
}

} // namespace pvsim::calibration
