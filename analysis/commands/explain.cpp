#include "analysis/commands/explain.hpp"

#include "sim/input_error.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <cstdio>
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
} // namespace

std::string explain_request(Simulation& sim, const ExplainOptions& o)
{
  std::uint64_t target = o.request;
  bool chosen          = target != 0;
  std::vector<Visit> visits;
  std::map<std::string, std::size_t> open; // place -> its visit not departed yet
  struct Done {
    bool done = false;
    std::string job;
    double submit_s = 0, complete_s = 0;
    Op op                = Op::read;
    std::uint32_t bytes  = 0;
    std::uint64_t offset = 0;
  } done;
  int first_cpu = -1;
  sim.on_models_started([&] {
    for (const auto& c : sim.components()) {
      for (const auto& q : c->queues()) {
        std::string place = q.name, component = c->name(), type = c->type();
        q.station->probe().connect([&, place, component, type](const StationEvent& ev) {
          if (not chosen and ev.what == StationEvent::What::arrive and ev.r->submit_s >= sim.warmup_s()) {
            target = ev.r->id;
            chosen = true;
          }
          if (not chosen or ev.r->id != target or done.done)
            return;
          if (first_cpu < 0)
            first_cpu = ev.r->cpu;
          if (ev.what == StationEvent::What::arrive) {
            open[place] = visits.size();
            visits.push_back({place, component, type, ev.t, -1, -1, ev.r->queue, ev.r->tag});
            return;
          }
          auto it = open.find(place);
          if (it == open.end())
            return;
          Visit& v = visits[it->second];
          if (ev.what == StationEvent::What::start) {
            v.start_s = ev.t;
            v.queue   = ev.r->queue;
            v.tag     = ev.r->tag;
          } else {
            v.depart_s = ev.t;
            if (v.start_s < 0)
              v.start_s = v.arrive_s;
            open.erase(it);
          }
        });
      }
      if (const auto* probe = c->job_probe()) {
        std::string job = c->name();
        probe->connect([&, job](const JobEvent& ev) {
          if (chosen and ev.r->id == target and not done.done)
            done = {true, job, ev.r->submit_s, ev.t, ev.r->op, ev.r->size_bytes, ev.r->offset};
        });
      }
    }
  });
  sim.run();
  const std::string& file = sim.scenario().file;
  if (not chosen)
    throw InputError(file, "", "no request was submitted after the warm-up: nothing to explain");
  if (not done.done)
    throw InputError(file, "--request",
                     "request " + std::to_string(target) +
                         (visits.empty() ? " was never submitted in this run (ids count every request from 1)"
                                         : " did not complete before the end of the run"));
  std::ostringstream out;
  double latency = done.complete_s - done.submit_s;
  out << "Request " << target << " of scenario '" << sim.scenario().params.name << "' (seed "
      << sim.scenario().params.seed << "): a " << size_text(done.bytes) << " "
      << (done.op == Op::read ? "read" : "write") << ", submitted by job '" << done.job << "'"
      << (first_cpu >= 0 ? " on vCPU " + std::to_string(first_cpu) : std::string()) << " at " << ms(done.submit_s)
      << ", completed at " << ms(done.complete_s) << ": " << us(latency) << ".\n\nIts path:\n";
  const auto& reg = Registry::builtin();
  int last_queue = -1, last_tag = -1;
  for (const auto& v : visits) {
    const ModelInfo* info = reg.find(v.type);
    out << "  +" << us(v.arrive_s - done.submit_s) << "  " << v.place << " (" << v.type << " '" << v.component << "'"
        << (info ? ": " + std::string(info->summary) : std::string()) << ")\n      ";
    if (v.queue >= 0 and v.queue != last_queue) // said where the request got it, not again at every later place
      out << "hardware queue " << v.queue
          << (first_cpu >= 0 ? " (the queue map sends vCPU " + std::to_string(first_cpu) + " there)" : std::string())
          << ", ";
    if (v.tag >= 0 and v.tag != last_tag)
      out << "tag " << v.tag << ", ";
    last_queue  = v.queue;
    last_tag    = v.tag;
    double wait = v.start_s - v.arrive_s;
    out << (wait > 0 ? "waited " + us(wait) + " for a free server, slot or tag, then " : "taken at once, ")
        << (v.depart_s >= 0 ? "stayed " + us(v.depart_s - v.start_s) : "still there at the end") << ".\n";
  }
  // Where the time went: every instant of [submit, complete] in the innermost place (the visit entered last).
  std::vector<double> cuts = {done.submit_s, done.complete_s};
  for (const auto& v : visits)
    for (double t : {v.arrive_s, v.start_s, v.depart_s})
      if (t >= done.submit_s and t <= done.complete_s)
        cuts.push_back(t);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<std::pair<std::string, double>> spent; // in order of first appearance
  auto add = [&spent](const std::string& label, double s) {
    for (auto& [l, t] : spent)
      if (l == label) {
        t += s;
        return;
      }
    spent.emplace_back(label, s);
  };
  double first_in = done.complete_s, last_out = done.submit_s;
  for (const auto& v : visits) {
    first_in = std::min(first_in, v.arrive_s);
    last_out = std::max(last_out, v.depart_s >= 0 ? v.depart_s : done.complete_s);
  }
  const std::string before  = "before the first place: submission on the job's vCPU";
  const std::string between = "between places: CPU work, notifications, interrupts";
  const std::string after   = "after the last place: response, interrupt, the job reaping it";
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    double a = cuts[i], b = cuts[i + 1], mid = (a + b) / 2;
    const Visit* inner = nullptr;
    bool waiting       = false;
    for (const auto& v : visits) {
      double end = v.depart_s >= 0 ? v.depart_s : done.complete_s;
      if (v.arrive_s <= mid and mid < end and (inner == nullptr or v.arrive_s >= inner->arrive_s)) {
        inner   = &v;
        waiting = mid < v.start_s;
      }
    }
    add(inner            ? inner->place + (waiting ? " (waiting)" : "")
        : mid < first_in ? before
        : mid > last_out ? after
                         : between,
        b - a);
  }
  out << "\nWhere the time went (each instant once, in the innermost place):\n";
  double total = 0;
  for (const auto& [label, s] : spent) {
    char line[200];
    std::snprintf(line, sizeof line, "  %-62s %10.1f us %6.1f %%\n", label.c_str(), s * 1e6,
                  latency > 0 ? 100 * s / latency : 0.0);
    out << line;
    total += s;
  }
  char line[200];
  std::snprintf(line, sizeof line, "  %-62s %10.1f us\n", "total (the request's latency)", total * 1e6);
  out << line;
  return out.str();
}

} // namespace pvsim
