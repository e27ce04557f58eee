/* pvsim: `pvsim validate` (see validation.hpp). */
#include "analysis/calibration/validation.hpp"

#include "analysis/calibration/accuracy.hpp"
#include "analysis/calibration/analytic.hpp"
#include "analysis/calibration/bundle.hpp"
#include "analysis/calibration/bundle_scenario.hpp"
#include "analysis/calibration/bundle_structure.hpp"
#include "analysis/calibration/calibration.hpp"
#include "analysis/calibration/guest_load.hpp"
#include "analysis/calibration/leave_out_validation.hpp"
#include "analysis/calibration/net_validation.hpp"
#include "analysis/calibration/noise.hpp"
#include "analysis/calibration/requests_per_interrupt.hpp"
#include "analysis/calibration/validation_table.hpp"
#include "analysis/readers/fio_json.hpp"
#include "analysis/runner/process_runs.hpp"
#include "models/virtio/virtio_blk.hpp"
#include "models/workload/fio_job.hpp"
#include "models/xen/blk/xen_blkfront.hpp"
#include "sim/input_error.hpp"
#include "sim/results.hpp"
#include "sim/scenario.hpp"
#include "sim/statistics.hpp"
#include "sim/units.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace fs = std::filesystem;

namespace pvsim::validation {

namespace {

const std::vector<std::string> keys{"iops", "clat_mean_us", "clat_p50_us", "clat_p99_us"};

std::string base_name(const std::string& f)
{
  return fs::path(f).filename().string();
}

double us_of(const json& device, const json& component, const char* key, double fallback_s)
{
  (void)device;
  if (component.contains(key) and component[key].is_string()) {
    std::string s = component[key].get<std::string>();
    if (s.size() > 2 and s.substr(s.size() - 2) == "us")
      return std::stod(s.substr(0, s.size() - 2)) * 1e-6;
  }
  return fallback_s;
}

/** Total kicks over requests added, from the virtio.blk report of a results.json; 1 when absent. */
double kick_share(const json& results)
{
  double kicks = 0, suppressed = 0;
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_object()) {
      if (j.contains("kicks") and j.contains("kicks_suppressed") and j["kicks"].is_number()) {
        kicks += j["kicks"].get<double>();
        suppressed += j["kicks_suppressed"].get<double>();
        return;
      }
      if (j.contains("requests_notified") and j.contains("requests_suppressed")) { // a blkif ring
        kicks += j["requests_notified"].get<double>();
        suppressed += j["requests_suppressed"].get<double>();
        return;
      }
      for (auto& [k, v] : j.items())
        walk(v);
    } else if (j.is_array()) {
      for (auto& v : j)
        walk(v);
    }
  };
  walk(results);
  return kicks + suppressed > 0 ? kicks / (kicks + suppressed) : 1.0;
}

} // namespace

double median_abs(std::vector<double> values)
{
  for (double& v : values)
    v = std::abs(v);
  return median(std::move(values));
}

double error_pct(double predicted, double measured)
{
  return measured != 0 ? (predicted - measured) / measured * 100.0 : 0.0;
}

std::vector<int> run_simulations(const std::string& pvsim_exe, const std::vector<std::string>& scenario_files,
                                 const std::vector<std::string>& out_dirs, int parallel, bool progress)
{
  std::vector<std::vector<std::string>> args;
  for (std::size_t i = 0; i < scenario_files.size(); ++i)
    args.push_back({"run", scenario_files[i], "-o", out_dirs[i], "-q"});
  return run_processes(ProcessRuns{pvsim_exe, parallel, "validate", progress and ::isatty(STDERR_FILENO)}, args);
}

json simulation_results(int status, const std::string& trace, const std::string& scenario, const std::string& outdir,
                        const std::string& device_file)
{
  if (status == 2)
    throw InputError(device_file, "/scenario_fragment",
                     "the scenario built for " + trace + " is rejected (see the message above; kept in " + scenario +
                         ")");
  if (status != 0)
    throw std::runtime_error("the simulation of " + trace + " failed (exit " + std::to_string(status) +
                             "; scenario kept in " + scenario + ")");
  return read_json_file(outdir + "/results.json");
}

