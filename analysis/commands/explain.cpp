#include "analysis/commands/explain.hpp"

#include "sim/cpu_thread.hpp"
#include "sim/input_error.hpp"
#include "sim/path_event.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
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
  std::vector<PathEvent> steps; // inside the models: ring slot, notifications, the backend's pass, grants, interrupt
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
      if (const auto* probe = c->path_probe())
        probe->connect([journeys](const PathEvent& ev) {
          if (ev.r == nullptr)
            return;
          auto it = journeys->find(ev.r->id);
          if (it != journeys->end())
            it->second.steps.push_back(ev);
        });
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

/** What a request is doing after a step, until the next (on its ring, or between places). */
const char* phase_after(PathEvent::What w)
{
  switch (w) {
  case PathEvent::What::request_pushed:
    return "published, waiting for the backend to take it";
  case PathEvent::What::request_taken:
  case PathEvent::What::grants:
    return "taken by the backend, response not yet published";
  case PathEvent::What::response_pushed:
  case PathEvent::What::signalled:
    return "response published, waiting for the interrupt handler";
  case PathEvent::What::response_taken:
    return "response taken: completion, and the job reaping it on its vCPU";
  }
  return "";
}

/** The last step at or before t (on `ring`, or on any ring when ring is null), or null. */
const PathEvent* last_step(const Journey& j, double t, const std::string* ring)
{
  const PathEvent* last = nullptr;
  for (const auto& s : j.steps)
    if (s.t <= t and (ring == nullptr or (s.ring != nullptr and *s.ring == *ring)))
      last = &s;
  return last;
}

/** Where the time of [submit, complete] went: each instant in the innermost place (the visit entered last), in order
 * of first appearance; a ring's time split by the request's steps on it (published, with the backend, response
 * published), and the time between places by the last step before it. */
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
  for (const auto& s : j.steps)
    if (s.t >= j.submit_s and s.t <= j.complete_s)
      cuts.push_back(s.t);
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
    std::string label;
    if (inner != nullptr) {
      label = inner->place;
      if (const PathEvent* s = last_step(j, mid, &inner->place))
        label += ": " + std::string(phase_after(s->what));
      else if (waiting)
        label += " (waiting)";
    } else if (const PathEvent* s = last_step(j, mid, nullptr); s != nullptr and mid > first_in) {
      label = "between places: " + std::string(phase_after(s->what));
    } else {
      label = mid < first_in ? before_label : mid > last_out ? after_label : between_label;
    }
    add(label, b - a);
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
  char line[240];
  double sum = 0;
  for (const auto& [label, s] : spent) {
    std::snprintf(line, sizeof line, "  %-80s %10.1f us %6.1f %%\n", label.c_str(), s * 1e6,
                  latency > 0 ? 100 * s / latency : 0.0);
    out << line;
    sum += s;
  }
  std::snprintf(line, sizeof line, "  %-80s %10.1f us\n", total.c_str(), sum * 1e6);
  out << line;
  return out.str();
}

std::string ordinal(std::uint32_t n)
{
  const char* suffix = (n % 100 >= 11 and n % 100 <= 13) ? "th"
                       : n % 10 == 1                     ? "st"
                       : n % 10 == 2                     ? "nd"
                       : n % 10 == 3                     ? "rd"
                                                         : "th";
  return std::to_string(n) + suffix;
}

