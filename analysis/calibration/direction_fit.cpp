/* pvsim: the fit of one direction's parameters (see direction_fit.hpp and calibration.hpp). */
#include "analysis/calibration/direction_fit.hpp"

#include "analysis/calibration/guest_load.hpp"
#include "analysis/calibration/noise.hpp"
#include "analysis/calibration/validation.hpp"
#include "models/firecracker/firecracker_vmm.hpp"
#include "models/qemu/qemu_iothread.hpp"
#include "models/virtio/virtio_blk.hpp"
#include "models/workload/fio_job.hpp"
#include "sim/statistics.hpp"
#include "sim/units.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace pvsim::calibration::detail {

std::string us(double s)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4gus", s * 1e6);
  return buf;
}

EmpiricalUs empirical_us(const std::map<double, double>& atoms)
{
  EmpiricalUs e;
  double sum = 0, n = 0;
  for (auto& [v, c] : atoms) {
    e.values.push_back(v * 1e6);
    e.counts.push_back(c);
    sum += v * c;
    n += c;
  }
  e.mean_s = n > 0 ? sum / n : 0;
  return e;
}

namespace {

/** The model's fixed costs between the end of io_submit and the reaping of a completion at iodepth 1, apart from the
 * device's service and the fitted costs of the job thread: the defaults of the models the fragment uses (the
 * interrupt's own cost runs on the vCPU the vector is bound to, which fio's CPU time does not see). */
double fixed_path_s()
{
  const VirtioBlkParams v    = VirtioBlk::param_table().defaults();
  const QemuIothreadParams t = QemuIothread::param_table().defaults();
  return v.kick_latency_s + t.wakeup_cpu_s + v.request_cpu_s + t.io_submit_cpu_s + t.iocb_cpu_s + v.used_cpu_s +
         v.notify_cpu_s + v.irq_latency_s + v.irq_cpu_s + v.complete_cpu_s;
}

/** The driver's virtio_queue_rq, which fio's slat holds and the model charges apart (virtio.blk queue_rq_cpu). */
double driver_queue_rq_s()
{
  return VirtioBlk::param_table().defaults().queue_rq_cpu_s;
}

json param(double value_s, const std::string& how, const std::vector<std::string>& from)
{
  return {{"value_us", value_s * 1e6}, {"estimated", how}, {"from", from}};
}

/** The runs' trace files, without their directories. */
std::vector<std::string> names(const std::vector<const RunFacts*>& runs)
{
  std::vector<std::string> n;
  for (auto* r : runs)
    n.push_back(r->file.substr(r->file.find_last_of('/') + 1));
  return n;
}

/** f(run) for every run for which keep(run) holds. */
template <class F, class Keep>
std::vector<double> values_of(const std::vector<const RunFacts*>& runs, F f, Keep keep)
{
  std::vector<double> v;
  for (auto* r : runs)
    if (keep(*r))
      v.push_back(f(*r));
  return v;
}
constexpr auto every = [](const RunFacts&) { return true; };

/** R1: the time per request of one thread at iodepth 1 (1 / its IOPS), median over the runs. */
double r1_of(const std::vector<const RunFacts*>& qd1)
{
  return median(values_of(
      qd1, [](const RunFacts& r) { return 1.0 / (r.iops / r.numjobs); }, every));
}

} // namespace

DirectionFit::DirectionFit(std::string dir, std::vector<const RunFacts*> runs, json& not_fitted, Stack stack)
    : dir_(std::move(dir)), stack_(stack), all_(std::move(runs)), not_fitted_(not_fitted)
{
  for (auto* r : all_) {
    if (r->in_flight() == 1)
      qd1_.push_back(r);
    if (r->in_flight() == 1 and not r->sync_engine)
      qd1_async_.push_back(r);
    if (not r->sync_engine)
      async_.push_back(r);
  }
  tail_src_ = qd1_async_.empty() ? qd1_ : qd1_async_;
  // cpu_per_io per run (reported).
  json per_run = json::array();
  for (auto* r : all_)
    per_run.push_back({{"trace", r->file.substr(r->file.find_last_of('/') + 1)},
                       {"in_flight", r->in_flight()},
                       {"cpu_per_io_us", r->cpu_per_io_s * 1e6},
                       {"slat_mean_us", r->slat_mean_s * 1e6},
                       {"clat_mean_us", r->clat_mean_s * 1e6},
                       {"iops", r->iops}});
  p_["runs"] = per_run;
}