json predicted_of(const json& device, const calibration::RunFacts& f, const json& results, bool xen_frontend)
{
  const json& job            = results["jobs"]["fio"];
  const json& lat            = job["latency_us"];
  const json comps           = calibration::components_for(device, f.direction);
  const VirtioBlkParams vdef = VirtioBlk::param_table().defaults();
  double offset_s            = 0;
  if (not f.sync_engine) {
    double submit =
        us_of(device, comps.value("fio", json::object()), "submit_cpu", FioJob::param_table().defaults().submit_cpu_s);
    double kick     = us_of(device, comps.value("vda", json::object()), "kick_cpu", vdef.kick_cpu_s);
    double queue_rq = xen_frontend ? xen::XenBlkfront::param_table().defaults().queue_rq_cpu_s : vdef.queue_rq_cpu_s;
    offset_s        = submit + queue_rq + kick * kick_share(results);
  }
  double off_us = offset_s * 1e6;
  json cdf      = json::array();
  for (auto [k, q] : std::vector<std::pair<std::string, double>>{
           {"min", 0.0}, {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}, {"max", 1.0}})
    if (lat.contains(k))
      cdf.push_back({std::max(0.0, lat[k].get<double>() - off_us), q});
  return {{"iops", job["iops"].get<double>()},
          {"clat_mean_us", std::max(0.0, lat["mean"].get<double>() - off_us)},
          {"clat_p50_us", std::max(0.0, lat["p50"].get<double>() - off_us)},
          {"clat_p99_us", std::max(0.0, lat["p99"].get<double>() - off_us)},
          {"cdf", cdf}};
}

json compare_run(const json& device, const RunConfig& config, const calibration::RunFacts& f, const json& results,
                 bool xen_frontend)
{
  json measured      = {{"iops", f.iops},
                        {"clat_mean_us", f.clat_mean_s * 1e6},
                        {"clat_p50_us", f.clat_p50_s * 1e6},
                        {"clat_p99_us", f.clat_p99_s * 1e6}};
  json predicted     = predicted_of(device, f, results, xen_frontend);
  json cdf_predicted = predicted["cdf"];
  predicted.erase("cdf");
  json error;
  for (const auto& k : keys)
    error[k] = error_pct(predicted[k].get<double>(), measured[k].get<double>());
  // Baselines of this direction.
  json base = json::object();
  int n     = f.in_flight();
  if (device.contains("baselines") and device["baselines"].contains(f.direction)) {
    const json& b  = device["baselines"][f.direction];
    double r1      = b["r1_us"].get<double>() * 1e-6;
    double outside = r1 - b.value("clat1_us", r1 * 1e6) * 1e-6; // the part of the qd1 cycle outside clat
    auto entry     = [&](double x) {
      double clat = std::max(0.0, n / x - outside) * 1e6;
      return json{
          {"iops", x},
          {"clat_mean_us", clat},
          {"error_pct", {{"iops", error_pct(x, f.iops)}, {"clat_mean_us", error_pct(clat, f.clat_mean_s * 1e6)}}}};
    };
    if (auto x = bound_formula_iops(device, f))
      base["bound_interpolation"] = entry(*x);
    if (b.contains("service_us") and b.contains("think_us")) {
      int c       = b.contains("channels") ? b["channels"].get<int>() : device["guest"]["tags"].get<int>();
      auto r      = analytic::closed_mva(n, b["think_us"].get<double>() * 1e-6, 1e6 / b["service_us"].get<double>(), c);
      base["mva"] = entry(r.throughput);
    }
  }
  json cdf_measured = json::array();
  for (auto& [p, v] : f.clat_percentiles_s)
    cdf_measured.push_back({v * 1e6, p / 100.0});
  json out = {{"trace", base_name(config.file)},
              {"config", config.key()},
              {"tag", config.tag},
              {"measured", measured},
              {"predicted", predicted},
              {"error_pct", error},
              {"rw", f.rw},
              {"engine", f.engine},
              {"iodepth", f.iodepth},
              {"numjobs", f.numjobs},
              {"files", config.files},
              {"bs", config.bs},
              {"baselines", base},
              {"cdf", {{"measured", cdf_measured}, {"predicted", cdf_predicted}}}};
  // How the device and the driver take turns: the bundle's interrupts against the simulated virtqueues'.
  if (not xen_frontend)
    if (auto m = calibration::measured_interrupts(f))
      if (auto p = calibration::simulated_requests_per_interrupt(results))
        out["requests_per_interrupt"] = {{"measured", m->per_interrupt()}, {"predicted", *p}};
  return out;
}

json median_abs_errors(const json& runs, const std::vector<std::string>& metrics)
{
  json m = json::object();
  for (const auto& k : metrics) {
    std::vector<double> v;
    for (const auto& r : runs)
      v.push_back(r["error_pct"][k].get<double>());
    m[k] = median_abs(v);
  }
  return m;
}

