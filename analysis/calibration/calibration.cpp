/* pvsim: `pvsim calibrate` (see calibration.hpp for how each parameter is estimated). */
#include "analysis/calibration/calibration.hpp"

#include "analysis/calibration/validation.hpp"
#include "models/qemu/aio_engine.hpp"
#include "models/qemu/qemu_iothread.hpp"
#include "models/virtio/virtio_blk.hpp"
#include "models/workload/fio_job.hpp"
#include "sim/input_error.hpp"
#include "sim/scenario.hpp"
#include "sim/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace pvsim::calibration {

namespace {

constexpr int device_format_version = 1;
constexpr const char* device_format = "pvsim-device-calibration";

std::string us(double s)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4gus", s * 1e6);
  return buf;
}

/** Percentile from merged json+ bins, the way fio computes it. */
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

/** The model's fixed costs between the end of io_submit and the reaping of a completion at iodepth 1, apart from the
 * device's service and the fitted costs of the job thread: the defaults of the models the fragment uses (the
 * interrupt's own cost runs on the vCPU the vector is bound to, which fio's CPU time does not see). */
double fixed_path_s()
{
  VirtioBlkParams v;
  QemuIothreadParams t;
  return v.kick_latency_s + t.wakeup_cpu_s + v.request_cpu_s + t.io_submit_cpu_s + t.iocb_cpu_s + v.used_cpu_s +
         v.notify_cpu_s + v.irq_latency_s + v.irq_cpu_s + v.complete_cpu_s;
}

/** A latency is in the tail, that preemption puts there, when it is above this many times the median (at iodepth 1
 * the body of the histogram ends well below: 3-6x on the virtio-vm-1q runs, the tail sits at 1-10 ms). */
constexpr double tail_over_median = 10;
/** Preemption explains rare losses: a tail holding more than this share of the iodepth-1 latencies is the service's
 * own (an emulated host's latencies, 12 % above 10x the median in the Xen lab, stay in the service). */
constexpr double max_preempted_share = 0.01;

/** An empirical distribution of durations (seconds → weight) as device.json writes it (µs) and its mean. */
struct EmpiricalUs {
  json values = json::array(), counts = json::array();
  double mean_s = 0;
};
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

json param(double value_s, const std::string& how, const std::vector<std::string>& from)
{
  return {{"value_us", value_s * 1e6}, {"estimated", how}, {"from", from}};
}

} // namespace

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
      threads += job.aggregated_threads;
      std::uint64_t job_ios = job.read.total_ios + job.write.total_ios;
      double runtime_s      = job.job_runtime_s.value_or(std::max(job.read.runtime_s, job.write.runtime_s) *
                                                         static_cast<double>(job.aggregated_threads));
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

