/* pvsim: the metrics a regression run compares, read from one run's results.json.
 *
 * Per job: IOPS, MB/s, mean, p50, p99 and p99.9 latency (µs, fio's clat+slat: submission to completion). Fairness
 * (Jain's index, (Σx)² / (n Σx²), 1 when equal, 1/n when one gets everything): across the jobs' IOPS, across the
 * threads of each job.fio (requests completed), across the streams of each net.flow (throughput). CPU per request:
 * the CPU seconds each cpu.host's cores ran (every thread placed on them: vCPUs, backend kthreads, IOThreads, vhost
 * workers), per request completed by the jobs it serves (those connected to it through the scenario's wiring), in
 * µs; that is where a policy moves CPU (guest, dom0, host). */
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pvsim::regress {

struct Metric {
  std::string name; // "jobs.fio.latency_us.p99", "cpu_us_per_request.dom0_cpus"
  double value;
  bool higher_is_better; // IOPS, MB/s, fairness; latency and CPU are better lower
};

std::vector<Metric> metrics_of(const nlohmann::json& results);

/** Jain's fairness index of non-negative values (1 for an empty or all-zero set). */
double jain_index(const std::vector<double>& x);

} // namespace pvsim::regress
