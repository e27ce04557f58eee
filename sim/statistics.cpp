#include "sim/statistics.hpp"

#include <algorithm>

namespace pvsim {

nlohmann::json latency_summary_us(const LatencyHistogram& h)
{
  return {{"count", h.count()},
          {"mean", h.mean_s() * 1e6},
          {"min", h.min_s() * 1e6},
          {"p50", h.quantile_s(0.50) * 1e6},
          {"p90", h.quantile_s(0.90) * 1e6},
          {"p99", h.quantile_s(0.99) * 1e6},
          {"p99.9", h.quantile_s(0.999) * 1e6},
          {"max", h.max_s() * 1e6}};
}

QueueStats::QueueStats(const Probe<StationEvent>& probe, int servers, HistogramBatch& batch)
    : batch_(&batch), servers_(servers)
{
  probe.connect([this](const StationEvent& ev) { on_event(ev); });
}

void QueueStats::on_event(const StationEvent& ev)
{
  switch (ev.what) {
  case StationEvent::What::arrive:
    issued_++;
    in_system_.add(ev.t, 1);
    break;
  case StationEvent::What::start:
    busy_.add(ev.t, 1);
    wait_sum_s_ += ev.t - ev.arrived_s;
    wait_count_++;
    break;
  case StationEvent::What::depart:
    completed_++;
    in_system_.add(ev.t, -1);
    busy_.add(ev.t, -1);
    if (ev.t >= window_start_) {
      window_completed_++;
      window_bytes_ += ev.r->size_bytes;
      batch_->record(response_, ev.t - ev.arrived_s);
    }
    break;
  }
}

void QueueStats::restart(double now)
{
  batch_->flush();
  window_start_     = now;
  window_completed_ = 0;
  window_bytes_     = 0;
  wait_sum_s_       = 0;
  wait_count_       = 0;
  in_system_.restart(now);
  busy_.restart(now);
  response_.reset();
}

nlohmann::json QueueStats::report(double now) const
{
  batch_->flush();
  double span = now - window_start_;
  nlohmann::json out;
  out["servers"]           = servers_;
  out["requests"]          = window_completed_;
  out["iops"]              = span > 0 ? static_cast<double>(window_completed_) / span : 0.0;
  out["MBps"]              = span > 0 ? static_cast<double>(window_bytes_) / span / 1e6 : 0.0;
  out["response_us"]       = latency_summary_us(response_);
  out["mean_wait_us"]      = wait_count_ ? wait_sum_s_ / static_cast<double>(wait_count_) * 1e6 : 0.0;
  out["mean_in_system"]    = in_system_.mean(now);
  out["mean_busy_servers"] = busy_.mean(now);
  out["utilization"]       = servers_ > 0 ? busy_.mean(now) / servers_ : 0.0;
  out["mean_queue_length"] = in_system_.mean(now) - busy_.mean(now);
  out["histogram"]         = response_.buckets_json();
  return out;
}

JobStats::JobStats(const Probe<JobEvent>& probe, HistogramBatch& batch) : batch_(&batch)
{
  probe.connect([this](const JobEvent& ev) { on_event(ev); });
}

void JobStats::on_event(const JobEvent& ev)
{
  if (ev.t < window_start_)
    return;
  double lat = ev.t - ev.r->submit_s;
  const Op op = ev.r->op;
  if (not any_) {
    any_       = true;
    single_op_ = op;
  } else if (not mixed_ and op != single_op_) { // the first request of the other direction
    batch_->flush();
    (single_op_ == Op::read ? read_ : write_) = all_; // every latency so far was of that direction
    mixed_                                    = true;
  }
  batch_->record(all_, lat);
  if (mixed_)
    batch_->record(op == Op::read ? read_ : write_, lat);
  bytes_ += ev.r->size_bytes;
}

void JobStats::restart(double now)
{
  batch_->flush();
  window_start_ = now;
  all_.reset();
  read_.reset();
  write_.reset();
  any_   = false;
  mixed_ = false;
  bytes_ = 0;
}

nlohmann::json JobStats::report(double now) const
{
  batch_->flush();
  double span = now - window_start_;
  nlohmann::json out;
  out["requests"]   = all_.count();
  out["iops"]       = span > 0 ? static_cast<double>(all_.count()) / span : 0.0;
  out["MBps"]       = span > 0 ? static_cast<double>(bytes_) / span / 1e6 : 0.0;
  out["latency_us"] = latency_summary_us(all_);
  const LatencyHistogram& read  = of(Op::read);
  const LatencyHistogram& write = of(Op::write);
  if (read.count())
    out["read"] = {{"iops", span > 0 ? static_cast<double>(read.count()) / span : 0.0},
                   {"latency_us", latency_summary_us(read)}};
  if (write.count())
    out["write"] = {{"iops", span > 0 ? static_cast<double>(write.count()) / span : 0.0},
                    {"latency_us", latency_summary_us(write)}};
  out["histogram"] = all_.buckets_json();
  return out;
}

const LatencyHistogram& JobStats::of(Op op) const
{
  if (any_ and not mixed_ and op == single_op_)
    return all_;
  return op == Op::read ? read_ : write_;
}

double jain_index(const std::vector<double>& x)
{
  double s = 0, s2 = 0;
  for (double v : x) {
    s += v;
    s2 += v * v;
  }
  return s2 > 0 ? s * s / (static_cast<double>(x.size()) * s2) : 1.0;
}

double median(std::vector<double> x)
{
  if (x.empty())
    return 0;
  std::sort(x.begin(), x.end());
  std::size_t n = x.size();
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

} // namespace pvsim
