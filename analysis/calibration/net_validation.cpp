/* pvsim: validation of network lab bundles (see net_validation.hpp). */
#include "analysis/calibration/net_validation.hpp"

#include "analysis/calibration/bundle_structure.hpp"
#include "analysis/calibration/validation.hpp"
#include "analysis/runner/process_runs.hpp"
#include "sim/input_error.hpp"
#include "sim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace pvsim::validation {

double iperf3_gbps(const std::string& file)
{
  json j = read_json_file(file);
  if (not j.is_object() or not j.contains("end") or not j["end"].is_object())
    throw InputError(file, "/end", "missing: expected the JSON of iperf3 -J (its end.sum_received)");
  for (const char* key : {"sum_received", "sum_sent", "sum"}) {
    const json& e = j["end"];
    if (e.contains(key) and e[key].is_object() and e[key].contains("bits_per_second") and
        e[key]["bits_per_second"].is_number())
      return e[key]["bits_per_second"].get<double>() / 1e9;
  }
  throw InputError(file, "/end/sum_received/bits_per_second", "missing: expected iperf3 -J output");
}

namespace {

json net_scenario(const bundle::Bundle& b, const bundle::NetRun& run, const bundle::Vif& vif, double speed,
                  double duration_s)
{
  int cores = b.host.physical_cores > 0 ? b.host.physical_cores : b.vcpus + 1;
  json link = {{"type", "net.link"}, {"rate", "100Gbit/s"}, {"latency", "0us"}};
  return {{"name", "validate-net-" + fs::path(run.file).filename().string()},
          {"description", "pvsim validate: iperf3 over a Xen vif with " + std::to_string(run.streams) + " stream(s)"},
          {"seed", 1},
          {"duration", std::to_string(duration_s * 1e3) + "ms"},
          {"warmup", std::to_string(duration_s * 200) + "ms"},
          {"components",
           {{"host", {{"type", "cpu.host"}, {"cores", cores}, {"speed_factor", speed}}},
            {"domU", {{"type", "guest.vm"}, {"vcpus", b.vcpus}, {"pcpus", "host"}}},
            {"iperf",
             {{"type", "net.flow"},
              {"vm", "domU"},
              {"target", "vif"},
              {"streams", run.streams},
              {"direction", run.direction == "dom0-to-domU" ? "rx" : "tx"},
              {"packet_size", "64KiB"},
              {"window", "1MiB"}}},
            {"vif", {{"type", "xen.netfront"}, {"vm", "domU"}, {"backend", "vif-be"}, {"max_queues", vif.hw_queues}}},
            {"vif-be", {{"type", "xen.netback"}, {"cpus", "host"}, {"target", "dom0"}}},
            {"dom0", link}}}};
}

/** Simulates each scenario in its own process; returns the results documents. */
std::vector<json> simulate(const std::vector<json>& scenarios, const Options& opt, const fs::path& tmp,
                           const std::string& tag)
{
  std::vector<std::string> files, outs;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    files.push_back((tmp / (tag + std::to_string(i) + ".json")).string());
    outs.push_back((tmp / (tag + std::to_string(i))).string());
    std::ofstream(files.back()) << scenarios[i].dump(2) << "\n";
  }
  std::vector<int> status = run_simulations(opt.pvsim_exe, files, outs, opt.parallel);
  std::vector<json> results;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    if (status[i] != 0)
      throw std::runtime_error("the simulation of " + files[i] + " failed (exit " + std::to_string(status[i]) + ")");
    results.push_back(read_json_file(outs[i] + "/results.json"));
  }
  return results;
}

double simulated_gbps(const json& results)
{
  return results["jobs"]["iperf"]["MBps"].get<double>() * 8e6 / 1e9;
}

} // namespace

json run_net_validation(const bundle::Bundle& b, const Options& opt)
{
  if (b.vifs.empty())
    throw InputError(b.manifest_file, "/vifs", "missing: a bundle with net_runs describes its vif(s)");
  const bundle::Vif& vif = b.vifs.front();
  std::vector<double> measured;
  for (const auto& r : b.net_runs)
    measured.push_back(iperf3_gbps(r.file));
  fs::path tmp(make_temp_dir("pvsim-validate-net"));
  double duration = std::max(opt.duration_s.value_or(1.0), 0.05); // iperf3 runs: one simulated second unless told
  // Fit the host's speed on the run with the fewest streams.
  std::size_t ref = 0;
  for (std::size_t i = 1; i < b.net_runs.size(); ++i)
    if (b.net_runs[i].streams < b.net_runs[ref].streams)
      ref = i;
  double speed = 1.0;
  json fit     = {{"run", b.net_runs[ref].rel}};
  if (b.host.accel == "tcg" or b.host.physical_cores > 0) {
    auto probe         = simulate({net_scenario(b, b.net_runs[ref], vif, 1.0, duration)}, opt, tmp, "probe");
    double native      = simulated_gbps(probe.front());
    speed              = native > 0 ? std::clamp(measured[ref] / native, 1e-3, 1e3) : 1.0;
    fit["native_gbps"] = native;
  }
  fit["speed_factor"] = speed;
  fit["how"] = "the host's speed_factor = measured / simulated goodput of the run with the fewest streams at speed 1";
  // Slow hosts move few packets per simulated second: lengthen the runs so each carries ~2000 packets.
  double sim_s   = duration;
  double slowest = *std::min_element(measured.begin(), measured.end());
  if (slowest > 0)
    sim_s = std::clamp(2000 * 64 * 1024 * 8 / (slowest * 1e9), duration, 30.0);
  std::vector<json> scen;
  for (const auto& r : b.net_runs)
    scen.push_back(net_scenario(b, r, vif, speed, sim_s));
  auto results = simulate(scen, opt, tmp, "run");
  json runs    = json::array();
  std::vector<double> errs;
  for (std::size_t i = 0; i < b.net_runs.size(); ++i) {
    double pred = simulated_gbps(results[i]);
    double err  = error_pct(pred, measured[i]);
    if (i != ref)
      errs.push_back(err);
    runs.push_back({{"trace", fs::path(b.net_runs[i].file).filename().string()},
                    {"streams", b.net_runs[i].streams},
                    {"fitted_on", i == ref},
                    {"measured", {{"gbps", measured[i]}}},
                    {"predicted", {{"gbps", pred}}},
                    {"error_pct", {{"gbps", err}}}});
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  json out = {{"device", "(network lab: xen.netfront/xen.netback on the bundle's machine)"},
              {"runs", json::array()},
              {"net_runs", runs},
              {"fit", fit},
              {"summary", {{"median_abs_error_pct", {{"gbps", median_abs(errs)}}}, {"predicted_runs", errs.size()}}}};
  json bun = bundle::check_structure(b);
  bun["notes"].push_back("the run with the fewest streams fits the host's speed (error 0 by construction); the median "
                         "is over the other runs");
  out["bundle"] = bun;
  return out;
}

} // namespace pvsim::validation