std::optional<DirectionFit::DeepCosts> DirectionFit::deep_costs() const
{
  if (not slat_deep_ or not submit_ or not complete_)
    return std::nullopt;
  return DeepCosts{*submit_, *complete_};
}

void DirectionFit::take_deep_costs_of(const std::string& other_dir, const DeepCosts& costs)
{
  other_deep_ = costs;
  other_dir_  = other_dir;
}

void DirectionFit::fit_cpu_costs()
{
  // The deepest quarter of the async iodepths offered: each job's own depth, since what suppresses a job's kicks and
  // spares its wake-ups is its own requests in flight (two jobs at iodepth 1 still kick and sleep on every I/O).
  int deepest = 0;
  for (auto* r : async_)
    deepest = std::max(deepest, r->iodepth);
  std::vector<const RunFacts*> deep;
  for (auto* r : async_)
    if (r->iodepth * 4 >= deepest and deepest > 1)
      deep.push_back(r);
  // fio's slat holds the driver's virtio_queue_rq, which the model charges apart: the job's submit_cpu is the rest.
  const double queue_rq = driver_queue_rq_s();
  if (not deep.empty()) {
    slat_deep_       = median(values_of(
              deep, [](const RunFacts& r) { return r.slat_mean_s; }, every));
    submit_          = std::max(0.0, *slat_deep_ - queue_rq);
    p_["submit_cpu"] = param(*submit_,
                             "slat mean at the deepest async runs (in flight " + std::to_string(deepest) +
                                 ") less virtio.blk's queue_rq_cpu",
                             names(deep));
    auto v = values_of(
        deep, [](const RunFacts& r) { return std::max(0.0, r.cpu_per_io_s - r.slat_mean_s); },
        [](const RunFacts& r) { return r.cpu_per_io_s > 0; });
    if (not v.empty()) {
      complete_          = median(v);
      p_["complete_cpu"] = param(*complete_, "cpu_per_io - slat at the deepest async runs", names(deep));
    }
  }
  if (not qd1_async_.empty()) {
    double slat1 = median(values_of(
        qd1_async_, [](const RunFacts& r) { return r.slat_mean_s; }, every));
    if (submit_) {
      kick_          = std::max(0.0, slat1 - *slat_deep_);
      p_["kick_cpu"] = param(*kick_, "slat at iodepth 1 (async) - slat at the deepest runs", names(qd1_async_));
      // The deep runs' slat still holds the kicks that depth did not suppress: the refinement with the model
      // (calibration.cpp) splits slat1 and slat_deep again with the kick fraction the model gives the deep run.
      p_["kick_cpu"]["slat_iodepth1_us"] = slat1 * 1e6;
      p_["kick_cpu"]["slat_deep_us"]     = *slat_deep_ * 1e6;
      p_["kick_cpu"]["queue_rq_cpu_us"]  = queue_rq * 1e6;
    } else {
      // No deeper run: the part of the iodepth-1 slat that depth removes (the kick) cannot be measured; the
      // submission takes the other direction's, measured at depth on the same guest (else the model's default), and
      // the kick the rest. A default far below this guest's submission (3 us against 8 on a PVM guest) would put the
      // difference in the kick, which depth suppresses: the deep runs of this direction would come out too fast.
      std::string from = other_deep_ ? "the " + other_dir_ + "s' submission at depth (the same guest)"
                                     : std::string("job.fio's default");
      submit_          = std::min(std::max(0.0, slat1 - queue_rq),
                         other_deep_ ? other_deep_->submit_s : FioJob::param_table().defaults().submit_cpu_s);
      kick_   = std::max(0.0, slat1 - queue_rq - *submit_);
      p_["submit_cpu"] =
          param(*submit_, "no deeper async run: " + from + " (capped by the iodepth-1 slat)", names(qd1_async_));
      p_["kick_cpu"] = param(*kick_, "slat at iodepth 1 - queue_rq_cpu - submit_cpu (" + from + ": no deeper run)",
                             names(qd1_async_));
      not_fitted_.push_back(dir_ + ".submit_cpu: needs an async run deeper than iodepth 1 (" + from +
                            " is used, the rest of the iodepth-1 slat is taken as the kick)");
    }
  }
  if (not qd1_.empty()) {
    double slat1 = model_slat1();
    auto v       = values_of(
        qd1_,
        [&](const RunFacts& r) { return std::max(0.0, r.cpu_per_io_s - (r.sync_engine ? slat1 : r.slat_mean_s)); },
        [](const RunFacts& r) { return r.cpu_per_io_s > 0; });
    if (not v.empty()) {
      double side = median(v);
      if (not complete_) {
        // No deep run: reaping takes the other direction's at depth (else the model's default), the wake-up
        // (which depth removes) the rest.
        std::string from = other_deep_ ? "the " + other_dir_ + "s' reaping at depth (the same guest)"
                                       : std::string("job.fio's default");
        complete_ =
            std::min(side, other_deep_ ? other_deep_->complete_s : FioJob::param_table().defaults().complete_cpu_s);
        wakeup_            = side - *complete_;
        p_["complete_cpu"] =
            param(*complete_, "no deep run: " + from + " (capped by cpu_per_io - slat at iodepth 1)", names(qd1_));
        p_["wakeup_cpu"] = param(*wakeup_, "cpu_per_io - slat - complete_cpu (" + from + ") at iodepth 1", names(qd1_));
        not_fitted_.push_back(dir_ + ".complete_cpu: needs a deep async run (" + from +
                              " is used, the rest of the iodepth-1 CPU is taken as the wake-up)");
      } else {
        wakeup_          = std::max(0.0, side - *complete_);
        p_["wakeup_cpu"] = param(*wakeup_, "cpu_per_io - slat - complete_cpu at iodepth 1", names(qd1_));
      }
    }
  }
  if (not submit_)
    not_fitted_.push_back(dir_ + ".submit_cpu: no async run (slat) in the traces");
  if (not complete_)
    not_fitted_.push_back(dir_ + ".complete_cpu: no usable usr/sys CPU in the traces");
}

