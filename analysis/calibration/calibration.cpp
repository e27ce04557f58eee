/* pvsim: `pvsim calibrate` (see calibration.hpp for how each parameter is estimated; direction_fit.hpp for the
 * steps of one direction's fit). */
#include "analysis/calibration/calibration.hpp"

#include "analysis/calibration/direction_fit.hpp"
#include "analysis/calibration/guest_load.hpp"
#include "analysis/calibration/validation.hpp"
#include "analysis/calibration/vcpu_wake.hpp"
#include "analysis/calibration/vmm_detect.hpp"
#include "analysis/runner/process_runs.hpp"
#include "models/firecracker/firecracker_vmm.hpp"
#include "sim/input_error.hpp"
#include "sim/scenario.hpp"
#include "sim/units.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

namespace pvsim::calibration {

namespace {

constexpr int device_format_version = 1;
constexpr const char* device_format = "pvsim-device-calibration";

void refine_vmm_cost(json& doc, const std::vector<RunFacts>& runs,
                     const std::function<const json&(double sync_io_s)>& service_for);
/** scenario_fragment.write: what a write-only run takes from the writes' own fit instead of the reads'. */
json write_overrides(const json& read, const json& write, bool firecracker);

struct StackChoice {
  bool firecracker = false;
  json why         = json::array();
};

/** Which VMM the traces came from (vmm_detect.hpp: the guest description beside them); the first trace that has one
 * decides. Firecracker gets its stack; QEMU, Xen (whose own stack `validate --bundle` builds) and unknown get QEMU's
 * virtio-blk stack, which is what calibrate fits for them. */
StackChoice choose_stack(const std::vector<std::string>& traces)
{
  StackChoice c;
  for (const auto& t : traces) {
    VmmGuess g = detect_vmm_at(t);
    if (g.vmm == "unknown" and g.evidence.empty())
      continue;
    c.firecracker = g.vmm == "firecracker";
    c.why.push_back(g.summary);
    for (const auto& e : g.evidence)
      if (e.weight > 0)
        c.why.push_back(e.fact + " (" + e.source + ")");
    if (not c.firecracker)
      c.why.push_back(g.vmm == "xen"
                          ? "a Xen guest: calibrate fits the virtio-blk stack; validate --bundle builds the Xen "
                            "one"
                          : "QEMU's virtio-blk stack");
    c.why.push_back("chosen: " + std::string(c.firecracker ? "firecracker.vmm" : "qemu.iothread") +
                    " serves the virtqueue");
    return c;
  }
  c.why.push_back("no guest description (device.txt, guest-info.txt) beside the traces: QEMU's stack, the default");
  return c;
}

/** The I/O scheduler the traced guest ran (its description's block device), and the one the calibrated stack
 * simulates: none. pvsim models mq-deadline (blk_mq `scheduler`), but on these traces it moves the deep runs away from
 * the measurements (README "I/O schedulers"), so the stack keeps none and says so. */
json scheduler_choice(const std::vector<std::string>& traces)
{
  json out = {{"simulated", "none"}};
  for (const auto& t : traces) {
    auto file = readers::guest_facts_file_for(t);
    if (not file)
      continue;
    try {
      auto facts = readers::read_guest_facts(*file);
      if (const auto* dev = facts.main_device(); dev != nullptr and not dev->scheduler.empty()) {
        out["guest"] = dev->scheduler;
        if (dev->nr_requests)
          out["guest_nr_requests"] = *dev->nr_requests;
        out["source"] = *file;
      }
    } catch (const InputError&) {
      continue; // detection reports a bad description; here it only names the scheduler
    }
    break;
  }
  out["why"] = out.contains("guest") and out["guest"] != "none"
                   ? "the guest ran " + out["guest"].get<std::string>() +
                         "; the stack simulates none, which predicts these traces' deep runs better (README \"I/O "
                         "schedulers\"): set components.blkmq.scheduler to compare"
                   : "none, as the guest ran (or no guest description says)";
  return out;
}

} // namespace

std::string fio_loop_of(const json& device)
{
  static const json::json_pointer loop("/scenario_fragment/components/fio/loop");
  return device.contains(loop) ? device[loop].get<std::string>() : std::string("batched");
}

json calibrate(const std::vector<std::string>& trace_files, const std::string& stack_choice,
               const std::string& fio_loop)
{
  if (trace_files.empty())
    throw InputError("", "--trace", "no trace given (expected one or more fio json+ result files)");
  if (fio_loop != "batched" and fio_loop != "fio")
    throw InputError("", "--fio-loop", "expected batched or fio, got \"" + fio_loop + "\"");
  std::vector<RunFacts> runs;
  for (const auto& file : trace_files)
    for (auto& f : run_facts(readers::read_fio_json(file)))
      runs.push_back(std::move(f));
  const auto load = validation::guest_load_of(trace_files); // the guest's other processes, where recorded
  for (auto& r : runs)
    r.foreign_cpus = validation::guest_load_for(load, r.file);

  json doc;
  doc["format"]  = device_format;
  doc["version"] = device_format_version;
  doc["comment"] =
      "Fitted by `pvsim calibrate` from fio json+ results. Per direction: cpu_per_io = (usr_cpu + sys_cpu)/100 x "
      "job_runtime / ios; submit_cpu = slat mean of the deepest async run; kick_cpu = slat at iodepth 1 - "
      "submit_cpu (on Firecracker both then split again by the share f of the deep run's submissions that kick in the "
      "model: kick = (slat1 - slat_deep) / (1 - f)); complete_cpu = cpu_per_io - slat at the deepest async run; "
      "wakeup_cpu = "
      "cpu_per_io - slat - complete_cpu at iodepth 1 (fio's thread asleep for every I/O); service = iodepth-1 clat "
      "bins shifted down by the model's fixed completion "
      "path (empirical); request_cpu (the virtqueue's thread) = 1/X_sat - iocb_cpu - used_cpu (that thread "
      "saturated at the deepest runs, less the share preemption takes; X_sat the saturated configuration's mean IOPS "
      "over its repeats); preemption = the iodepth-1 clat above 10x the "
      "median (rate = their share / median clat per CPU-second, durations = latency - median); the device gets as "
      "many channels as tags. Baselines: R1 = 1/(IOPS per thread "
      "at iodepth 1), Z = R1 - S, c = round(Xmax x S), Xmax = the best saturated run's IOPS. The guest is assumed, not "
      "fitted: edit 'guest' for another machine.";
  doc["sources"]  = trace_files;
  doc["guest"]    = {{"vcpus", 2}, {"hw_queues", 1}, {"tags", 128}, {"estimated", "assumed (not in fio's output)"}};
  json not_fitted = json::array();
  json params     = json::object();
  json baselines  = json::object();

  // Which stack: the VMM the traces came from, from the guest's description beside them.
  StackChoice choice;
  if (stack_choice == "auto") {
    choice = choose_stack(trace_files);
  } else if (stack_choice == "qemu" or stack_choice == "firecracker") {
    choice.firecracker = stack_choice == "firecracker";
    choice.why.push_back("chosen by the caller (--stack " + stack_choice + ")");
  } else {
    throw InputError("", "--stack", "expected auto, qemu or firecracker, got '" + stack_choice + "'");
  }
  doc["stack"]        = {{"vmm", choice.firecracker ? "firecracker" : "qemu"},
                         {"why", choice.why},
                         {"scheduler", scheduler_choice(trace_files)}};
  detail::Stack stack = choice.firecracker ? detail::Stack::firecracker : detail::Stack::qemu;

  detail::HostPreemption preemption;
  detail::GuestPreemption guest_load;
  std::optional<detail::DirectionFit::DeepCosts> read_deep; // the reads' guest costs at depth (for writes without)
  std::optional<detail::DirectionFit> read_fit, write_fit;  // the reads' is asked again by refine_vmm_cost
  for (const std::string dir : {"read", "write"}) {
    std::vector<const RunFacts*> d;
    for (const auto& r : runs)
      if (r.direction == dir)
        d.push_back(&r);
    if (d.empty()) {
      not_fitted.push_back(dir + ": no run with " + dir + "s");
      continue;
    }
    detail::DirectionFit& fit = (dir == "read" ? read_fit : write_fit).emplace(dir, std::move(d), not_fitted, stack);
    if (dir == "write" and read_deep)
      fit.take_deep_costs_of("read", *read_deep);
    fit.fit_cpu_costs();
    if (dir == "read")
      read_deep = fit.deep_costs();
    fit.fit_preemption(preemption, guest_load);
    fit.fit_bottleneck(preemption);
    fit.fit_service();
    fit.fit_vmm();
    fit.fit_channels_and_baselines(baselines);
    params[dir] = fit.params();
  }
  doc["parameters"] = params;
  doc["baselines"]  = baselines;

  // The scenario fragment: the device and the CPU costs (the read side's, the write side's when reads are absent).
  const json& main = params.contains("read") ? params["read"] : params["write"];
  auto cost        = [&](const char* key) -> std::optional<std::string> {
    if (main.contains(key))
      return detail::us(main[key]["value_us"].get<double>() * 1e-6);
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
  if (fio_loop != "batched")
    fio["loop"] = fio_loop;
  json vda = {{"type", "virtio.blk"}};
  if (auto c = cost("request_cpu"))
    vda["request_cpu"] = *c;
  if (auto c = cost("kick_cpu"))
    vda["kick_cpu"] = *c;
  if (auto c = cost("wakeup_cpu")) // kblockd's kworker waking to run a restarted queue: this guest's wake-up cost
    vda["restart_cpu"] = *c;
  json frag = {{"fio", fio}, {"vda", vda}, {"disk", dev}};
  if (choice.firecracker) {
    // The latency beyond the modelled CPU is the VMM's wake-up; the host's page cache serves every request (the
    // backing device stands for misses only).
    json fc = {{"type", "firecracker.vmm"}};
    if (auto c = cost("sync_io_cpu"))
      fc["sync_io_cpu"] = *c;
    if (dev.contains("read_service"))
      fc["wakeup_latency"] = dev["read_service"];
    vda.erase("request_cpu");
    frag["vda"]  = vda;
    frag["fc"]   = fc;
    frag["disk"] = {{"type", "device.parallel"},
                    {"channels", doc["guest"]["tags"]},
                    {"read_service", "100us"},
                    {"write_service", "100us"}};
  }
  if (preemption.rate_hz) {
    doc["preemption"] = preemption.doc;
    // Every host thread of the stack (the vCPUs, the virtqueue's thread) is preempted alike.
    json cpus    = {{"preempt_rate", std::to_string(*preemption.rate_hz) + "Hz"},
                    {"preempt_duration", preemption.doc["duration"]}};
    frag["host"] = cpus;
    frag[choice.firecracker ? "vmm_cpus" : "iothread_cpus"] = cpus;
    if (guest_load.rate_per_cpu_hz) {
      // The guest's other processes: validate gives each run its recorded load (guest.vm background_cpus).
      doc["guest_load"] = guest_load.doc;
      double sum        = 0;
      int n             = 0;
      for (const auto& r : runs)
        if (r.foreign_cpus) {
          sum += *r.foreign_cpus;
          ++n;
        }
      // A run that does not record its load is given the calibration runs' mean (the expectation, not a quiet guest).
      doc["guest_load"]["unrecorded_run_cpus"] = sum / n;
      json g = {{"background_preempt_rate", std::to_string(*guest_load.rate_per_cpu_hz) + "Hz"}};
      if (not guest_load.duration.is_null())
        g["background_preempt_duration"] = guest_load.duration;
      frag["guest"] = g;
    }
  } else {
    not_fitted.push_back("preemption: no rare iodepth-1 latency tail (10 or more latencies above " +
                         std::to_string(static_cast<int>(detail::tail_over_median)) + "x the median, at most " +
                         std::to_string(static_cast<int>(detail::max_preempted_share * 100)) + " % of them)");
  }
  // The machine's vCPU wake-up latencies, when its capture measured them: guest.vm's idle vCPUs (README "Idle vCPUs").
  if (auto wake = vcpu_wake_beside(trace_files)) {
    json& g                = frag["guest"];
    g["halt_wake_latency"] = std::to_string(wake->halt_wake_latency_s * 1e6) + "us";
    g["busy_kick_latency"] = std::to_string(wake->busy_kick_latency_s * 1e6) + "us";
    doc["vcpu_wake"]       = {{"file", wake->file},
                              {"halt_wake_latency_us", wake->halt_wake_latency_s * 1e6},
                              {"busy_kick_latency_us", wake->busy_kick_latency_s * 1e6},
                              {"poll_window_us", wake->poll_window_us},
                              {"used_as", "guest.vm halt_wake_latency and busy_kick_latency (measured, not fitted)"}};
  } // else guest.vm's latencies stay 0: an idle vCPU wakes as if polled (the calibrated costs hold the polled wake-up)
  doc["not_fitted"]        = not_fitted; // after the preemption's note (it was copied before, and lost)
  doc["scenario_fragment"] = {{"components", frag}};
  if (choice.firecracker and read_fit)
    refine_vmm_cost(doc, runs,
                    [&](double sync_io_s) -> const json& { return read_fit->refit_service_for_sync_io(sync_io_s); });
  // After the refinement: a write's extra host time is measured against the reads' final path.
  if (doc["parameters"].contains("read") and doc["parameters"].contains("write"))
    doc["scenario_fragment"]["write"] =
        write_overrides(doc["parameters"]["read"], doc["parameters"]["write"], choice.firecracker);
  return doc;
}

namespace {

/** The excess over a threshold c, max(0, X - c), of an empirical service distribution X (device.json's form, us), c
 * chosen so that the excess's mean plus `each_us` for every positive excess is `mean_us` (bisection: that sum falls
 * from X's mean + each_us at c = 0 to 0): the upper tail kept as it is, the body cut. A deterministic
 * `mean_us - each_us` for another form. */
json excess_with_mean(const json& dist, double mean_us, double each_us)
{
  if (dist.value("dist", "") != "empirical")
    return detail::us(std::max(0.0, mean_us - each_us) * 1e-6);
  const json& values = dist["values_us"];
  const json& counts = dist["counts"];
  double total = 0, hi = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    total += counts[i].get<double>();
    hi = std::max(hi, values[i].get<double>());
  }
  auto excess_mean = [&](double c) {
    double sum = 0;
    for (std::size_t i = 0; i < values.size(); ++i)
      if (double x = values[i].get<double>(); x > c)
        sum += counts[i].get<double>() * (x - c + each_us);
    return sum / total;
  };
  double lo = 0;
  for (int k = 0; k < 60; ++k) {
    double mid                             = (lo + hi) / 2;
    (excess_mean(mid) > mean_us ? lo : hi) = mid;
  }
  double c = (lo + hi) / 2;
  std::map<double, double> atoms{{0.0, 0.0}}; // seconds -> weight; the cut body at 0
  for (std::size_t i = 0; i < values.size(); ++i)
    atoms[std::max(0.0, values[i].get<double>() - c) * 1e-6] += counts[i].get<double>();
  detail::EmpiricalUs e = detail::empirical_us(atoms);
  return {{"dist", "empirical"}, {"values_us", e.values}, {"counts", e.counts}};
}

json write_overrides(const json& read, const json& write, bool firecracker)
{
  // The fragment holds the reads' costs; a write-only run takes what its own direction's fit measured: the guest's
  // CPU per request (a write's submission, kick, completion and wake-up, fitted or, without a deep write run, the
  // reads' at depth) and, on Firecracker, the host's time. The VMM thread's CPU per request stays the reads' (refined
  // on their saturated runs): the writes' closed form assumes that thread bounds the deepest write runs.
  json over = json::object();
  auto cost = [&](const char* key, const char* component, const char* as) {
    if (write.contains(key))
      over[component][as] = detail::us(write[key]["value_us"].get<double>() * 1e-6);
  };
  cost("submit_cpu", "fio", "submit_cpu");
  cost("complete_cpu", "fio", "complete_cpu");
  cost("wakeup_cpu", "fio", "wakeup_cpu");
  cost("kick_cpu", "vda", "kick_cpu");
  std::string what = "write-only runs take the writes' guest CPU costs";
  // The host's time only from an iodepth-1 write run: without one it is the shallowest run's clat, queueing included.
  bool iodepth1 = false;
  for (const auto& r : write.value("runs", json::array()))
    iodepth1 = iodepth1 or r.value("in_flight", 0) == 1;
  if (not firecracker or not iodepth1 or not write.contains("service"))
    return {{"components", over}, {"summary", what + (firecracker ? "" : " (their service is disk.write_service)")}};
  // Firecracker's Sync engine does the write on the VMM thread (block/virtio/io/sync_io.rs SyncFileEngine::write:
  // seek, write_all_volatile into the host's page cache, the file opened without O_DIRECT, as firecracker.vmm
  // follows; later main also writes 4 KiB-aligned requests through a second O_DIRECT file when it has one
  // (io/mod.rs direct_io_eligible), still on the thread). The reads' service is the thread's
  // wake-up latency, the same event for a write's kick; what a write's takes beyond it is the write syscall's own time
  // (page-cache dirtying and its throttling, waits on pages under writeback or on the host's journal), and the thread
  // is in it, serving nothing else: firecracker.vmm's sync_write_wait, whose upper tail is the writes' and whose
  // mean, with the thread's wake-up from the syscall for each write that sleeps, is the writes' host path at iodepth 1
  // less the reads' as the model runs them (each direction's service plus the VMM thread's I/O CPU it was fitted
  // with: the writes' own or the source's, the reads' refined one), so that at depth it bounds the writes'
  // throughput. A write no slower than a read keeps its own service as the wake-up latency.
  const double default_io_us = FirecrackerVmm::param_table().defaults().sync_io_cpu_s * 1e6;
  auto io_us                 = [&](const json& dir) {
    return dir.contains("sync_io_cpu") ? dir["sync_io_cpu"].value("value_us", default_io_us) : default_io_us;
  };
  double read_mean  = (read.contains("service") ? read["service"].value("mean_us", 0.0) : 0.0) + io_us(read);
  double write_mean = write["service"].value("mean_us", 0.0) + io_us(write);
  double wake_us    = FirecrackerVmm::param_table().defaults().wakeup_cpu_s * 1e6;
  if (write_mean <= read_mean) {
    over["fc"]["wakeup_latency"] = write["service"]["value"];
    return {{"components", over},
            {"summary", what + " and their own host latency (the VMM's wake-up: no slower than the reads')"}};
  }
  double extra                  = write_mean - read_mean;
  over["fc"]["sync_write_wait"] = excess_with_mean(write["service"]["value"], extra, wake_us);
  return {
      {"components", over},
      {"summary",
       what + format_number("; a write's syscall holds the VMM thread (Sync engine) %.3g us", extra) +
           " longer than a read's on average, sleeping (fc.sync_write_wait, the writes' upper tail)" +
           format_number(" and waking up (wakeup_cpu %.3g us)", wake_us) +
           format_number(": the writes' host path at iodepth 1 (service and the VMM's I/O CPU), %.3g us,", write_mean) +
           format_number(" less the reads', %.3g us", read_mean)}};
}

/** The pvsim binary that can run a scenario: the one the CLI's main() named (set_simulator_exe), else none (a test
 * binary calling calibrate in-process cannot run a scenario). */
std::string& simulator_exe()
{
  static std::string path; // set once by the CLI's main(), before any calibration
  return path;
}

void refine_vmm_cost(json& doc, const std::vector<RunFacts>& runs,
                     const std::function<const json&(double sync_io_s)>& service_for)
{
  // Two things the closed forms of DirectionFit cannot tell are read off the model itself, simulating the saturated
  // run a few times:
  // - The VMM's CPU per request. DirectionFit::fit_vmm() takes the guest's and the VMM's turns as strictly
  //   alternating; in the model they overlap in part (the job submits on one vCPU while the interrupt runs on the
  //   other, passes split). So sync_io_cpu moves by the difference of the measured and simulated time per request
  //   (1/X). Not when the jobs' vCPUs bound that run: its IOPS then do not measure the VMM (fit_vmm() says so).
  // - How much of the deep runs' slat is kicks. submit_cpu is the deep runs' slat, as if depth suppressed every
  //   kick; but a kick is due whenever the VMM has found the ring empty and re-armed avail_event, and a VMM faster
  //   than the guest does so often. With f the share of submissions that kick in the simulated run, the measured
  //   slats are slat1 = submit + q + kick (iodepth 1: every submission kicks; q the driver's queue_rq) and
  //   slat_deep = submit + q + f x kick, so kick = (slat1 - slat_deep) / (1 - f) and submit = slat1 - q - kick. Where
  //   kicks are expensive (a PVM guest: 9 us) and frequent, leaving them in submit_cpu charges them twice.
  json& read = doc["parameters"]["read"];
  if (not read.contains("sync_io_cpu"))
    return;
  std::string exe = simulator_exe();
  if (exe.empty()) {
    read["sync_io_cpu"]["refined"] = "no: not run from the pvsim binary (the closed form stands)";
    return;
  }
  bool refine_io   = not read["sync_io_cpu"].contains("refined");
  bool split_kicks = read.contains("kick_cpu") and read["kick_cpu"].contains("slat_deep_us");
  if (not refine_io and not split_kicks)
    return;
  // The saturated configuration's repeats ("from"), simulated as one run with their mean load (of those that
  // recorded it) against their mean IOPS.
  std::vector<const RunFacts*> repeats;
  for (const auto& from : read["sync_io_cpu"]["from"])
    for (const auto& r : runs)
      if (r.direction == "read" and r.file.substr(r.file.find_last_of('/') + 1) == from.get<std::string>())
        repeats.push_back(&r);
  if (repeats.empty())
    return;
  RunFacts saturated = *repeats.front();
  double load = 0, iops = 0;
  int loads = 0;
  for (const RunFacts* r : repeats) {
    iops += r->iops / static_cast<double>(repeats.size());
    if (r->foreign_cpus) {
      load += *r->foreign_cpus;
      ++loads;
    }
  }
  saturated.iops         = iops;
  saturated.foreign_cpus = loads > 0 ? std::optional<double>(load / loads) : std::nullopt;
  const RunFacts* top    = &saturated;
  namespace fs = std::filesystem;
  fs::path dir;
  try {
    dir = make_temp_dir("pvsim-calibrate");
  } catch (const std::runtime_error&) {
    return; // the closed forms stand
  }
  // Fixed-point steps on 1/X: s += 1/X_measured - 1/X_simulated, as if 1/X moved one for one with the VMM thread's
  // time per request s, whatever the jobs (the one thread serves every job's requests; a step scaled by the jobs
  // overshoots and oscillates with two). 1/X is not monotonic in s near the ping-pong's knee and a 0.5 s run is
  // noisy, so no secant: the values kept are the simulated ones nearest the measurement, never an unsimulated step.
  json& comps      = doc["scenario_fragment"]["components"];
  double io_s      = read["sync_io_cpu"]["value_us"].get<double>() * 1e-6;
  double slat1     = split_kicks ? read["kick_cpu"]["slat_iodepth1_us"].get<double>() * 1e-6 : 0;
  double slat_deep = split_kicks ? read["kick_cpu"]["slat_deep_us"].get<double>() * 1e-6 : 0;
  double queue_rq  = split_kicks ? read["kick_cpu"]["queue_rq_cpu_us"].get<double>() * 1e-6 : 0;
  double submit    = read.contains("submit_cpu") ? read["submit_cpu"]["value_us"].get<double>() * 1e-6 : 0;
  double kick      = split_kicks ? read["kick_cpu"]["value_us"].get<double>() * 1e-6 : 0;
  double target    = 1.0 / top->iops;
  json steps       = json::array();
  double best_io = io_s, best_submit = submit, best_kick = kick, best_f = 0, best_err = 1e300, f_in = 0;
  // The iodepth-1 latency left to the VMM's wake-up was fitted with the closed form's sync_io_cpu; each value tried
  // gets it again (their sum stays the measured iodepth-1 path), or the model's iodepth-1 runs would drift by the
  // refinement's step.
  // Returns the service fitted again, or nullptr where none is (no refinement, no latency to refit).
  auto set_io = [&](double s) -> const json* {
    comps["fc"]["sync_io_cpu"] = detail::us(s);
    if (not refine_io or not comps["fc"].contains("wakeup_latency"))
      return nullptr;
    const json& service           = service_for(s);
    comps["fc"]["wakeup_latency"] = service["value"];
    return &service;
  };
  for (int round = 0; round < 5; ++round) {
    set_io(io_s);
    if (split_kicks) {
      comps["fio"]["submit_cpu"] = detail::us(submit);
      comps["vda"]["kick_cpu"]   = detail::us(kick);
    }
    json sc          = scenario_for_run(doc, *top, 0.5, 0.05, 1);
    std::string file = (dir / ("round" + std::to_string(round) + ".json")).string();
    std::string out  = (dir / ("out" + std::to_string(round))).string();
    std::ofstream(file) << sc.dump();
    auto rc = validation::run_simulations(exe, {file}, {out}, 1);
    if (rc.empty() or rc[0] != 0)
      break;
    json res     = read_json_file(out + "/results.json");
    double x     = res["jobs"]["fio"]["iops"].get<double>();
    double kicks = 0, submitted = res["components"]["fio"].value("submitted", 0.0);
    for (const auto& vq : res["components"]["vda"].value("virtqueues", json::array()))
      kicks += vq.value("kicks", 0.0);
    double f  = submitted > 0 ? std::min(0.9, kicks / submitted) : 0;
    json step = {{"simulated_iops", x}, {"sync_io_cpu_us", io_s * 1e6}};
    if (split_kicks)
      step.update({{"submit_cpu_us", submit * 1e6}, {"kick_cpu_us", kick * 1e6}, {"kick_fraction", f}});
    steps.push_back(step);
    if (x <= 0)
      break;
    double y = 1.0 / x - target;
    // Only sync_io_cpu is moved toward the measured IOPS: without it, the last (damped, converging) split is kept.
    if (std::abs(y) < best_err or not refine_io) {
      best_err    = std::abs(y);
      best_io     = io_s;
      best_submit = submit;
      best_kick   = kick;
      best_f      = f;
    }
    if (refine_io)
      io_s = std::clamp(io_s - y, 0.1e-6, 2 * target);
    if (split_kicks) { // damped: f falls as the kick grows (a slower guest finds the VMM busy more often)
      f_in   = round == 0 ? f : (f_in + f) / 2;
      kick   = std::min(slat1 - queue_rq, (slat1 - slat_deep) / (1 - f_in));
      submit = std::max(0.0, slat1 - queue_rq - kick);
    }
  }
  fs::remove_all(dir);
  if (steps.empty())
    return;
  const json* service             = set_io(best_io);
  read["sync_io_cpu"]["value_us"] = best_io * 1e6;
  if (service) {
    json refit      = *service;
    refit["refit"]  = "again after sync_io_cpu's refinement, with its value: the model's iodepth-1 path stays the "
                      "measured one";
    read["service"] = refit;
  }
  std::string how =
      std::string("simulated the saturated configuration (its repeats' mean load) ") + std::to_string(steps.size()) +
      " times against its repeats' mean IOPS" +
      (refine_io ? ", sync_io_cpu += 1/X_measured - 1/X_simulated each time" : "") +
      (split_kicks
           ? ", the deep slat split into submission and kicks by the simulated kick fraction f: "
             "kick = (slat1 - slat_deep) / (1 - f), submit = slat1 - queue_rq_cpu - kick (f damped over the rounds)"
           : "") +
      (refine_io ? "; the simulated values nearest the measured IOPS are kept" : "; the last simulated split is kept");
  json refined = {{"how", how}, {"target_iops", top->iops}, {"rounds", steps}};
  if (refine_io)
    read["sync_io_cpu"]["refined"] = refined;
  if (split_kicks) {
    comps["fio"]["submit_cpu"]                 = detail::us(best_submit);
    comps["vda"]["kick_cpu"]                   = detail::us(best_kick);
    read["submit_cpu"]["value_us"]             = best_submit * 1e6;
    read["kick_cpu"]["value_us"]               = best_kick * 1e6;
    read["kick_cpu"]["kick_fraction_at_depth"] = best_f;
    read["kick_cpu"]["refined"]                = refined;
    read["submit_cpu"]["refined"]              = "with kick_cpu (see there)";
  }
}

} // namespace

void set_simulator_exe(const std::string& path)
{
  simulator_exe() = path;
}

json read_device_file(const std::string& path)
{
  json doc = read_json_file(path, "device file");
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

json components_for(const json& device, const std::string& direction)
{
  json comps = device["scenario_fragment"]["components"];
  if (direction == "write" and device["scenario_fragment"].contains("write"))
    for (const auto& [component, values] : device["scenario_fragment"]["write"]["components"].items())
      for (const auto& [key, value] : values.items())
        comps[component][key] = value;
  return comps;
}

json scenario_for_run(const json& device, const RunFacts& run, double duration_s, double warmup_s, std::uint64_t seed)
{
  const json& g        = device["guest"];
  long long vcpus      = g["vcpus"].get<long long>();
  long long queues     = g["hw_queues"].get<long long>();
  long long tags       = g["tags"].get<long long>();
  json comps           = components_for(device, run.direction);
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
  bool firecracker     = device.contains("stack") and device["stack"].value("vmm", "") == "firecracker";
  json iot_cpus        = comps.value(firecracker ? "vmm_cpus" : "iothread_cpus", json::object());
  iot_cpus["type"]     = "cpu.host";
  iot_cpus["cores"]    = 1;
  // The one thread serving the virtqueue stands for the recording's device thread: Firecracker's VMM thread (an
  // epoll loop, virtio-vm-1q) or QEMU's main loop, neither of which polls (aio_context_new() leaves poll_max_ns at 0);
  // only a QEMU IOThread polls, and a device file may say so with iot.poll_max.
  json iot    = comps.value("iot", json::object());
  iot["type"] = "qemu.iothread";
  iot["cpus"] = "iothread_cpus";
  iot["aio"]  = iot.value("aio", std::string("native"));
  if (not iot.contains("poll_max"))
    iot["poll_max"] = "0s";
  if (firecracker) { // Firecracker's VMM thread serves the virtqueue (queue 256, no indirect descriptors, EVENT_IDX)
    iot         = comps.value("fc", json::object());
    iot["type"] = "firecracker.vmm";
    iot["cpus"] = "vmm_cpus";
    vda.erase("iothread");
    vda["vmm"] = "fc";
  }
  // The guest's CPU per request is fitted from fio's measured CPU, which holds what sleeping for tags cost in the
  // recorded runs: blk_mq's own tag sleep and wake-up costs would count it twice (a device file may set them).
  json blkmq = comps.value("blkmq", json::object());
  blkmq.update({{"type", "blk_mq"}, {"vm", "guest"}, {"target", "vda"}, {"queue_depth", tags}});
  if (not blkmq.contains("scheduler"))
    blkmq["scheduler"] = "none"; // device.json stack.scheduler says why
  if (not blkmq.contains("tag_sleep_cpu"))
    blkmq["tag_sleep_cpu"] = "0us";
  if (not blkmq.contains("tag_wake_cpu"))
    blkmq["tag_wake_cpu"] = "0us";
  // The guest's other processes (calibrated from loaded runs): the run's recorded load, else the calibration's mean.
  json guest = comps.value("guest", json::object());
  guest.update({{"type", "guest.vm"}, {"vcpus", vcpus}, {"pcpus", "host"}});
  if (device.contains("guest_load"))
    guest["background_cpus"] =
        std::min<double>(vcpus, run.foreign_cpus.value_or(device["guest_load"].value("unrecorded_run_cpus", 0.0)));
  json doc = {{"name", "validate-" + run.file.substr(run.file.find_last_of('/') + 1)},
              {"description", "pvsim validate: the calibrated virtio-blk stack running " + run.rw + " " + run.engine +
                                  " iodepth " + std::to_string(run.iodepth) + " numjobs " +
                                  std::to_string(run.numjobs)},
              {"seed", seed},
              {"duration", detail::us(duration_s)},
              {"warmup", detail::us(warmup_s)},
              {"components",
               {{"host", host},
                {firecracker ? "vmm_cpus" : "iothread_cpus", iot_cpus},
                {"guest", guest},
                {"fio", fio},
                {"blkmq", blkmq},
                {"vda", vda},
                {firecracker ? "fc" : "iot", iot},
                {"disk", disk}}}};
  return doc;
}

} // namespace pvsim::calibration