json summarize_runs(const json& runs)
{
  json summary;
  summary["median_abs_error_pct"] = median_abs_errors(runs, keys);
  for (const std::string b : {"mva", "bound_interpolation"})
    for (const std::string k : {"iops", "clat_mean_us"}) {
      std::vector<double> v;
      for (auto& r : runs)
        if (r["baselines"].contains(b))
          v.push_back(r["baselines"][b]["error_pct"][k].get<double>());
      if (not v.empty())
        summary["baselines"][b]["median_abs_error_pct"][k] = median_abs(v);
    }
  return summary;
}

namespace {

/** "in-sample" when every run validated was among the device file's calibration runs ("sources"). */
std::string in_sample_mode(const json& device, const std::vector<std::string>& traces)
{
  auto same = [](const std::string& a, const std::string& b) {
    std::error_code ec;
    if (fs::exists(a, ec) and fs::exists(b, ec))
      return fs::equivalent(a, b, ec);
    return base_name(a) == base_name(b);
  };
  std::size_t seen = 0;
  for (const auto& t : traces)
    if (device.contains("sources") and
        std::any_of(device["sources"].begin(), device["sources"].end(),
                    [&](const json& s) { return s.is_string() and same(s.get<std::string>(), t); }))
      ++seen;
  if (seen == traces.size())
    return "in-sample";
  if (seen == 0)
    return "device file calibrated on other runs (none of these is among its sources)";
  return "in-sample for " + std::to_string(seen) + " of " + std::to_string(traces.size()) +
         " runs (the device file's sources)";
}

} // namespace

double run_duration_s(const Options& opt, const calibration::RunFacts& run, double times_measured)
{
  if (opt.duration_s)
    return *opt.duration_s;
  // Five times the measured run (prediction_times_measured), so that the prediction's own sampling noise (a few
  // preemptions of the VMM thread per second, each of milliseconds) is under half the measurement's; but no more than
  // the run's rate completes in two million requests (about a second of wall time), and never shorter than the run
  // itself.
  const double measured = run.runtime_s > 0 ? run.runtime_s : 1.0;
  double length         = times_measured * measured;
  if (run.iops > 0)
    length = std::min(length, prediction_max_requests / run.iops);
  return std::max(length, measured) + opt.warmup_s;
}

std::optional<double> bound_formula_iops(const json& device, const calibration::RunFacts& run)
{
  if (not device.contains("baselines") or not device["baselines"].contains(run.direction))
    return std::nullopt;
  const json& b = device["baselines"][run.direction];
  if (not b.contains("r1_us") or not(b["r1_us"].get<double>() > 0)) // calibrate always writes a positive R1
    return std::nullopt;
  double xmax = b.contains("xmax_iops") ? b["xmax_iops"].get<double>() : std::numeric_limits<double>::infinity();
  return analytic::bound_interpolation(run.in_flight(), b["r1_us"].get<double>() * 1e-6, xmax);
}

bool leave_out_mode(const Options& opt)
{
  return not opt.hold_out.empty() or opt.kfold != 0 or not opt.leave_out.empty();
}