namespace {

using Bins = std::map<std::int64_t, std::uint64_t>; // clat bins (ns -> count)

Bins merged_bins(const std::vector<const RunFacts*>& runs)
{
  Bins bins;
  for (auto* r : runs)
    for (auto& [b, c] : r->clat_bins_ns)
      bins[b] += c;
  return bins;
}

/** The iodepth-1 latency tail of merged bins: a latency more than tail_over_median times the median is one whose
 * completion path lost its CPU. */
struct Tail {
  double p50_s        = 0; // the median, also the time a completion is exposed
  double from_ns      = 0;
  std::uint64_t total = 0, count = 0;
  std::map<double, double> lost; // latency - median (s, rounded to 10 us) -> latencies
  double share() const { return total > 0 ? static_cast<double>(count) / static_cast<double>(total) : 0; }
  double rate_hz() const { return share() / p50_s; }
};

Tail tail_of(const Bins& bins)
{
  Tail t;
  if (bins.empty())
    return t;
  t.p50_s   = bins_percentile_s(bins, 50);
  t.from_ns = tail_over_median * t.p50_s * 1e9;
  for (auto& [b, c] : bins) {
    t.total += c;
    if (static_cast<double>(b) > t.from_ns) {
      t.count += c;
      t.lost[std::round((static_cast<double>(b) * 1e-9 - t.p50_s) * 1e5) / 1e5] += static_cast<double>(c);
    }
  }
  return t;
}

} // namespace