json calibrate(const std::vector<std::string>& trace_files)
{
  if (trace_files.empty())
    throw InputError("", "--trace", "no trace given (expected one or more fio json+ result files)");
  std::vector<RunFacts> runs;
  for (const auto& file : trace_files)
    for (auto& f : run_facts(readers::read_fio_json(file)))
      runs.push_back(std::move(f));

  json doc;
  doc["format"]  = device_format;
  doc["version"] = device_format_version;
  doc["comment"] =
      "Fitted by `pvsim calibrate` from fio json+ results. Per direction: cpu_per_io = (usr_cpu + sys_cpu)/100 x "
      "job_runtime / ios; submit_cpu = slat mean of the deepest async run (kicks suppressed); kick_cpu = slat at "
      "iodepth 1 - submit_cpu; complete_cpu = cpu_per_io - slat at the deepest async run; wakeup_cpu = "
      "cpu_per_io - slat - complete_cpu at iodepth 1 (fio's thread asleep for every I/O); service = iodepth-1 clat "
      "bins shifted down by the model's fixed completion "
      "path (empirical); request_cpu (the virtqueue's thread) = 1/X_sat - iocb_cpu - used_cpu (that thread "
      "saturated at the deepest runs, less the share preemption takes); preemption = the iodepth-1 clat above 10x the "
      "median (rate = their share / median clat per CPU-second, durations = latency - median); the device gets as "
      "many channels as tags. Baselines: R1 = 1/(IOPS per thread "
      "at iodepth 1), Z = R1 - S, c = round(X_sat x S), Xmax = X_sat. The guest is assumed, not "
      "fitted: edit 'guest' for another machine.";
  doc["sources"]  = trace_files;
  doc["guest"]    = {{"vcpus", 2}, {"hw_queues", 1}, {"tags", 128}, {"estimated", "assumed (not in fio's output)"}};
  json not_fitted = json::array();
  json params     = json::object();
  json baselines  = json::object();

  const double fixed = fixed_path_s();
  std::optional<double> preempt_rate_hz; // fitted on the first direction with an iodepth-1 tail
  double preempt_mean_s = 0;
  json preemption;
  for (const std::string dir : {"read", "write"}) {
    std::vector<const RunFacts*> d;
    for (const auto& r : runs)
      if (r.direction == dir)
        d.push_back(&r);
    if (d.empty()) {
      not_fitted.push_back(dir + ": no run with " + dir + "s");
      continue;
    }
    json p;
    auto names = [](const std::vector<const RunFacts*>& v) {
      std::vector<std::string> n;
      for (auto* r : v)
        n.push_back(r->file.substr(r->file.find_last_of('/') + 1));
      return n;
    };
    std::vector<const RunFacts*> qd1, qd1_async, async, with_cpu;
    for (auto* r : d) {
      if (r->in_flight() == 1)
        qd1.push_back(r);
      if (r->in_flight() == 1 and not r->sync_engine)
        qd1_async.push_back(r);
      if (not r->sync_engine)
        async.push_back(r);
    }
    // cpu_per_io per run (reported), and the deepest async runs.
    json per_run = json::array();
    for (auto* r : d)
      per_run.push_back({{"trace", r->file.substr(r->file.find_last_of('/') + 1)},
                         {"in_flight", r->in_flight()},
                         {"cpu_per_io_us", r->cpu_per_io_s * 1e6},
                         {"slat_mean_us", r->slat_mean_s * 1e6},
                         {"clat_mean_us", r->clat_mean_s * 1e6},
                         {"iops", r->iops}});
    p["runs"]   = per_run;
    int deepest = 0;
    for (auto* r : async)
      deepest = std::max(deepest, r->in_flight());
    std::vector<const RunFacts*> deep; // the deepest quarter of the async depths offered
    for (auto* r : async)
      if (r->in_flight() * 4 >= deepest and deepest > 1)
        deep.push_back(r);
    std::optional<double> submit, kick, complete, wakeup;
    std::vector<double> v;
    if (not deep.empty()) {
      v.clear();
      for (auto* r : deep)
        v.push_back(r->slat_mean_s);
      submit          = median(v);
      p["submit_cpu"] = param(
          *submit, "slat mean at the deepest async runs (in flight " + std::to_string(deepest) + ")", names(deep));
      v.clear();
      for (auto* r : deep)
        if (r->cpu_per_io_s > 0)
          v.push_back(std::max(0.0, r->cpu_per_io_s - r->slat_mean_s));
      if (not v.empty()) {
        complete          = median(v);
        p["complete_cpu"] = param(*complete, "cpu_per_io - slat at the deepest async runs", names(deep));
      }
    }
    if (not qd1_async.empty()) {
      v.clear();
      for (auto* r : qd1_async)
        v.push_back(r->slat_mean_s);
      double slat1 = median(v);
      if (submit) {
        kick          = std::max(0.0, slat1 - *submit);
        p["kick_cpu"] = param(*kick, "slat at iodepth 1 (async) - submit_cpu", names(qd1_async));
      } else {
        // No deeper run: the part of the iodepth-1 slat that depth removes (the kick) cannot be measured; the
        // submission keeps the model's default and the kick takes the rest.
        submit = std::min(slat1, FioJobParams{}.submit_cpu_s);
        kick   = slat1 - *submit;
        p["submit_cpu"] =
            param(*submit, "no deeper async run: job.fio's default (capped by the iodepth-1 slat)", names(qd1_async));
        p["kick_cpu"] = param(*kick, "slat at iodepth 1 - submit_cpu (the default: no deeper run)", names(qd1_async));
        not_fitted.push_back(dir + ".submit_cpu: needs an async run deeper than iodepth 1 (the default is used, the "
                                   "rest of the iodepth-1 slat is taken as the kick)");
      }
    }
    if (not qd1.empty()) {
      v.clear();
      for (auto* r : qd1)
        if (r->cpu_per_io_s > 0)
          v.push_back(std::max(0.0, r->cpu_per_io_s -
                                        (r->sync_engine ? submit.value_or(0) + kick.value_or(0) : r->slat_mean_s)));
      if (not v.empty()) {
        double side = median(v);
        if (not complete) {
          // No deep run: reaping keeps the model's default, the wake-up (which depth removes) takes the rest.
          complete          = std::min(side, FioJobParams{}.complete_cpu_s);
          wakeup            = side - *complete;
          p["complete_cpu"] = param(*complete,
                                    "no deep run: job.fio's default (capped by cpu_per_io - slat at "
                                    "iodepth 1)",
                                    names(qd1));
          p["wakeup_cpu"]   = param(*wakeup, "cpu_per_io - slat - complete_cpu (the default) at iodepth 1", names(qd1));
          not_fitted.push_back(dir + ".complete_cpu: needs a deep async run (the default is used, the rest of the "
                                     "iodepth-1 CPU is taken as the wake-up)");
        } else {
          wakeup          = std::max(0.0, side - *complete);
          p["wakeup_cpu"] = param(*wakeup, "cpu_per_io - slat - complete_cpu at iodepth 1", names(qd1));
        }
      }
    }
    if (not submit)
      not_fitted.push_back(dir + ".submit_cpu: no async run (slat) in the traces");
    if (not complete)
      not_fitted.push_back(dir + ".complete_cpu: no usable usr/sys CPU in the traces");

    // Preemption from the iodepth-1 clat tail. A latency more than tail_over_median times the median is one whose
    // completion path lost its CPU. The whole completion path is exposed (the host's threads run it from end to
    // end: the median clat), hit at rate_hz per CPU-second, so tail fraction = rate_hz x median clat, and each loss
    // adds (latency - median). The first direction fits the
    // host's rate and durations (reads when there are any); the other keeps in its own service the part of its tail
    // that this rate does not explain (writes: the device's own, heavier tail).
    std::vector<const RunFacts*> src = qd1_async.empty() ? qd1 : qd1_async;
    std::map<std::int64_t, std::uint64_t> bins;
    for (auto* r : src)
      for (auto& [b, c] : r->clat_bins_ns)
        bins[b] += c;
    double tail_keep    = 1; // the share of the tail bins left in the service distribution
    double tail_from_ns = 0;
    if (not bins.empty()) {
      double p50          = bins_percentile_s(bins, 50);
      tail_from_ns        = tail_over_median * p50 * 1e9;
      double exposure     = p50;
      std::uint64_t total = 0, tail = 0;
      std::map<double, double> lost;
      for (auto& [b, c] : bins) {
        total += c;
        if (static_cast<double>(b) > tail_from_ns) {
          tail += c;
          lost[std::round((static_cast<double>(b) * 1e-9 - p50) * 1e5) / 1e5] += static_cast<double>(c);
        }
      }
      double p_tail   = static_cast<double>(tail) / static_cast<double>(total);
      bool first_tail = not preempt_rate_hz and tail >= 10; // this direction fits the host's preemption
      if (first_tail and p_tail > max_preempted_share) {
        p["tail_not_preemption"] = "more than " + std::to_string(static_cast<int>(max_preempted_share * 100)) +
                                   " % of the iodepth-1 latencies are in the tail: not rare losses of the CPU, kept "
                                   "in the service";
      } else if (first_tail) {
        preempt_rate_hz    = p_tail / exposure;
        EmpiricalUs lost_d = empirical_us(lost);
        preempt_mean_s     = lost_d.mean_s;
        preemption         = {
                    {"rate_hz", *preempt_rate_hz},
                    {"duration", {{"dist", "empirical"}, {"values_us", lost_d.values}, {"counts", lost_d.counts}}},
                    {"duration_mean_us", preempt_mean_s * 1e6},
                    {"tail_fraction", p_tail},
                    {"tail_above_us", tail_from_ns * 1e-3},
                    {"exposure_us", exposure * 1e6},
                    {"direction", dir},
                    {"estimated", "iodepth-1 clat above " + std::to_string(static_cast<int>(tail_over_median)) +
                                      "x the median: rate = tail fraction / the median clat (the time a completion is "
                                              "exposed), duration = latency - median (empirical)"},
                    {"from", names(src)}};
        tail_keep = 0;
      } else if (preempt_rate_hz and p_tail > 0) {
        tail_keep = std::max(0.0, 1.0 - *preempt_rate_hz * exposure / p_tail);
      }
      p["tail"] = {{"fraction", p_tail}, {"above_us", tail_from_ns * 1e-3}, {"kept_in_service", tail_keep}};
    }

    // Saturation: the highest IOPS of the deepest quarter of the depths offered.
    int max_inflight = 0;
    for (auto* r : d)
      max_inflight = std::max(max_inflight, r->in_flight());
    std::optional<double> xsat;
    std::vector<const RunFacts*> sat;
    if (max_inflight >= 8) {
      for (auto* r : d)
        if (r->in_flight() * 4 >= max_inflight) {
          sat.push_back(r);
          xsat = std::max(xsat.value_or(0), r->iops);
        }
    }
    // The bottleneck at saturation. Either the one thread that serves the virtqueue (QEMU's IOThread, Firecracker's
    // VMM thread: per request virtio_blk_handle_request, the iocb and virtqueue_push), and then X_sat = 1 / its time
    // per request and IOPS bend smoothly, X(N) = N / (R1 + (N - 1) / X_sat); or the device's channels, and then
    // IOPS grow as N / R1 until they hit X_sat; or neither, the jobs' own vCPUs (each job at most
    // 1 / (submit_cpu + complete_cpu) IOPS: an emulated guest). The runs in between choose: the shape with the
    // smallest median |IOPS error| over the runs with 2 or more requests in flight.
    std::optional<double> request;
    bool device_bound = false;
    bool vcpu_bound   = false;
    {
      VirtioBlkParams vb;
      QemuIothreadParams it;
      std::vector<double> r1s;
      for (auto* r : qd1)
        r1s.push_back(1.0 / (r->iops / r->numjobs));
      if (xsat and not r1s.empty()) {
        double r1      = median(r1s);
        double job_cpu = submit.value_or(0) + complete.value_or(0);
        std::vector<double> e_thread, e_device, e_vcpu;
        for (auto* r : d) {
          int n = r->in_flight();
          if (n < 2 or r->iops <= 0)
            continue;
          e_thread.push_back((n / (r1 + (n - 1) / *xsat) - r->iops) / r->iops * 100);
          e_device.push_back((std::min(n / r1, *xsat) - r->iops) / r->iops * 100);
          if (job_cpu > 0)
            e_vcpu.push_back((std::min(n / r1, r->numjobs / job_cpu) - r->iops) / r->iops * 100);
        }
        double et = validation::median_abs(e_thread), ed = validation::median_abs(e_device);
        double ev    = e_vcpu.empty() ? 1e300 : validation::median_abs(e_vcpu);
        vcpu_bound   = not e_vcpu.empty() and ev < et and ev < ed;
        device_bound = not vcpu_bound and not e_device.empty() and ed < et;
        json errs    = {{"thread", et}, {"device", ed}};
        if (not e_vcpu.empty())
          errs["vcpus"] = ev;
        p["bottleneck"] = {{"chosen", vcpu_bound     ? "the jobs' vCPUs"
                                      : device_bound ? "device channels"
                                                     : "the virtqueue's thread"},
                           {"median_abs_iops_error_pct", errs},
                           {"estimated", "the IOPS of the runs with 2+ in flight against N / (R1 + (N - 1) / X_sat) "
                                         "(one thread), min(N / R1, X_sat) (a device of X_sat x S channels) and "
                                         "min(N / R1, numjobs / (submit_cpu + complete_cpu)) (the jobs' vCPUs)"}};
      }
      if (xsat and not device_bound and not vcpu_bound) {
        // Saturated, the thread also loses rate x mean duration of every CPU-second to preemption.
        double lost      = preempt_rate_hz.value_or(0) * preempt_mean_s;
        request          = std::max(vb.request_cpu_s, 1.0 / (*xsat * (1 + lost)) - it.iocb_cpu_s - vb.used_cpu_s);
        p["request_cpu"] = param(*request,
                                 "1 / (X_sat (1 + preempt_rate x mean preemption)) - iocb_cpu - used_cpu: the "
                                 "virtqueue's thread saturated",
                                 names(sat));
      } else if (not xsat) {
        not_fitted.push_back(dir + ".request_cpu: needs a run with >= 8 requests in flight (the IOThread's cost "
                                   "per request is then the model's default)");
      }
    }

    // Service time distribution from the iodepth-1 clat bins (their tail, less what preemption explains).
    double shift = fixed + complete.value_or(0) + wakeup.value_or(0);
    if (request)
      shift += *request - VirtioBlkParams{}.request_cpu_s;
    if (not src.empty() and src.front()->sync_engine)
      shift += submit.value_or(0) + kick.value_or(0);
    std::optional<double> service_mean;
    if (not bins.empty()) {
      std::map<double, double> atoms;
      for (auto& [b, c] : bins) {
        double s = std::max(1e-6, static_cast<double>(b) * 1e-9 - shift);
        double w = static_cast<double>(c) * (static_cast<double>(b) > tail_from_ns ? tail_keep : 1.0);
        if (w > 0)
          atoms[std::round(s * 1e7) / 1e7] += w;
      }
      EmpiricalUs e = empirical_us(atoms);
      service_mean  = e.mean_s;
      p["service"]  = {{"value", {{"dist", "empirical"}, {"values_us", e.values}, {"counts", e.counts}}},
                       {"mean_us", *service_mean * 1e6},
                       {"shift_us", shift * 1e6},
                       {"estimated", "iodepth-1 clat bins (merged) minus the model's fixed completion path; the tail "
                                      "that preemption explains is left out"},
                       {"from", names(src)}};
    } else if (not src.empty()) {
      v.clear();
      for (auto* r : src)
        v.push_back(std::max(1e-6, r->clat_mean_s - shift));
      service_mean = median(v);
      p["service"] = {{"value", {{"dist", "exponential"}, {"mean", us(*service_mean)}}},
                      {"mean_us", *service_mean * 1e6},
                      {"shift_us", shift * 1e6},
                      {"estimated", "iodepth-1 clat mean minus the fixed path (no json+ bins: exponential)"},
                      {"from", names(src)}};
    } else if (not d.empty()) {
      // No iodepth-1 run: the clat of the shallowest run bounds the service from above (queueing included).
      const RunFacts* lightest = d.front();
      for (auto* r : d)
        if (r->in_flight() < lightest->in_flight())
          lightest = r;
      service_mean = std::max(1e-6, lightest->clat_mean_s - shift);
      p["service"] = {{"value", {{"dist", "exponential"}, {"mean", us(*service_mean)}}},
                      {"mean_us", *service_mean * 1e6},
                      {"shift_us", shift * 1e6},
                      {"estimated", "clat mean of the shallowest run minus the fixed path: an upper bound (no "
                                    "iodepth-1 run; its queueing is counted as service)"},
                      {"from", names({lightest})}};
      not_fitted.push_back(dir + ".service: no iodepth-1 run: the shallowest run's clat stands for it (an upper "
                                 "bound)");
    }

    // Little's law at saturation: MVA's servers, and the device's channels when the device is the bottleneck.
    std::optional<long long> mva_channels;
    if (xsat and service_mean)
      mva_channels = static_cast<long long>(std::max(1.0, std::round(*xsat * *service_mean)));
    if (device_bound and mva_channels)
      p["channels"] = {{"value", *mva_channels},
                       {"x_sat_iops", *xsat},
                       {"estimated", "round(X_sat x mean service): the device's channels are the bottleneck"},
                       {"from", names(sat)}};
    // Baselines.
    if (not qd1.empty()) {
      v.clear();
      for (auto* r : qd1)
        v.push_back(1.0 / (r->iops / r->numjobs));
      double r1 = median(v);
      json b    = {{"r1_us", r1 * 1e6}};
      if (service_mean) {
        b["service_us"] = *service_mean * 1e6;
        b["think_us"]   = std::max(0.0, r1 - *service_mean) * 1e6;
      }
      if (mva_channels)
        b["channels"] = *mva_channels;
      if (xsat)
        b["xmax_iops"] = *xsat;
      v.clear();
      for (auto* r : qd1)
        v.push_back(r->clat_mean_s);
      b["clat1_us"]  = median(v) * 1e6;
      baselines[dir] = b;
    } else {
      not_fitted.push_back(dir + ".baselines: need an iodepth-1 run");
    }
    params[dir] = p;
  }
  doc["parameters"] = params;
  doc["baselines"]  = baselines;

  // The scenario fragment: the device and the CPU costs (the read side's, the write side's when reads are absent).
  const json& main = params.contains("read") ? params["read"] : params["write"];
  auto cost        = [&](const char* key) -> std::optional<std::string> {
    if (main.contains(key))
      return us(main[key]["value_us"].get<double>() * 1e-6);
    return std::nullopt;
  };
  json dev = {{"type", "device.parallel"}, {"channels", doc["guest"]["tags"]}};
  if (main.contains("channels"))
    dev["channels"] = main["channels"]["value"];
  for (const std::string dir : {"read", "write"})
    if (params.contains(dir) and params[dir].contains("service"))
      dev[dir + "_service"] = params[dir]["service"]["value"];
  if (not dev.contains("read_service") and dev.contains("write_service"))
    dev["read_service"] = dev["write_service"];
  json fio = {{"type", "job.fio"}};
  if (auto c = cost("submit_cpu"))
    fio["submit_cpu"] = *c;
  if (auto c = cost("complete_cpu"))
    fio["complete_cpu"] = *c;
  if (auto c = cost("wakeup_cpu"))
    fio["wakeup_cpu"] = *c;
  json vda = {{"type", "virtio.blk"}};
  if (auto c = cost("request_cpu"))
    vda["request_cpu"] = *c;
  if (auto c = cost("kick_cpu"))
    vda["kick_cpu"] = *c;
  if (auto c = cost("wakeup_cpu")) // kblockd's kworker waking to run a restarted queue: this guest's wake-up cost
    vda["restart_cpu"] = *c;
  json frag = {{"fio", fio}, {"vda", vda}, {"disk", dev}};
  if (preempt_rate_hz) {
    doc["preemption"] = preemption;
    // Every host thread of the stack (the vCPUs, the virtqueue's thread) is preempted alike.
    json cpus             = {{"preempt_rate", std::to_string(*preempt_rate_hz) + "Hz"},
                             {"preempt_duration", preemption["duration"]}};
    frag["host"]          = cpus;
    frag["iothread_cpus"] = cpus;
  } else {
    not_fitted.push_back("preemption: no rare iodepth-1 latency tail (10 or more latencies above " +
                         std::to_string(static_cast<int>(tail_over_median)) + "x the median, at most " +
                         std::to_string(static_cast<int>(max_preempted_share * 100)) + " % of them)");
  }
  doc["not_fitted"]        = not_fitted; // after the preemption's note (it was copied before, and lost)
  doc["scenario_fragment"] = {{"components", frag}};
  return doc;
}

