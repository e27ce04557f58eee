#include "analysis/regress/metrics.hpp"

#include "sim/statistics.hpp"

#include <map>

namespace pvsim::regress {

using nlohmann::json;

double jain_index(const std::vector<double>& x)
{
  return pvsim::jain_index(x); // one definition, in the statistics (results.json's guests use it too)
}

namespace {
/** Groups the scenario's components that reach one another through the names in their parameters (target, vm,
 * pcpus, cpus, backend, iothread...): each group is a part of the host that shares nothing with the others. */
class Subsystems {
public:
  explicit Subsystems(const json& components)
  {
    for (const auto& [name, c] : components.items())
      parent_[name] = name;
    for (const auto& [name, c] : components.items())
      link_names(name, c, components);
  }
  std::string of(const std::string& name)
  {
    std::string& p = parent_[name];
    if (p.empty() or p == name)
      return p = name;
    return p = of(p);
  }

private:
  void link_names(const std::string& from, const json& v, const json& components)
  {
    if (v.is_string() and components.contains(v.get<std::string>()))
      parent_[of(v.get<std::string>())] = of(from);
    else if (v.is_array() or v.is_object())
      for (const auto& e : v)
        link_names(from, e, components);
  }
  std::map<std::string, std::string> parent_;
};

/** Values of `field` in each object of the array `list` (empty if there is no such array). */
std::vector<double> column(const json& component, const char* list, const char* field)
{
  std::vector<double> out;
  if (component.contains(list) and component[list].is_array())
    for (const auto& e : component[list])
      if (e.is_object() and e.contains(field) and e[field].is_number())
        out.push_back(e[field].get<double>());
  return out;
}
} // namespace

std::vector<Metric> metrics_of(const json& results)
{
  std::vector<Metric> out;
  const json& types = results.at("scenario").at("components");
  Subsystems parts(types);
  std::map<std::string, double> requests; // per subsystem
  std::vector<double> job_iops;
  for (const auto& [name, job] : results.at("jobs").items()) {
    std::string p = "jobs." + name + ".";
    out.push_back({p + "iops", job.at("iops").get<double>(), true});
    out.push_back({p + "MBps", job.at("MBps").get<double>(), true});
    const json& lat = job.at("latency_us");
    if (lat.value("count", 0) > 0)
      for (const char* q : {"mean", "p50", "p99", "p99.9"})
        out.push_back({p + "latency_us." + q, lat.at(q).get<double>(), false});
    requests[parts.of(name)] += job.at("requests").get<double>();
    job_iops.push_back(job.at("iops").get<double>());
  }
  if (job_iops.size() >= 2)
    out.push_back({"jobs.fairness", jain_index(job_iops), true});

  const json components = results.value("components", json::object());
  for (const auto& [name, c] : components.items()) {
    std::string type = types.contains(name) ? types[name].value("type", "") : "";
    if (auto done = column(c, "threads", "completed"); done.size() >= 2)
      out.push_back({"components." + name + ".threads_fairness", jain_index(done), true});
    if (auto bps = column(c, "streams", "throughput_bps"); bps.size() >= 2)
      out.push_back({"components." + name + ".streams_fairness", jain_index(bps), true});
    double served = requests[parts.of(name)];
    if (type == "cpu.host" and c.contains("cpu_s") and served > 0)
      out.push_back({"cpu_us_per_request." + name, c["cpu_s"].get<double>() / served * 1e6, false});
  }
  return out;
}

} // namespace pvsim::regress
