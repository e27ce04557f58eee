#include "analysis/calibration/calibration_summary.hpp"
#include "analysis/calibration/calibration.hpp"
#include "sim/units.hpp"

#include <set>
#include <string>

namespace pvsim::calibration {

namespace {

/** "3 runs" from a "from" list, "" without one. */
std::string runs_of(const json& entry)
{
  if (not entry.is_object() or not entry.contains("from") or not entry["from"].is_array())
    return "";
  std::size_t n = entry["from"].size();
  return " (" + std::to_string(n) + (n == 1 ? " run)" : " runs)");
}

/** The value of one fitted parameter: value_us, mean_us or a choice. */
std::string value_of(const json& entry)
{
  if (entry.contains("value_us") and entry["value_us"].is_number())
    return format_number("%.4g us", entry["value_us"].get<double>());
  if (entry.contains("mean_us") and entry["mean_us"].is_number())
    return format_number("mean %.4g us", entry["mean_us"].get<double>());
  if (entry.contains("chosen") and entry["chosen"].is_string())
    return entry["chosen"].get<std::string>();
  return "";
}

} // namespace

std::string summary_text(const json& device, const std::string& written_to)
{
  std::string out;
  std::size_t runs = device.contains("sources") ? device["sources"].size() : 0;
  out += "calibrated from " + std::to_string(runs) + (runs == 1 ? " fio run" : " fio runs") + "\n";
  if (device.contains("stack")) {
    const json& stack = device["stack"];
    out += "stack: " + stack.value("vmm", std::string("?"));
    if (stack.contains("why") and stack["why"].is_array() and not stack["why"].empty())
      out += ": " + stack["why"][0].get<std::string>();
    out += "\n";
    if (stack.contains("scheduler") and stack["scheduler"].is_object())
      out += "  I/O scheduler: " + stack["scheduler"].value("why", std::string()) + "\n";
  }
  if (std::string loop = fio_loop_of(device); loop != "batched")
    out += "  fio's loop: " + loop + " (job.fio loop; README \"fio's loop\")\n";
  std::set<std::string> defaults; // "write.submit_cpu" of the not_fitted entries: reported below, not as fitted
  if (device.contains("not_fitted") and device["not_fitted"].is_array())
    for (const auto& n : device["not_fitted"])
      defaults.insert(n.get<std::string>().substr(0, n.get<std::string>().find(':')));
  if (device.contains("parameters"))
    for (const auto& [direction, params] : device["parameters"].items()) {
      std::string line;
      for (const auto& [name, entry] : params.items()) {
        if (not entry.is_object())
          continue;
        std::string v = value_of(entry);
        if (v.empty() or defaults.count(direction + "." + name))
          continue;
        line += (line.empty() ? "" : ", ") + name + " " + v + runs_of(entry);
      }
      if (not line.empty())
        out += "fitted (" + direction + "): " + line + "\n";
    }
  if (device.contains("scenario_fragment") and device["scenario_fragment"].contains("write"))
    out += "writes: " + device["scenario_fragment"]["write"].value("summary", std::string("their own fit")) + "\n";
  if (device.contains("preemption") and device["preemption"].is_object()) {
    const json& p = device["preemption"];
    out += "host preemption: " + format_number("%.3g Hz", p.value("rate_hz", 0.0)) + ", " +
           format_number("mean %.4g us", p.value("duration_mean_us", 0.0)) + " each" + runs_of(p) + "\n";
  }
  if (device.contains("guest_load") and device["guest_load"].is_object()) {
    const json& g = device["guest_load"];
    out += "guest's other processes: " + format_number("%.3g Hz", g.value("background_preempt_rate_hz", 0.0)) +
           " per CPU of their load, " + format_number("mean %.4g us", g.value("duration_mean_us", 0.0)) + " each" +
           runs_of(g);
    if (g.contains("unrecorded_run_cpus"))
      out += format_number("; a run with no record gets %.2g CPU", g["unrecorded_run_cpus"].get<double>());
    out += "\n";
    if (g.contains("caution") and g["caution"].is_string())
      out += "  caution: " + g["caution"].get<std::string>() + "\n";
  }
  if (device.contains("vcpu_wake") and device["vcpu_wake"].is_object()) {
    const json& w = device["vcpu_wake"];
    out += "idle vCPUs (measured, " + w.value("file", std::string("?")) +
           "): " + format_number("halt_wake_latency %.3g us", w.value("halt_wake_latency_us", 0.0)) + ", " +
           format_number("busy_kick_latency %.3g us", w.value("busy_kick_latency_us", 0.0)) + "\n";
  }
  if (device.contains("not_fitted") and device["not_fitted"].is_array())
    for (const auto& n : device["not_fitted"])
      out += "not fitted: " + n.get<std::string>() + "\n";
  if (device.contains("guest") and device["guest"].is_object()) {
    const json& g = device["guest"];
    auto count    = [&](const char* key, const std::string& one) {
      int n = g.value(key, 0);
      return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
    };
    out += "assumed (not in fio's output): " + count("vcpus", "vCPU") + ", " + count("hw_queues", "hardware queue") +
           ", " + count("tags", "tag") + ": edit \"guest\" for another machine\n";
  }
  if (device.contains("uncertainty"))
    out += "bootstrap: the resamples' parameters are under \"uncertainty\"\n";
  out += "wrote " + written_to + "\n";
  return out;
}

} // namespace pvsim::calibration