void DirectionFit::fit_preemption(HostPreemption& host, GuestPreemption& guest)
{
  // The whole completion path is exposed (the host's threads run it from end to end: the median clat), hit at
  // rate_hz per CPU-second, so tail fraction = rate_hz x median clat, and each loss adds (latency - median). The
  // first direction fits the host's rate and durations (reads when there are any); the other keeps in its own
  // service the part of its tail that this rate does not explain (writes: the device's own, heavier tail).
  // Runs that record their guest's load split in two: the host's rate from the quiet ones, and the loaded ones'
  // excess over it per CPU of their load, as the guest's background tasks.
  std::vector<const RunFacts*> quiet, loaded;
  for (auto* r : tail_src_)
    if (r->foreign_cpus)
      (*r->foreign_cpus < validation::loaded_above_cpus ? quiet : loaded).push_back(r);
  bins_ = merged_bins(tail_src_); // the service's latencies: every run's (the tail is left out of it)
  if (bins_.empty())
    return;
  Tail t     = tail_of(bins_);
  bool split = false;
  if (not quiet.empty() and not loaded.empty()) {
    Tail q = tail_of(merged_bins(quiet));
    split  = q.count >= 10; // too few quiet tail latencies to tell the host's rate: no split
    if (split)
      t = std::move(q);
  }
  tail_from_ns_   = t.from_ns;
  double p_tail   = t.share();
  bool first_tail = not host.rate_hz and t.count >= 10; // this direction fits the host's preemption
  if (first_tail and p_tail > max_preempted_share) {
    p_["tail_not_preemption"] = "more than " + std::to_string(static_cast<int>(max_preempted_share * 100)) +
                                " % of the iodepth-1 latencies are in the tail: not rare losses of the CPU, kept "
                                "in the service";
  } else if (first_tail) {
    host.rate_hz       = t.rate_hz();
    EmpiricalUs lost_d = empirical_us(t.lost);
    host.mean_s        = lost_d.mean_s;
    host.doc           = {{"rate_hz", *host.rate_hz},
                          {"duration", {{"dist", "empirical"}, {"values_us", lost_d.values}, {"counts", lost_d.counts}}},
                          {"duration_mean_us", host.mean_s * 1e6},
                          {"tail_fraction", p_tail},
                          {"tail_above_us", tail_from_ns_ * 1e-3},
                          {"exposure_us", t.p50_s * 1e6},
                          {"direction", dir_},
                          {"estimated", "iodepth-1 clat above " + std::to_string(static_cast<int>(tail_over_median)) +
                                            "x the median: rate = tail fraction / the median clat (the time a completion is "
                                                      "exposed), duration = latency - median (empirical)" +
                                            (split ? "; quiet runs only (summary.csv foreign_cpus below " +
                                               format_number("%g", validation::loaded_above_cpus) + ")"
                                                   : "")},
                          {"from", names(split ? quiet : tail_src_)}};
    tail_keep_         = 0;
    if (split)
      fit_guest_load(*host.rate_hz, loaded, guest);
  } else if (host.rate_hz and p_tail > 0) {
    tail_keep_ = std::max(0.0, 1.0 - *host.rate_hz * t.p50_s / p_tail);
  }
  p_["tail"] = {{"fraction", p_tail}, {"above_us", tail_from_ns_ * 1e-3}, {"kept_in_service", tail_keep_}};
}

void DirectionFit::fit_guest_load(double host_rate_hz, const std::vector<const RunFacts*>& loaded,
                                  GuestPreemption& guest)
{
  double load = 0;
  for (auto* r : loaded)
    load += *r->foreign_cpus;
  load /= static_cast<double>(loaded.size());
  Tail t      = tail_of(merged_bins(loaded));
  double rate = t.rate_hz();
  guest.doc   = {{"from", names(loaded)},
                 {"mean_foreign_cpus", load},
                 {"tail_fraction", t.share()},
                 {"host_rate_hz", host_rate_hz},
                 {"estimated", "the loaded iodepth-1 runs' tail as the host's (rate = tail fraction / median clat) "
                                 "less the quiet runs' rate, per CPU of their mean foreign_cpus; duration = their tail's "
                                 "latency - median (empirical)"}};
  if (t.count < 10 or rate <= host_rate_hz) {
    guest.rate_per_cpu_hz                   = 0.0;
    guest.doc["background_preempt_rate_hz"] = 0.0;
    guest.doc["note"] = "the loaded runs' tail is no heavier than the quiet runs': no background wait fitted";
    return;
  }
  // A background wait holds the job's vCPU: fio neither reaps nor submits meanwhile, so the loaded runs at depth
  // should be slower than their quiet repeats. Where the runs say otherwise, beyond their own noise (one pooled
  // coefficient of variation), the fit is kept but flagged: the loaded tail may not be the job's waits (on Linux 6.18
  // a woken fio gets its vCPU back from a CPU-bound task at once: tests/data/real/kvm-busy-guest-20261208). Gating the
  // fit on it was measured and not kept (README "The guest's other processes").
  json depth = loaded_over_quiet_at_depth();
  if (not depth["configurations"].empty()) {
    double ratio = depth["iops_ratio"].get<double>(), cv = depth["pooled_iops_cv"].get<double>();
    guest.doc["at_depth"] = depth;
    if (ratio >= 1 - cv)
      guest.doc["caution"] = "the loaded runs at depth are no slower than their quiet repeats beyond the noise (IOPS " +
                             format_number("ratio %.3f", ratio) + " over " +
                             std::to_string(depth["configurations"].size()) + " configuration(s), " +
                             format_number("run-to-run CV %.1f %%", cv * 100) +
                             "): the waits fitted from the loaded iodepth-1 tail may not hold the job's vCPU";
  }
  guest.rate_per_cpu_hz = (rate - host_rate_hz) / load;
  EmpiricalUs lost_d    = empirical_us(t.lost);
  guest.duration        = {{"dist", "empirical"}, {"values_us", lost_d.values}, {"counts", lost_d.counts}};
  guest.doc["background_preempt_rate_hz"] = *guest.rate_per_cpu_hz;
  guest.doc["duration_mean_us"]           = lost_d.mean_s * 1e6;
}