/** One step told as a sentence, with the ring's indices in its own vocabulary (Xen ring.h or virtio). */
std::string step_sentence(const PathEvent& s)
{
  const auto& n      = RingIndices::names(s.idx.kind);
  auto index         = [&](std::size_t i) { return std::string(n[i]) + " " + std::to_string(s.idx.values()[i]); };
  bool xen           = s.idx.kind == RingIndices::Kind::xen;
  const char* front  = xen ? "frontend" : "driver";
  const char* back   = xen ? "backend" : "device";
  std::string thread = s.thread != nullptr ? s.thread->name() : std::string("?");
  std::string ring   = s.ring != nullptr ? *s.ring : std::string("its ring");
  std::string channel;
  if (s.channel != nullptr)
    channel = std::string(s.channel) + (s.channel_id >= 0 ? " " + std::to_string(s.channel_id) : std::string());
  std::string over = channel.empty() ? "" : " over " + channel;
  std::string on   = channel.empty() ? "" : " on " + channel;
  std::ostringstream out;
  switch (s.what) {
  case PathEvent::What::request_pushed:
    out << "the " << front << " on " << thread << " put it in slot " << s.slot << " of " << ring
        << " and published it (" << index(0) << "). ";
    if (not s.idx.event_idx)
      out << (s.notified ? "Notifications were on, so it notified the " + std::string(back) + over + "."
                         : "The " + std::string(back) +
                               " had turned notifications off (VRING_USED_F_NO_NOTIFY) while "
                               "it takes requests: no notification" +
                               on + ".");
    else if (s.notified)
      out << "The push passed " << index(1) << ", so it notified the " << back << over << ".";
    else
      out << "The push did not pass " << index(1) << " (the " << back << ", at " << index(4)
          << ", had not asked to be notified again yet): no notification" << on << ", the " << back
          << " finds it on its own.";
    break;
  case PathEvent::What::request_taken:
    if (s.into_posted_buffer)
      out << "the " << back << "'s thread " << thread << " took a buffer the " << front << " had posted on " << ring
          << " (slot " << s.slot << ", " << index(4) << ") and copied it in, the " << ordinal(s.batch)
          << " packet of its pass.";
    else
      out << "the " << back << "'s thread " << thread << " took it off " << ring << ", the " << ordinal(s.batch)
          << " request of its pass (" << index(4) << ").";
    break;
  case PathEvent::What::grants:
    out << "its grants: " << s.persistent << " already mapped (persistent), " << s.mapped << " mapped now"
        << (s.mapped > 0 ? " (a map hypercall, unmapped when it ends unless kept)." : ".");
    break;
  case PathEvent::What::response_pushed:
    out << thread << " put the response in slot " << s.slot << " and published it (" << index(2) << ")";
    if (s.signal_later) {
      out << "; it signals the " << front << " once per batch of responses, later.";
      break;
    }
    out << ". ";
    [[fallthrough]];
  case PathEvent::What::signalled:
    if (s.what == PathEvent::What::signalled)
      out << thread << " signalled the responses it published since its last signal (" << index(2) << "). ";
    if (not s.idx.event_idx)
      out << (s.notified ? "Interrupts were on, so it notified the " + std::string(front) + over + "."
                         : "The " + std::string(front) +
                               " had turned interrupts off (VRING_AVAIL_F_NO_INTERRUPT) "
                               "while it takes responses: no notification" +
                               on + ".");
    else if (s.notified)
      out << (s.what == PathEvent::What::signalled ? "They passed " : "The push passed ") << index(3)
          << ", so it notified the " << front << over << ".";
    else
      out << (s.what == PathEvent::What::signalled ? "They did not pass " : "The push did not pass ") << index(3)
          << " (the " << front << ", at " << index(5)
          << ", is still taking responses or was already told): no notification" << on << ".";
    break;
  case PathEvent::What::response_taken:
    out << "the interrupt handler on " << thread
        << (channel.empty() ? "" : " (" + channel + (xen ? "'s upcall)" : "'s interrupt)"))
        << " took the response, the " << ordinal(s.batch) << " of its pass (" << index(5) << ").";
    break;
  }
  return out.str();
}

/** How busy `thread` was over [from, to] (CPU batches overlapping it), from its recorded batches. */
struct Busy {
  double busy_s       = 0;
  std::size_t batches = 0;
};

using BatchLog = std::map<const CpuThread*, std::deque<CpuBatchEvent>>;

Busy busy_between(const BatchLog& log, const CpuThread* thread, double from, double to)
{
  Busy b;
  auto it = log.find(thread);
  if (it == log.end())
    return b;
  for (const auto& e : it->second) {
    double overlap = std::min(e.end_s, to) - std::max(e.start_s, from);
    if (overlap > 0) {
      b.busy_s += overlap;
      ++b.batches;
    }
  }
  return b;
}

