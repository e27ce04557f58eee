/* pvsim: the typed events of queueing stations and jobs, and the collectors that turn them into statistics. */
#pragma once

#include <vector>

#include "sim/histogram_batch.hpp"
#include "sim/latency_histogram.hpp"
#include "sim/probe.hpp"
#include "sim/request.hpp"
#include "sim/time_average.hpp"

#include <nlohmann/json.hpp>

namespace pvsim {

/** A request arrived at, started service in, or departed from a queueing station. */
struct StationEvent {
  enum class What { arrive, start, depart };
  What what;
  double t;
  const Request* r;
  double arrived_s; // for start and depart: when the request arrived at the station
};

/** A job's request completed (latency = completion - submission, as fio's clat+slat: lat). */
struct JobEvent {
  double t;
  const Request* r;
};

/** Per-queue statistics: throughput, response and waiting times, time-averaged population and utilisation.
 * Laid out for a wide host, where each station's collector is out of the cache when its next event comes: what every
 * event writes fills the first two cache lines (the two time averages, then the counters), the rest follows. */
class alignas(64) QueueStats {
public:
  /** Latencies go through `batch`, which must outlive this collector. */
  QueueStats(const Probe<StationEvent>& probe, int servers, HistogramBatch& batch);
  void restart(double now);
  nlohmann::json report(double now) const;

private:
  void on_event(const StationEvent& ev);
  TimeAverage in_system_;
  TimeAverage busy_;
  HistogramBatch* batch_;
  std::uint64_t issued_           = 0; // whole run, for conservation
  std::uint64_t completed_        = 0;
  std::uint64_t window_completed_ = 0; // after warm-up
  std::uint64_t window_bytes_     = 0;
  double wait_sum_s_              = 0;
  std::uint64_t wait_count_       = 0;
  double window_start_            = 0;
  LatencyHistogram response_;
  int servers_;
};

/** Per-job statistics: IOPS, bandwidth, latency histograms for reads, writes and both. */
class JobStats {
public:
  /** Latencies go through `batch`, which must outlive this collector. */
  JobStats(const Probe<JobEvent>& probe, HistogramBatch& batch);
  void restart(double now);
  nlohmann::json report(double now) const;
  /** The window's latencies and bytes (a guest's report merges its jobs'). */
  const LatencyHistogram& latencies() const
  {
    batch_->flush();
    return all_;
  }
  std::uint64_t bytes() const { return bytes_; }
  double window_start_s() const { return window_start_; }

private:
  void on_event(const JobEvent& ev);
  /** The latencies of one direction: while the job has done only one, `all_` is that direction's histogram too, and
   * only `all_` is recorded (one bucket less to touch per request); the other direction's histogram stays empty. */
  const LatencyHistogram& of(Op op) const;
  HistogramBatch* batch_;
  LatencyHistogram all_, read_, write_;
  bool any_     = false;    // a request completed in the window
  bool mixed_   = false;    // reads and writes completed in the window: read_ and write_ are recorded
  Op single_op_        = Op::read; // before mixed_, the direction of every request so far
  std::uint64_t bytes_ = 0;
  double window_start_ = 0;
};

/** Jain's fairness index of non-negative values, (Σx)² / (n Σx²): 1 when all are equal, 1/n when one gets
 * everything (1 for an empty or all-zero set). */
double jain_index(const std::vector<double>& x);

/** The median of `x` (the mean of the two middle values for an even count; 0 for none). */
double median(std::vector<double> x);

/** {"mean": .., "p50": .., "p99": .., "p99.9": .., "min": .., "max": ..} in microseconds. */
nlohmann::json latency_summary_us(const LatencyHistogram& h);

} // namespace pvsim