json DirectionFit::loaded_over_quiet_at_depth() const
{
  struct Runs {
    std::vector<double> quiet, loaded;
  };
  std::map<std::string, Runs> configs; // by validation::RunConfig::key(), as the folds group
  std::vector<validation::RunConfig> keys;
  std::vector<double> iops, clat_mean; // the same runs, for their noise
  for (auto* r : all_) {
    if (not r->foreign_cpus or r->in_flight() < 2 or r->iops <= 0)
      continue;
    keys.push_back(validation::run_config(r->file, *r, r->files));
    iops.push_back(r->iops);
    clat_mean.push_back(r->clat_mean_s);
    Runs& c = configs[keys.back().key()];
    (*r->foreign_cpus < validation::loaded_above_cpus ? c.quiet : c.loaded).push_back(r->iops);
  }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v)
      s += x;
    return s / static_cast<double>(v.size());
  };
  json list      = json::array();
  double log_sum = 0;
  for (auto& [key, c] : configs) {
    if (c.quiet.empty() or c.loaded.empty())
      continue;
    double q = mean(c.quiet), l = mean(c.loaded);
    list.push_back({{"configuration", key}, {"quiet_iops", q}, {"loaded_iops", l}, {"ratio", l / q}});
    log_sum += std::log(l / q);
  }
  json out = {{"configurations", list}};
  if (not list.empty()) {
    const auto pooled     = validation::RepeatNoise(keys, iops, clat_mean).pooled(); // as validate's noise table
    out["iops_ratio"]     = std::exp(log_sum / static_cast<double>(list.size()));    // geometric mean
    out["pooled_iops_cv"] = pooled ? pooled->iops_cv : 0.0;
  }
  return out;
}