json run_validation(const Options& opt)
{
  if (leave_out_mode(opt))
    return run_leave_out(opt);
  if (opt.interval != 0)
    throw InputError("", "--interval",
                     "needs a leave-out (--hold-out, --kfold or --leave-out config): its intervals come from "
                     "recalibrating each fold's calibration runs");
  if (not opt.device_file.empty() and opt.fio_loop != "batched")
    throw InputError("", "--fio-loop",
                     "not with --device: the device file's stack has its loop (scenario_fragment.components.fio.loop; "
                     "pvsim calibrate --fio-loop writes it)");
  json device;
  std::vector<std::string> traces = opt.traces;
  std::optional<bundle::Bundle> bun;
  json bundle_notes = json::array();
  if (not opt.bundle_dir.empty()) {
    bun = bundle::read_bundle(opt.bundle_dir);
    if (not traces.empty())
      throw InputError("", "--trace", "not with --bundle: the bundle's fio runs are the traces");
    if (bun->runs.empty() and not bun->net_runs.empty())
      return run_net_validation(*bun, opt);
    for (const auto& r : bun->runs)
      traces.push_back(r.file);
    if (opt.device_file.empty()) {
      device = calibration::calibrate(traces, "auto", opt.fio_loop);
      bundle_notes.push_back("no --device: calibrated from the bundle's own runs (fitted and validated on the same "
                             "runs)");
    } else {
      device = calibration::read_device_file(opt.device_file);
    }

  } else {
    if (opt.device_file.empty())
      throw InputError("", "--device",
                       "required (a device.json from pvsim calibrate), unless --bundle DIR or a leave-out (--hold-out, "
                       "--kfold, --leave-out config: calibrated from the runs themselves) is given");
    device = calibration::read_device_file(opt.device_file);
  }
  if (traces.empty())
    throw InputError("", "--trace", "no trace given (expected one or more fio json+ result files)");
  struct Item {
    std::string trace;
    calibration::RunFacts facts;
    RunConfig config;
    std::string scenario, outdir;
    json guest;
  };
  std::vector<Item> items;
  for (std::size_t i = 0; i < traces.size(); ++i) {
    const auto& t = traces[i];
    auto result   = readers::read_fio_json(t);
    auto facts    = calibration::run_facts(result);
    // The main direction: reads for read and mixed workloads, else writes.
    json guest = device["guest"];
    if (bun) {
      std::vector<std::string> notes;
      const auto& run = bun->runs[i];
      guest           = bundle::guest_for_run(*bun, run, device["guest"], notes);
      if (run.ioengine != facts.front().engine)
        notes.push_back(run.rel + ": the manifest says ioengine " + run.ioengine + ", the fio result " +
                        facts.front().engine + " (the fio result is simulated)");
      for (auto& n : notes)
        bundle_notes.push_back(n);
    }
    items.push_back({t, facts.front(), run_config(t, facts.front(), result.jobs.front().nrfiles()), "", "", guest});
  }
  const auto load = guest_load_of(traces); // read before simulating: a bad summary.csv stops here
  for (auto& it : items)
    it.facts.foreign_cpus = guest_load_for(load, it.trace);
  std::vector<std::string> scenario_notes;
  fs::path tmp(make_temp_dir("pvsim-validate"));
  for (std::size_t i = 0; i < items.size(); ++i) {
    json run_device     = device;
    run_device["guest"] = items[i].guest;
    json scen;
    if (bun) {
      // Slow (emulated) hosts complete few requests per simulated second: simulate ~3000 of them.
      double duration = run_duration_s(opt, items[i].facts), warmup = opt.warmup_s;
      if (items[i].facts.iops > 0 and 3000.0 / items[i].facts.iops > duration) {
        double longer = std::min(60.0, 3000.0 / items[i].facts.iops);
        warmup *= longer / duration;
        duration = longer;
      }
      scen = bundle::scenario_for_bundle_run(device, *bun, bun->runs[i], items[i].guest, items[i].facts, duration,
                                             warmup, opt.seed, scenario_notes);
    } else {
      scen = calibration::scenario_for_run(run_device, items[i].facts, run_duration_s(opt, items[i].facts),
                                           opt.warmup_s, opt.seed);
    }
    items[i].scenario = (tmp / ("run" + std::to_string(i) + ".json")).string();
    items[i].outdir   = (tmp / ("run" + std::to_string(i))).string();
    std::ofstream(items[i].scenario) << scen.dump(2) << "\n";
  }
  // One child per trace, `parallel` at a time.
  std::vector<std::string> files, outs;
  for (const auto& it : items) {
    files.push_back(it.scenario);
    outs.push_back(it.outdir);
  }
  std::vector<int> status = run_simulations(opt.pvsim_exe, files, outs, opt.parallel, not opt.quiet);
  json runs               = json::array();
  bool xen                = bun and bundle::is_xen_bundle(*bun);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    json results   = simulation_results(status[i], it.trace, it.scenario, it.outdir, opt.device_file);
    runs.push_back(compare_run(device, it.config, it.facts, results, xen));
    runs.back()["guest"] = it.guest;
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  json full = {{"device", opt.device_file.empty() ? "(calibrated from the bundle)" : opt.device_file},
               {"mode", in_sample_mode(device, traces)},
               {"runs", runs},
               {"summary", summarize_runs(runs)}};
  std::vector<RunConfig> configs;
  std::vector<double> iops, clat;
  for (const auto& it : items) {
    configs.push_back(it.config);
    iops.push_back(it.facts.iops);
    clat.push_back(it.facts.clat_mean_s);
  }
  add_accuracy(full, RepeatNoise(configs, iops, clat));
  add_guest_load(full, load);
  if (bun) {
    json b = bundle::check_structure(*bun);
    for (const auto& n : scenario_notes)
      if (std::find(b["notes"].begin(), b["notes"].end(), json(n)) == b["notes"].end())
        b["notes"].push_back(n);
    for (const auto& n : bundle_notes)
      b["notes"].push_back(n);
    full["bundle"] = b;
  }
  return full;
}

