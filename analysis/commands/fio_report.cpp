#include "analysis/commands/fio_report.hpp"

#include "models/workload/fio_job.hpp"
#include "sim/component.hpp"
#include "sim/simulation.hpp"
#include "sim/statistics.hpp"
#include "sim/version.hpp"

#include <cmath>
#include <cstdio>

namespace pvsim {

using nlohmann::json;

void FioReport::Latency::record(double seconds)
{
  histogram.record(seconds);
  double ns = seconds * 1e9;
  sum_sq_ns2 += ns * ns;
}

void FioReport::Latency::merge(const Latency& other)
{
  histogram.merge(other.histogram);
  sum_sq_ns2 += other.sum_sq_ns2;
}

void FioReport::Direction::merge(const Direction& other)
{
  slat.merge(other.slat);
  clat.merge(other.clat);
  lat.merge(other.lat);
  bytes += other.bytes;
}

FioReport::FioReport(Simulation& sim, const FioWorkload& workload, bool plus)
    : sim_(sim), workload_(workload), plus_(plus)
{
}

void FioReport::connect()
{
  for (const auto& c : sim_.components()) {
    const Probe<JobEvent>* done = c->job_probe();
    if (done == nullptr)
      continue;
    std::size_t first = copies_.size();
    int first_id      = -1;
    long long n       = 1;
    if (const auto* job = dynamic_cast<const FioJob*>(c.get())) {
      first_id = job->first_job_id();
      n        = job->copies();
      job->submitted_probe().connect([this](const JobEvent& ev) { on_submitted(ev); });
    }
    for (long long i = 0; i < n; ++i)
      copies_.push_back({c->name(), static_cast<int>(i), {}, {}});
    done->connect([this, first, first_id](const JobEvent& ev) { on_completed(first, first_id, ev); });
  }
}

void FioReport::restart(double)
{
  for (auto& c : copies_) {
    c.read  = Direction{};
    c.write = Direction{};
  }
}

void FioReport::on_submitted(const JobEvent& ev)
{
  pending_[ev.r->id] = ev.t;
}

void FioReport::on_completed(std::size_t first_copy, int first_job_id, const JobEvent& ev)
{
  const Request* r  = ev.r;
  double left_job_s = r->submit_s; // without a submission probe, slat is 0 and clat = lat
  if (auto it = pending_.find(r->id); it != pending_.end()) {
    left_job_s = it->second;
    pending_.erase(it);
  }
  std::size_t index = first_copy + (first_job_id >= 0 ? static_cast<std::size_t>(r->job - first_job_id) : 0);
  Direction& d      = r->op == Op::read ? copies_[index].read : copies_[index].write;
  d.slat.record(left_job_s - r->submit_s);
  d.clat.record(ev.t - left_job_s);
  d.lat.record(ev.t - r->submit_s);
  d.bytes += r->size_bytes;
}

json FioReport::latency_json(const Latency& l, const std::vector<double>& percentiles) const
{
  const LatencyHistogram& h = l.histogram;
  auto n                    = static_cast<double>(h.count());
  double mean_ns            = h.mean_s() * 1e9;
  double var                = n > 1 ? std::max(0.0, (l.sum_sq_ns2 - n * mean_ns * mean_ns) / (n - 1)) : 0.0;
  json out                  = {{"min", std::llround(h.min_s() * 1e9)},
                               {"max", std::llround(h.max_s() * 1e9)},
                               {"mean", mean_ns},
                               {"stddev", std::sqrt(var)},
                               {"N", h.count()}};
  if (h.count() == 0) // fio prints no percentiles and no bins for a direction without I/O
    return out;
  json pct = json::object();
  for (double p : percentiles) {
    char key[32];
    std::snprintf(key, sizeof key, "%f", p);
    pct[key] = std::llround(h.quantile_s(p / 100) * 1e9);
  }
  out["percentile"] = pct;
  if (plus_) {
    json bins     = json::object();
    json buckets  = h.buckets_json();
    const auto& u = buckets["upper_ns"];
    const auto& k = buckets["count"];
    for (std::size_t i = 0; i < u.size(); ++i) {
      auto upper          = u[i].get<std::uint64_t>();
      std::size_t idx     = LatencyHistogram::index_of(upper - 1);
      std::uint64_t lo    = LatencyHistogram::lower_ns(idx);
      std::uint64_t value = idx < static_cast<std::size_t>(LatencyHistogram::linear_limit_ns) ? lo : (lo + upper) / 2;
      bins[std::to_string(value)] = k[i];
    }
    out["bins"] = bins;
  }
  return out;
}

json FioReport::direction_json(const Direction& d, double window_s, const std::vector<double>& percentiles) const
{
  std::uint64_t ios = d.lat.histogram.count();
  auto bw_Bps       = window_s > 0 ? static_cast<double>(d.bytes) / window_s : 0.0;
  return {{"io_bytes", d.bytes},
          {"io_kbytes", d.bytes / 1024},
          {"bw_bytes", static_cast<std::uint64_t>(bw_Bps)},
          {"bw", static_cast<std::uint64_t>(bw_Bps / 1024)},
          {"iops", window_s > 0 ? static_cast<double>(ios) / window_s : 0.0},
          {"runtime", ios > 0 ? std::llround(window_s * 1e3) : 0},
          {"total_ios", ios},
          {"short_ios", 0},
          {"drop_ios", 0},
          {"slat_ns", latency_json(d.slat, percentiles)},
          {"clat_ns", latency_json(d.clat, percentiles)},
          {"lat_ns", latency_json(d.lat, percentiles)}};
}

std::string FioReport::text(const json& results) const
{
  const double window_s = results["window_s"].get<double>();
  json doc;
  doc["fio version"]  = std::string("pvsim-") + version;
  doc["timestamp"]    = 0; // simulated: no wall-clock time (the same seed gives the same file)
  doc["timestamp_ms"] = 0;
  doc["time"]         = "simulated";
  json global         = json::object();
  for (const auto& [k, v] : workload_.global_options)
    global[k] = v;
  if (not global.empty())
    doc["global options"] = global;

  // Entries: the job file's jobs in its order, then the other jobs in component order.
  std::vector<std::string> order = workload_.order;
  for (const auto& c : copies_)
    if (not workload_.jobs.count(c.component) and
        (order.empty() or std::find(order.begin(), order.end(), c.component) == order.end()))
      order.push_back(c.component);

  struct Entry {
    std::string jobname;
    int groupid = 0;
    json options;
    std::vector<double> percentiles;
    Direction read, write;
    int threads = 0;
  };
  std::vector<Entry> entries;
  std::map<int, std::size_t> group_entry; // groupid -> entry (group_reporting)
  for (const auto& name : order) {
    auto origin = workload_.jobs.find(name);
    for (const auto& c : copies_) {
      if (c.component != name)
        continue;
      Entry* e = nullptr;
      if (origin != workload_.jobs.end() and origin->second.group_reporting) {
        auto g = group_entry.find(origin->second.groupid);
        if (g != group_entry.end())
          e = &entries[g->second];
        else
          group_entry[origin->second.groupid] = entries.size();
      }
      if (e == nullptr) {
        entries.emplace_back();
        e = &entries.back();
        if (origin != workload_.jobs.end()) {
          e->jobname     = origin->second.jobname;
          e->groupid     = origin->second.groupid;
          e->percentiles = origin->second.percentiles;
          e->options     = json::object();
          for (const auto& [k, v] : origin->second.job_options)
            e->options[k] = v;
        } else {
          e->jobname     = name;
          e->percentiles = fio_default_percentiles();
          e->options     = {{"name", name}};
        }
      }
      e->read.merge(c.read);
      e->write.merge(c.write);
      e->threads++;
    }
  }

  json jobs = json::array();
  for (const auto& e : entries) {
    json j;
    j["jobname"]     = e.jobname;
    j["groupid"]     = e.groupid;
    j["error"]       = 0;
    j["eta"]         = 0;
    j["elapsed"]     = std::llround(results["simulated_time_s"].get<double>());
    j["job options"] = e.options;
    j["read"]        = direction_json(e.read, window_s, e.percentiles);
    j["write"]       = direction_json(e.write, window_s, e.percentiles);
    j["trim"]        = direction_json(Direction{}, window_s, e.percentiles);
    j["job_runtime"] = std::llround(window_s * 1e3) * e.threads;
    j["usr_cpu"]     = 0.0;
    j["sys_cpu"]     = 0.0;
    j["ctx"]         = 0;
    j["majf"]        = 0;
    j["minf"]        = 0;
    jobs.push_back(j);
  }
  doc["jobs"]      = jobs;
  doc["disk_util"] = json::array();
  return doc.dump(2) + "\n";
}

} // namespace pvsim