void DirectionFit::fit_bottleneck(const HostPreemption& host)
{
  // Saturation: the highest mean IOPS of a configuration (its repeats averaged) among the deepest quarter of the
  // depths offered. The mean, not the best repeat: the best of n repeats of one configuration lies above what it
  // gives (by about one standard deviation for five), and a thread cost fitted to it makes every deep run too fast.
  int max_inflight = 0;
  for (auto* r : all_)
    max_inflight = std::max(max_inflight, r->in_flight());
  if (max_inflight >= 8) {
    std::map<std::string, std::vector<const RunFacts*>> configs; // by validation::RunConfig::key(), as the folds group
    for (auto* r : all_)
      if (r->in_flight() * 4 >= max_inflight) {
        sat_.push_back(r);
        configs[validation::run_config(r->file, *r, r->files).key()].push_back(r);
        xbest_ = std::max(xbest_.value_or(0), r->iops);
      }
    for (auto& [key, runs] : configs) {
      double mean = 0;
      for (auto* r : runs)
        mean += r->iops / static_cast<double>(runs.size());
      if (not xsat_ or mean > *xsat_) {
        xsat_    = mean;
        sat_top_ = runs;
      }
    }
  }
  // The bottleneck at saturation. Either the one thread that serves the virtqueue (QEMU's IOThread, Firecracker's
  // VMM thread: per request virtio_blk_handle_request, the iocb and virtqueue_push), and then X_sat = 1 / its time
  // per request and IOPS bend smoothly, X(N) = N / (R1 + (N - 1) / X_sat); or the device's channels, and then
  // IOPS grow as N / R1 until they hit X_sat; or neither, the jobs' own vCPUs (each job at most
  // 1 / (submit_cpu + complete_cpu) IOPS: an emulated guest). The runs in between choose: the shape with the
  // smallest median |IOPS error| over the runs with 2 or more requests in flight.
  if (xsat_ and not qd1_.empty()) {
    double r1      = r1_of(qd1_);
    double job_cpu = slat_deep_.value_or(submit_.value_or(0)) + complete_.value_or(0); // all of fio's CPU at depth
    std::vector<double> e_thread, e_device, e_vcpu;
    for (auto* r : all_) {
      int n = r->in_flight();
      if (n < 2 or r->iops <= 0)
        continue;
      e_thread.push_back((n / (r1 + (n - 1) / *xsat_) - r->iops) / r->iops * 100);
      e_device.push_back((std::min(n / r1, *xsat_) - r->iops) / r->iops * 100);
      if (job_cpu > 0)
        e_vcpu.push_back((std::min(n / r1, r->numjobs / job_cpu) - r->iops) / r->iops * 100);
    }
    double et = validation::median_abs(e_thread), ed = validation::median_abs(e_device);
    double ev     = e_vcpu.empty() ? 1e300 : validation::median_abs(e_vcpu);
    vcpu_bound_   = not e_vcpu.empty() and ev < et and ev < ed;
    device_bound_ = not vcpu_bound_ and not e_device.empty() and ed < et;
    json errs     = {{"thread", et}, {"device", ed}};
    if (not e_vcpu.empty())
      errs["vcpus"] = ev;
    p_["bottleneck"] = {{"chosen", vcpu_bound_     ? "the jobs' vCPUs"
                                   : device_bound_ ? "device channels"
                                                   : "the virtqueue's thread"},
                        {"median_abs_iops_error_pct", errs},
                        {"x_sat_iops", *xsat_},
                        {"x_sat_from", names(sat_top_)},
                        {"estimated", "the IOPS of the runs with 2+ in flight against N / (R1 + (N - 1) / X_sat) "
                                      "(one thread), min(N / R1, X_sat) (a device of X_sat x S channels) and "
                                      "min(N / R1, numjobs / (submit_cpu + complete_cpu)) (the jobs' vCPUs); X_sat "
                                      "the highest mean IOPS of a configuration among the deepest runs (x_sat_from: "
                                      "its repeats)"}};
  }
  if (stack_ == Stack::firecracker) {
    if (not xsat_)
      not_fitted_.push_back(dir_ + ".sync_io_cpu: needs a run with >= 8 requests in flight (the VMM thread's CPU per "
                                   "request is then firecracker.vmm's default, from the source's syscalls)");
    return; // the VMM thread's cost comes from fit_vmm(), with the latency it needs
  }
  if (xsat_ and not device_bound_ and not vcpu_bound_) {
    // Saturated, the thread also loses rate x mean duration of every CPU-second to preemption.
    const VirtioBlkParams vb    = VirtioBlk::param_table().defaults();
    const QemuIothreadParams it = QemuIothread::param_table().defaults();
    double lost                 = host.rate_hz.value_or(0) * host.mean_s;

    request_          = std::max(vb.request_cpu_s, 1.0 / (*xsat_ * (1 + lost)) - it.iocb_cpu_s - vb.used_cpu_s);
    p_["request_cpu"] = param(*request_,
                              "1 / (X_sat (1 + preempt_rate x mean preemption)) - iocb_cpu - used_cpu: the "
                              "virtqueue's thread saturated, X_sat the saturated configuration's mean IOPS",
                              names(sat_top_));
  } else if (not xsat_) {
    not_fitted_.push_back(dir_ + ".request_cpu: needs a run with >= 8 requests in flight (the IOThread's cost "
                                 "per request is then the model's default)");
  }
}

double DirectionFit::fixed_path() const
{
  const VirtioBlkParams v = VirtioBlk::param_table().defaults();
  // fio's clat starts when io_submit returns, after the kick's whole exit; KVM signalled the ioeventfd
  // kick_signal_share of the way through it, so the host's side had started (1 - share) x kick before.
  const double signalled_before = (1 - v.kick_signal_share) * kick_.value_or(0);
  if (stack_ == Stack::qemu) {
    double shift = fixed_path_s() - signalled_before;
    if (request_)
      shift += *request_ - v.request_cpu_s;
    return shift;
  }
  // Firecracker, Sync engine on page-cache hits: the kick's eventfd, the VMM's wake-up CPU, the handler, the
  // request's work and I/O, the irqfd write, the interrupt's delivery and the driver's completion.
  const FirecrackerVmmParams f = FirecrackerVmm::param_table().defaults();
  return v.kick_latency_s - signalled_before + f.wakeup_cpu_s + f.event_cpu_s + f.request_cpu_s +
         vmm_io_.value_or(f.sync_io_cpu_s) + f.notify_cpu_s + v.irq_latency_s + v.irq_cpu_s + v.complete_cpu_s;
}