json read_device_file(const std::string& path)
{
  json doc = read_json_file(path);
  if (not doc.is_object() or not doc.contains("format") or doc["format"] != device_format)
    throw InputError(path, "/format",
                     std::string("expected \"") + device_format + "\" (a file written by pvsim calibrate)");
  if (not doc.contains("version") or not doc["version"].is_number_integer() or doc["version"] != device_format_version)
    throw InputError(path, "/version", "expected version " + std::to_string(device_format_version));
  for (const char* key : {"guest", "scenario_fragment", "parameters"})
    if (not doc.contains(key) or not doc[key].is_object())
      throw InputError(path, std::string("/") + key, "missing or not an object");
  for (const char* key : {"vcpus", "hw_queues", "tags"})
    if (not doc["guest"].contains(key) or not doc["guest"][key].is_number_integer() or doc["guest"][key] < 1)
      throw InputError(path, std::string("/guest/") + key, "expected a positive integer");
  if (not doc["scenario_fragment"].contains("components") or not doc["scenario_fragment"]["components"].is_object())
    throw InputError(path, "/scenario_fragment/components", "missing or not an object");
  return doc;
}

json scenario_for_run(const json& device, const RunFacts& run, double duration_s, double warmup_s, std::uint64_t seed)
{
  const json& g        = device["guest"];
  long long vcpus      = g["vcpus"].get<long long>();
  long long queues     = g["hw_queues"].get<long long>();
  long long tags       = g["tags"].get<long long>();
  json comps           = device["scenario_fragment"]["components"];
  json fio             = comps.value("fio", json::object());
  fio["type"]          = "job.fio";
  fio["vm"]            = "guest";
  fio["target"]        = "blkmq";
  fio["iodepth"]       = run.iodepth;
  fio["numjobs"]       = run.numjobs;
  fio["rw"]            = run.rw;
  fio["bs"]            = std::to_string(run.bs) + "B";
  json vda             = comps.value("vda", json::object());
  vda["type"]          = "virtio.blk";
  vda["vm"]            = "guest";
  vda["target"]        = "disk";
  vda["iothread"]      = "iot";
  vda["num_queues"]    = queues;
  vda["queue_size"]    = 2 * tags; // no indirect descriptors: blk-mq's depth is half the virtqueue
  vda["indirect_desc"] = false;
  json disk            = comps.value("disk", json::object());
  disk["type"]         = "device.parallel";
  json host            = comps.value("host", json::object());
  host["type"]         = "cpu.host";
  host["cores"]        = vcpus;
  json iot_cpus        = comps.value("iothread_cpus", json::object());
  iot_cpus["type"]     = "cpu.host";
  iot_cpus["cores"]    = 1;
  json doc             = {{"name", "validate-" + run.file.substr(run.file.find_last_of('/') + 1)},
                          {"description", "pvsim validate: the calibrated virtio-blk stack running " + run.rw + " " + run.engine +
                                              " iodepth " + std::to_string(run.iodepth) + " numjobs " +
                                              std::to_string(run.numjobs)},
                          {"seed", seed},
                          {"duration", us(duration_s)},
                          {"warmup", us(warmup_s)},
                          {"components",
                           {{"host", host},
                            {"iothread_cpus", iot_cpus},
                            {"guest", {{"type", "guest.vm"}, {"vcpus", vcpus}, {"pcpus", "host"}}},
                            {"fio", fio},
                            {"blkmq", {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "vda"}, {"queue_depth", tags}}},
                            {"vda", vda},
                            {"iot", {{"type", "qemu.iothread"}, {"cpus", "iothread_cpus"}, {"aio", "native"}}},
                            {"disk", disk}}}};
  return doc;
}

} // namespace pvsim::calibration