std::string narrate(const Simulation& sim, std::uint64_t id, const Journey& j, const BatchLog& log)
{
  std::ostringstream out;
  double latency = j.complete_s - j.submit_s;
  out << "Request " << id << " of scenario '" << sim.scenario().params.name << "' (seed " << sim.scenario().params.seed
      << "): a " << size_text(j.bytes) << " " << (j.op == Op::read ? "read" : "write") << ", submitted by job '"
      << j.job << "'" << (j.first_cpu >= 0 ? " on vCPU " + std::to_string(j.first_cpu) : std::string()) << " at "
      << ms(j.submit_s) << ", completed at " << ms(j.complete_s) << ": " << us(latency) << ".\n\nIts path:\n";
  // The submitting vCPU: the thread of the first push, if a model says it.
  const CpuThread* submitter = nullptr;
  for (const auto& s : j.steps)
    if (s.what == PathEvent::What::request_pushed) {
      submitter = s.thread;
      break;
    }
  double first_in = j.complete_s;
  for (const auto& v : j.visits)
    first_in = std::min(first_in, v.arrive_s);
  if (submitter != nullptr and first_in > j.submit_s) {
    Busy b = busy_between(log, submitter, j.submit_s, first_in);
    out << "  +" << us(0) << "  the job hands it to " << submitter->name() << ", which reaches the block layer after "
        << us(first_in - j.submit_s) << ": the vCPU ran " << us(b.busy_s) << " of work in that time (" << b.batches
        << (b.batches == 1 ? " batch" : " batches")
        << ": this request's submission and other requests' submissions and completions queued before "
           "it).\n";
  }
  // Places (at their arrival) and steps, in time order; a place first at a tie (it is where the step happens).
  std::vector<std::pair<double, std::string>> lines;
  const auto& reg = Registry::builtin();
  int last_queue = -1, last_tag = -1;
  for (const auto& v : j.visits) {
    std::ostringstream l;
    const ModelInfo* info = reg.find(v.type);
    l << "  +" << us(v.arrive_s - j.submit_s) << "  " << v.place << " (" << v.type << " '" << v.component << "'"
      << (info ? ": " + std::string(info->summary) : std::string()) << ")\n      ";
    if (v.queue >= 0 and v.queue != last_queue) { // said where the request got it, not again at every later place
      if (v.type == "blk_mq")
        l << "hardware queue " << v.queue
          << (j.first_cpu >= 0 ? " (the queue map sends vCPU " + std::to_string(j.first_cpu) + " there)"
                               : std::string())
          << ", ";
      else
        l << "queue " << v.queue << ", ";
    }
    if (v.tag >= 0 and v.tag != last_tag)
      l << "tag " << v.tag << ", ";
    last_queue  = v.queue;
    last_tag    = v.tag;
    double wait = v.start_s - v.arrive_s;
    l << (wait > 0 ? "waited " + us(wait) + " for a free server, slot or tag, then " : "taken at once, ")
      << (v.depart_s >= 0 ? "stayed " + us(v.depart_s - v.start_s) : "still there at the end") << ".\n";
    lines.emplace_back(v.arrive_s, l.str());
  }
  for (const auto& s : j.steps)
    lines.emplace_back(s.t, "  +" + us(s.t - j.submit_s) + "    " + step_sentence(s) + "\n");
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [t, text] : lines)
    out << text;
  // After the response: the completion, and the job reaping it on its own vCPU.
  const PathEvent* taken = last_step(j, j.complete_s, nullptr);
  if (submitter != nullptr and taken != nullptr and taken->what == PathEvent::What::response_taken) {
    Busy b = busy_between(log, submitter, taken->t, j.complete_s);
    out << "  +" << us(j.complete_s - j.submit_s) << "  the job reaped it on " << submitter->name() << ", "
        << us(j.complete_s - taken->t) << " after the response was taken: the vCPU ran " << us(b.busy_s)
        << " of work in that time (" << b.batches << (b.batches == 1 ? " batch" : " batches")
        << ": the completion, this reap and other requests' work).\n";
  }
  out << "\nWhere the time went (each instant once, in the innermost place"
      << (j.steps.empty() ? "" : "; a ring's time split by the request's steps on it") << "):\n"
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
  // Every CPU thread's batches, to say how busy the submitting vCPU was: a sliding window until the request is
  // chosen (at its first place), then everything from its submission on, until it completes.
  auto log         = std::make_shared<BatchLog>();
  double keep_from = -1;
  sim.on_models_started([&sim, log, &keep_from, &completed] {
    for (const auto& c : sim.components())
      for (const CpuThread* t : c->cpu_threads())
        t->batch_probe().connect([log, t, &keep_from, &completed](const CpuBatchEvent& ev) {
          if (completed)
            return;
          auto& q        = (*log)[t];
          double horizon = keep_from >= 0 ? keep_from : ev.end_s - 0.05; // 50 ms before a request is chosen
          while (not q.empty() and q.front().end_s < horizon)
            q.pop_front();
          q.push_back(ev);
        });
  });
  follow(
      sim,
      [&](const Request& r) {
        if (not chosen and r.submit_s >= warmup) {
          target = r.id;
          chosen = true;
        }
        seen = seen or (chosen and r.id == target);
        if (chosen and r.id == target and keep_from < 0)
          keep_from = r.submit_s;
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
  std::string text = narrate(sim, target, done, *log);
  if (o.json)
    return json({{"request", target}, {"text", text}}).dump(2) + "\n";
  return text;
}

} // namespace pvsim