void DirectionFit::service_from_bins(double shift)
{
  const char* what = stack_ == Stack::qemu ? "the backing device's service (device.parallel)"
                                           : "the VMM thread's wake-up latency (firecracker.vmm wakeup_latency): "
                                             "what the host adds between a kick and the interrupt beyond the "
                                             "modelled CPU";
  std::map<double, double> atoms;
  for (auto& [b, c] : bins_) {
    double s = std::max(1e-6, static_cast<double>(b) * 1e-9 - shift);
    double w = static_cast<double>(c) * (static_cast<double>(b) > tail_from_ns_ ? tail_keep_ : 1.0);
    if (w > 0)
      atoms[std::round(s * 1e7) / 1e7] += w;
  }
  EmpiricalUs e = empirical_us(atoms);
  service_mean_ = e.mean_s;
  p_["service"] = {{"value", {{"dist", "empirical"}, {"values_us", e.values}, {"counts", e.counts}}},
                   {"mean_us", *service_mean_ * 1e6},
                   {"shift_us", shift * 1e6},
                   {"models", what},
                   {"estimated", "iodepth-1 clat bins (merged) minus the model's fixed completion path; the tail "
                                 "that preemption explains is left out"},
                   {"from", names(tail_src_)}};
}

double DirectionFit::model_slat1() const
{
  return submit_.value_or(0) + driver_queue_rq_s() + kick_.value_or(0);
}

double DirectionFit::completion_shift() const
{
  double shift = fixed_path() + complete_.value_or(0) + wakeup_.value_or(0);
  if (not tail_src_.empty() and tail_src_.front()->sync_engine) // fio's clat of a sync engine holds the submission
    shift += model_slat1();
  return shift;
}

void DirectionFit::fit_service()
{
  // Service time distribution from the iodepth-1 clat bins (their tail, less what preemption explains).
  double shift = completion_shift();
  if (not bins_.empty()) {
    service_from_bins(shift);
  } else if (not tail_src_.empty()) {
    service_mean_ = median(values_of(
        tail_src_, [&](const RunFacts& r) { return std::max(1e-6, r.clat_mean_s - shift); }, every));
    p_["service"] = {{"value", {{"dist", "exponential"}, {"mean", us(*service_mean_)}}},
                     {"mean_us", *service_mean_ * 1e6},
                     {"shift_us", shift * 1e6},
                     {"estimated", "iodepth-1 clat mean minus the fixed path (no json+ bins: exponential)"},
                     {"from", names(tail_src_)}};
  } else {
    // No iodepth-1 run: the clat of the shallowest run bounds the service from above (queueing included).
    const RunFacts* lightest = all_.front();
    for (auto* r : all_)
      if (r->in_flight() < lightest->in_flight())
        lightest = r;
    service_mean_ = std::max(1e-6, lightest->clat_mean_s - shift);
    p_["service"] = {{"value", {{"dist", "exponential"}, {"mean", us(*service_mean_)}}},
                     {"mean_us", *service_mean_ * 1e6},
                     {"shift_us", shift * 1e6},
                     {"estimated", "clat mean of the shallowest run minus the fixed path: an upper bound (no "
                                   "iodepth-1 run; its queueing is counted as service)"},
                     {"from", names({lightest})}};
    not_fitted_.push_back(dir_ + ".service: no iodepth-1 run: the shallowest run's clat stands for it (an upper "
                                 "bound)");
  }
}

void DirectionFit::fit_channels_and_baselines(json& baselines)
{
  // Little's law at saturation: the device's channels when the device is the bottleneck, and MVA's servers. The
  // baselines keep the best saturated run as their ceiling (Xmax), the way they were first fitted (README
  // "Validation against real hosts"): pvsim's own fits take the saturated configuration's mean, and a baseline
  // is not made weaker by that choice.
  std::optional<long long> channels, mva_channels;
  if (xsat_ and service_mean_)
    channels = static_cast<long long>(std::max(1.0, std::round(*xsat_ * *service_mean_)));
  if (xbest_ and service_mean_)
    mva_channels = static_cast<long long>(std::max(1.0, std::round(*xbest_ * *service_mean_)));
  if (device_bound_ and channels)
    p_["channels"] = {{"value", *channels},
                      {"x_sat_iops", *xsat_},
                      {"estimated", "round(X_sat x mean service): the device's channels are the bottleneck"},
                      {"from", names(sat_)}};
  if (qd1_.empty()) {
    not_fitted_.push_back(dir_ + ".baselines: need an iodepth-1 run");
    return;
  }
  double r1 = r1_of(qd1_);
  json b    = {{"r1_us", r1 * 1e6}};
  if (service_mean_) {
    b["service_us"] = *service_mean_ * 1e6;
    b["think_us"]   = std::max(0.0, r1 - *service_mean_) * 1e6;
  }
  if (mva_channels)
    b["channels"] = *mva_channels;
  if (xbest_)
    b["xmax_iops"] = *xbest_;
  b["clat1_us"] = median(values_of(
                      qd1_, [](const RunFacts& r) { return r.clat_mean_s; }, every)) *
                  1e6;
  baselines[dir_] = b;
}

} // namespace pvsim::calibration::detail