json public_view(const json& full)
{
  json runs = json::array();
  for (const auto& r : full["runs"]) {
    runs.push_back({{"trace", r["trace"]},
                    {"measured", r["measured"]},
                    {"predicted", r["predicted"]},
                    {"error_pct", r["error_pct"]}});
    if (r.contains("requests_per_interrupt"))
      runs.back()["requests_per_interrupt"] = r["requests_per_interrupt"];
  }
  json view = {{"runs", runs}, {"summary", {{"median_abs_error_pct", full["summary"]["median_abs_error_pct"]}}}};
  if (full.contains("mode"))
    view["summary"]["mode"] = full["mode"];
  if (full.contains("folds")) { // a leave-out: which runs trained which prediction, and the noise and intervals
    view["mode"]  = full["mode"];
    view["folds"] = full["folds"];
    for (std::size_t i = 0; i < runs.size(); ++i)
      for (const char* k : {"fold", "noise", "outside_noise", "interval"})
        if (full["runs"][i].contains(k))
          runs[i][k] = full["runs"][i][k];
    for (const char* k : {"outside_noise", "side_by_side", "repeat_floor", "by_configuration", "coverage"})
      if (full["summary"].contains(k))
        view["summary"][k] = full["summary"][k];
  }
  // In every mode: the guest's load during each run, where the traces record it.
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (full["runs"][i].contains("foreign_cpus"))
      runs[i]["foreign_cpus"] = full["runs"][i]["foreign_cpus"];
  view["runs"] = runs;
  if (full["summary"].contains("by_guest_load"))
    view["summary"]["by_guest_load"] = full["summary"]["by_guest_load"];
  if (full.contains("net_runs")) {
    view["net_runs"] = full["net_runs"];
    view["fit"]      = full["fit"];
  }
  if (full.contains("bundle"))
    view["bundle"] = full["bundle"];
  return view;
}

int validate_command(const Options& opt)
{
  json full         = run_validation(opt);
  std::string table = markdown(full);
  if (not opt.quiet)
    std::cout << table;
  if (not opt.json_out.empty())
    write_file_atomically(opt.json_out, public_view(full).dump(2) + "\n");
  if (not opt.report_dir.empty()) {
    fs::create_directories(opt.report_dir);
    write_file_atomically(opt.report_dir + "/validation.json", full.dump(2) + "\n");
    write_file_atomically(opt.report_dir + "/report.md", table);
    std::string script = opt.report_script;
    if (script.empty())
      script = std::string(PVSIM_SOURCE_DIR) + "/analysis/validation_report.py"; // the tree pvsim was built from
    if (full["runs"].empty()) {
      // A network lab: the table is the report.
    } else if (fs::exists(script)) {
      std::string cmd = "/usr/bin/python3 '" + script + "' '" + opt.report_dir + "/validation.json' '" +
                        opt.report_dir + "'" + (opt.quiet ? " >/dev/null" : "");
      if (std::system(cmd.c_str()) != 0)
        std::cerr << "pvsim: warning: " << script << " failed: the report has no plots\n";
    } else {
      std::cerr << "pvsim: warning: " << script << " not found: the report has no plots\n";
    }
  }
  const json& m = full["summary"]["median_abs_error_pct"];
  int rc        = 0;
  if (not m.contains("iops"))
    return rc; // a network lab: no IOPS or latency to hold to the thresholds
  if (opt.max_iops_error_pct and m["iops"].get<double>() > *opt.max_iops_error_pct) {
    std::cerr << "pvsim: median |IOPS error| " << format_fixed(m["iops"].get<double>()) << " % exceeds "
              << *opt.max_iops_error_pct << " %\n";
    rc = 1;
  }
  if (opt.max_mean_error_pct and m["clat_mean_us"].get<double>() > *opt.max_mean_error_pct) {
    std::cerr << "pvsim: median |clat mean error| " << format_fixed(m["clat_mean_us"].get<double>()) << " % exceeds "
              << *opt.max_mean_error_pct << " %\n";
    rc = 1;
  }
  return rc;
}

} // namespace pvsim::validation
