#include "analysis/commands/explain.hpp"

#include "sim/input_error.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

namespace pvsim {

namespace {
struct Visit {
  std::string place, component, type;
  double arrive_s = -1, start_s = -1, depart_s = -1;
  int queue = -1, tag = -1;
};

/** One request followed from submission to completion. */
struct Journey {
  std::vector<Visit> visits;
  std::map<std::string, std::size_t> open; // place -> its visit not departed yet
  int first_cpu = -1;
  std::string job;
  double submit_s = 0, complete_s = 0;
  Op op               = Op::read;
  std::uint32_t bytes = 0;
};

/** Follows the requests `wanted` picks (at their first arrival anywhere) and hands each completed journey over. */
void follow(Simulation& sim, std::function<bool(const Request&)> wanted, std::function<void(Journey&)> completed)
{
  auto journeys = std::make_shared<std::map<std::uint64_t, Journey>>();
  sim.on_models_started([&sim, journeys, wanted, completed] {
    for (const auto& c : sim.components()) {
      for (const auto& q : c->queues()) {
        std::string place = q.name, component = c->name(), type = c->type();
        q.station->probe().connect([journeys, wanted, place, component, type](const StationEvent& ev) {
          auto it = journeys->find(ev.r->id);
          if (it == journeys->end()) {
            if (ev.what != StationEvent::What::arrive or not wanted(*ev.r))
              return;
            it                   = journeys->emplace(ev.r->id, Journey{}).first;
            it->second.first_cpu = ev.r->cpu;
          }
          Journey& j = it->second;
          if (ev.what == StationEvent::What::arrive) {
            j.open[place] = j.visits.size();
            j.visits.push_back({place, component, type, ev.t, -1, -1, ev.r->queue, ev.r->tag});
            return;
          }
          auto o = j.open.find(place);
          if (o == j.open.end())
            return;
          Visit& v = j.visits[o->second];
          if (ev.what == StationEvent::What::start) {
            v.start_s = ev.t;
            v.queue   = ev.r->queue;
            v.tag     = ev.r->tag;
          } else {
            v.depart_s = ev.t;
            if (v.start_s < 0)
              v.start_s = v.arrive_s;
            j.open.erase(o);
          }
        });
      }
      if (const auto* probe = c->job_probe()) {
        std::string job = c->name();
        probe->connect([journeys, completed, job](const JobEvent& ev) {
          auto it = journeys->find(ev.r->id);
          if (it == journeys->end())
            return;
          Journey& j   = it->second;
          j.job        = job;
          j.submit_s   = ev.r->submit_s;
          j.complete_s = ev.t;
          j.op         = ev.r->op;
          j.bytes      = ev.r->size_bytes;
          completed(j);
          journeys->erase(it);
        });
      }
    }
  });
}

const std::string before_label  = "before the first place: submission on the job's vCPU";
const std::string between_label = "between places: CPU work, notifications, interrupts";
const std::string after_label   = "after the last place: response, interrupt, the job reaping it";

/** Where the time of [submit, complete] went: each instant in the innermost place (the visit entered last), in order
 * of first appearance. */
std::vector<std::pair<std::string, double>> breakdown(const Journey& j)
{
  std::vector<double> cuts = {j.submit_s, j.complete_s};
  double first_in = j.complete_s, last_out = j.submit_s;
  for (const auto& v : j.visits) {
    for (double t : {v.arrive_s, v.start_s, v.depart_s})
      if (t >= j.submit_s and t <= j.complete_s)
        cuts.push_back(t);
    first_in = std::min(first_in, v.arrive_s);
    last_out = std::max(last_out, v.depart_s >= 0 ? v.depart_s : j.complete_s);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<std::pair<std::string, double>> spent;
  auto add = [&spent](const std::string& label, double s) {
    for (auto& [l, t] : spent)
      if (l == label) {
        t += s;
        return;
      }
    spent.emplace_back(label, s);
  };
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    double a = cuts[i], b = cuts[i + 1], mid = (a + b) / 2;
    const Visit* inner = nullptr;
    bool waiting       = false;
    for (const auto& v : j.visits) {
      double end = v.depart_s >= 0 ? v.depart_s : j.complete_s;
      if (v.arrive_s <= mid and mid < end and (inner == nullptr or v.arrive_s >= inner->arrive_s)) {
        inner   = &v;
        waiting = mid < v.start_s;
      }
    }
    add(inner            ? inner->place + (waiting ? " (waiting)" : "")
        : mid < first_in ? before_label
        : mid > last_out ? after_label
                         : between_label,
        b - a);
  }
  return spent;
}

std::string us(double s)
{
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f us", s * 1e6);
  return buf;
}

std::string ms(double s)
{
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f ms", s * 1e3);
  return buf;
}

std::string size_text(std::uint32_t bytes)
{
  if (bytes % 1024 == 0)
    return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string table(const std::vector<std::pair<std::string, double>>& spent, double latency, const std::string& total)
{
  std::ostringstream out;
  char line[200];
  double sum = 0;
  for (const auto& [label, s] : spent) {
    std::snprintf(line, sizeof line, "  %-62s %10.1f us %6.1f %%\n", label.c_str(), s * 1e6,
                  latency > 0 ? 100 * s / latency : 0.0);
    out << line;
    sum += s;
  }
  std::snprintf(line, sizeof line, "  %-62s %10.1f us\n", total.c_str(), sum * 1e6);
  out << line;
  return out.str();
}

std::string narrate(const Simulation& sim, std::uint64_t id, const Journey& j)
{
  std::ostringstream out;
  double latency = j.complete_s - j.submit_s;
  out << "Request " << id << " of scenario '" << sim.scenario().params.name << "' (seed " << sim.scenario().params.seed
      << "): a " << size_text(j.bytes) << " " << (j.op == Op::read ? "read" : "write") << ", submitted by job '"
      << j.job << "'" << (j.first_cpu >= 0 ? " on vCPU " + std::to_string(j.first_cpu) : std::string()) << " at "
      << ms(j.submit_s) << ", completed at " << ms(j.complete_s) << ": " << us(latency) << ".\n\nIts path:\n";
  const auto& reg = Registry::builtin();
  int last_queue = -1, last_tag = -1;
  for (const auto& v : j.visits) {
    const ModelInfo* info = reg.find(v.type);
    out << "  +" << us(v.arrive_s - j.submit_s) << "  " << v.place << " (" << v.type << " '" << v.component << "'"
        << (info ? ": " + std::string(info->summary) : std::string()) << ")\n      ";
    if (v.queue >= 0 and v.queue != last_queue) // said where the request got it, not again at every later place
      out << "hardware queue " << v.queue
          << (j.first_cpu >= 0 ? " (the queue map sends vCPU " + std::to_string(j.first_cpu) + " there)"
                               : std::string())
          << ", ";
    if (v.tag >= 0 and v.tag != last_tag)
      out << "tag " << v.tag << ", ";
    last_queue  = v.queue;
    last_tag    = v.tag;
    double wait = v.start_s - v.arrive_s;
    out << (wait > 0 ? "waited " + us(wait) + " for a free server, slot or tag, then " : "taken at once, ")
        << (v.depart_s >= 0 ? "stayed " + us(v.depart_s - v.start_s) : "still there at the end") << ".\n";
  }
  out << "\nWhere the time went (each instant once, in the innermost place):\n"
      << table(breakdown(j), latency, "total (the request's latency)");
  return out.str();
}
} // namespace

std::string explain_request(Simulation& sim, const ExplainOptions& o)
{
  const std::string& file = sim.scenario().file;
  if (o.summary) {
    std::vector<std::pair<std::string, double>> sum;
    double latency_sum = 0;
    std::uint64_t n    = 0;
    double warmup      = sim.warmup_s();
    follow(
        sim, [warmup](const Request& r) { return r.submit_s >= warmup; },
        [&](Journey& j) {
          ++n;
          latency_sum += j.complete_s - j.submit_s;
          for (const auto& [label, s] : breakdown(j)) {
            const std::string& name = label; // clang 14 (the fuzz build) cannot capture a structured binding
            auto it = std::find_if(sum.begin(), sum.end(), [&](const auto& e) { return e.first == name; });
            if (it == sum.end())
              sum.emplace_back(label, s);
            else
              it->second += s;
          }
        });
    sim.run();
    if (n == 0)
      throw InputError(file, "", "no request completed after the warm-up: nothing to explain");
    for (auto& [label, s] : sum)
      s /= static_cast<double>(n);
    if (o.json) {
      json stages = json::array();
      for (const auto& [label, s] : sum)
        stages.push_back({{"stage", label}, {"mean_us", s * 1e6}});
      return json({{"scenario", sim.scenario().params.name},
                   {"requests", n},
                   {"mean_latency_us", latency_sum / static_cast<double>(n) * 1e6},
                   {"stages", stages}})
                 .dump(2) +
             "\n";
    }
    std::ostringstream out;
    out << "Where the time of the " << n << " requests completed after the warm-up went, on average (each instant "
        << "once, in the innermost place):\n"
        << table(sum, latency_sum / static_cast<double>(n), "mean latency");
    return out.str();
  }
  std::uint64_t target = o.request;
  bool chosen          = target != 0;
  bool seen            = false;
  Journey done;
  bool completed = false;
  double warmup  = sim.warmup_s();
  follow(
      sim,
      [&](const Request& r) {
        if (not chosen and r.submit_s >= warmup) {
          target = r.id;
          chosen = true;
        }
        seen = seen or (chosen and r.id == target);
        return chosen and r.id == target and not completed;
      },
      [&](Journey& j) {
        done      = j;
        completed = true;
      });
  sim.run();
  if (not chosen)
    throw InputError(file, "", "no request was submitted after the warm-up: nothing to explain");
  if (not completed)
    throw InputError(file, "--request",
                     "request " + std::to_string(target) +
                         (seen ? " did not complete before the end of the run"
                               : " was never submitted in this run (ids count every request from 1)"));
  std::string text = narrate(sim, target, done);
  if (o.json)
    return json({{"request", target}, {"text", text}}).dump(2) + "\n";
  return text;
}

} // namespace pvsim