namespace pvsim::calibration::detail {

const json& DirectionFit::refit_service_for_sync_io(double sync_io_s)
{
  if (stack_ == Stack::firecracker and not bins_.empty()) {
    vmm_io_ = sync_io_s;
    service_from_bins(completion_shift());
  }
  return p_["service"];
}

void DirectionFit::fit_vmm()
{
  // Firecracker since v1.13 completes a whole pass at once (used.idx and one interrupt per pass), so at depth the
  // VMM thread and the guest take turns: the VMM serves the N requests in the ring while the guest waits, then the
  // guest completes and resubmits them while the VMM sleeps. One cycle of one job at N in flight (N at most the
  // requests the ring holds) is
  //   T = N (s + g) + L,  g = the guest's CPU per request (the job's submit and completion, queue_rq, the driver's
  //   completion), L = once per cycle: the kick, the VMM's wake-up (latency and CPU), the irqfd, the interrupt, the
  //   job's wake-up;
  // and X = N / T gives s, the VMM thread's CPU per request (request_cpu + sync_io_cpu): the saturated run's.
  if (stack_ != Stack::firecracker or not xsat_ or sat_.empty() or not service_mean_)
    return;
  const RunFacts* top          = sat_top_.front(); // the saturated configuration (its repeats: sat_top_)
  const VirtioBlkParams v      = VirtioBlk::param_table().defaults();
  const FirecrackerVmmParams f = FirecrackerVmm::param_table().defaults();
  if (vcpu_bound_) {
    // The jobs' vCPUs bound the saturated runs (fit_bottleneck): the VMM thread is not what their IOPS measure, and
    // a cost solved from them comes out at whatever makes the thread vanish. Keep the source's estimate.
    vmm_io_ = f.sync_io_cpu_s;
    if (not bins_.empty())
      service_from_bins(completion_shift());
    std::string how   = "firecracker.vmm's default (the Sync engine's syscalls and copy, from the source): the "
                        "saturated runs are bound by the jobs' vCPUs, not by the VMM thread";
    p_["sync_io_cpu"] = param(*vmm_io_, how, names(sat_top_));
    p_["sync_io_cpu"]["refined"] = "no: the jobs' vCPUs bound the saturated run, whose IOPS then do not measure the "
                                   "VMM thread";
    return;
  }
  double ring_requests         = 256.0 / 3.0; // 256 descriptors, 3 per 4 KiB request without indirect ones
  double n                     = std::min<double>(top->iodepth, ring_requests);
  double g                     = submit_.value_or(0) + complete_.value_or(0) + v.queue_rq_cpu_s + v.complete_cpu_s;
  for (int round = 0; round < 3; ++round) { // the latency left at iodepth 1 depends on s: iterate
    double lat = v.kick_signal_share * kick_.value_or(0) + v.kick_latency_s + *service_mean_ + f.wakeup_cpu_s +
                 f.event_cpu_s + f.notify_cpu_s + v.irq_latency_s + v.irq_cpu_s + wakeup_.value_or(0);
    double s = 1.0 / (*xsat_ / top->numjobs) - g - lat / n;
    vmm_io_  = std::max(0.1e-6, s - f.request_cpu_s);
    if (not bins_.empty())
      service_from_bins(completion_shift());
  }
  p_["sync_io_cpu"] = param(*vmm_io_,
                            "1/X_sat - g - L/N - request_cpu: the pass ping-pong of Firecracker >= 1.13 at the "
                            "saturated run (N = min(iodepth, 85 requests in the ring), g the guest's CPU per "
                            "request, L the once-per-cycle latencies and CPU), X_sat its repeats' mean",
                            names(sat_top_));
}

} // namespace pvsim::calibration::detail
