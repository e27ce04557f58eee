#include "sim/trace_writer.hpp"

#include "sim/cpu_thread.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace pvsim {

struct TraceWriter::Place {
  std::string name;
  Lanes wait, service;
  std::uint64_t held = 0;
  std::map<std::uint64_t, double> started; // traced requests in service here: when they started
  std::size_t last_counter = SIZE_MAX;     // index of its last counter event in events_
  double last_counter_t    = -1;
};

struct TraceWriter::RingTrack {
  int pid                  = 0;
  int steps_tid            = 0;
  int order                = 0;
  std::uint32_t size       = 0; // slots
  RingIndices::Kind kind   = RingIndices::Kind::xen;
  std::size_t last_indices = SIZE_MAX, last_batch = SIZE_MAX;
  double last_indices_t = -1, last_batch_t = -1;
};

namespace {
/** Whole nanoseconds: a slice's end (ts + dur) and the next one's start then compare exactly once a viewer reads
 * them back as integer nanoseconds. */
long long ns(double s)
{
  return std::llround(s * 1e9);
}
double us(double s)
{
  return static_cast<double>(ns(s)) / 1e3;
}
} // namespace

TraceWriter::TraceWriter(const Simulation& sim, TraceOptions options) : sim_(sim), o_(options)
{
  o_.sample_every = std::max<std::uint64_t>(1, o_.sample_every);
}

TraceWriter::~TraceWriter() = default;

int TraceWriter::pid_of(const std::string& component)
{
  std::string process = "host";
  for (const auto& c : sim_.components())
    if (c->name() == component and c->resolved_params().contains("vm") and c->resolved_params()["vm"].is_string())
      process = c->resolved_params()["vm"].get<std::string>();
  auto it = pids_.find(process);
  if (it != pids_.end())
    return it->second;
  int pid = static_cast<int>(pids_.size()) + 1;
  pids_.emplace(process, pid);
  events_.push_back({{"ph", "M"},
                     {"name", "process_name"},
                     {"pid", pid},
                     {"tid", 0},
                     {"args", {{"name", process == "host" ? "host (VMM, backends, devices)" : "guest " + process}}}});
  events_.push_back({{"ph", "M"},
                     {"name", "process_sort_index"},
                     {"pid", pid},
                     {"tid", 0},
                     {"args", {{"sort_index", process == "host" ? 1000 : pid}}}});
  return pid;
}

void TraceWriter::connect_cpus(const Component& host, const std::vector<const CpuThread*>& threads)
{
  int pid = static_cast<int>(pids_.size()) + 1;
  pids_.emplace("cpus " + host.name(), pid);
  events_.push_back({{"ph", "M"},
                     {"name", "process_name"},
                     {"pid", pid},
                     {"tid", 0},
                     {"args", {{"name", "CPU work on " + host.name()}}}});
  events_.push_back(
      {{"ph", "M"}, {"name", "process_sort_index"}, {"pid", pid}, {"tid", 0}, {"args", {{"sort_index", 2000 + pid}}}});
  int order = 0;
  for (const CpuThread* t : threads) {
    int tid = next_tid_++;
    events_.push_back(
        {{"ph", "M"}, {"name", "thread_name"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", t->name()}}}});
    events_.push_back(
        {{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", pid}, {"tid", tid}, {"args", {{"sort_index", ++order}}}});
    t->batch_probe().connect([this, pid, tid](const CpuBatchEvent& ev) {
      if (ev.start_s < o_.from_s or ev.start_s >= o_.to_s)
        return;
      events_.push_back({{"ph", "X"},
                         {"name", "run"},
                         {"cat", "cpu"},
                         {"pid", pid},
                         {"tid", tid},
                         {"ts", us(ev.start_s)},
                         {"dur", static_cast<double>(std::max(0LL, ns(ev.end_s) - ns(ev.start_s))) / 1e3},
                         {"args", {{"items", ev.items}, {"cpu_us", ev.cost_s * 1e6}}}});
    });
  }
}

void TraceWriter::connect()
{
  for (const auto& c : sim_.components()) {
    if (auto threads = c->cpu_threads(); not threads.empty())
      connect_cpus(*c, threads);
    for (const auto& q : c->queues()) {
      auto p           = std::make_unique<Place>();
      p->name          = q.name;
      int pid          = pid_of(c->name());
      p->wait.pid      = pid;
      p->wait.label    = q.name + " waiting";
      p->service.order = next_order_++;
      p->wait.order    = next_order_++;
      p->service.pid   = pid;
      p->service.label = q.name;
      Place* place     = p.get();
      places_.push_back(std::move(p));
      q.station->probe().connect([this, place](const StationEvent& ev) {
        switch (ev.what) {
        case StationEvent::What::arrive:
          ++place->held;
          counter(*place, ev.t);
          break;
        case StationEvent::What::start:
          if (traced(ev.r)) {
            if (ev.t > ev.arrived_s)
              slice(ev.r->id, place->wait, ev.arrived_s, ev.t, place->name + " (waiting)", "request");
            place->started[ev.r->id] = ev.t;
          }
          break;
        case StationEvent::What::depart: {
          place->held -= place->held > 0 ? 1 : 0;
          counter(*place, ev.t);
          if (traced(ev.r)) {
            auto it      = place->started.find(ev.r->id);
            double start = it != place->started.end() ? it->second : ev.arrived_s;
            if (it != place->started.end())
              place->started.erase(it);
            slice(ev.r->id, place->service, start, ev.t, place->name, "request");
          }
          break;
        }
        }
      });
    }
    if (const auto* probe = c->path_probe()) {
      const Component* comp = c.get();
      probe->connect([this, comp](const PathEvent& ev) { path_step(*comp, ev); });
    }
    if (const auto* probe = c->job_probe()) {
      auto l       = std::make_unique<Lanes>();
      l->pid       = pid_of(c->name());
      l->label     = c->name() + " I/O";
      Lanes* lanes = l.get();
      jobs_.push_back(std::move(l));
      std::string job = c->name();
      probe->connect([this, lanes, job](const JobEvent& ev) {
        if (not traced(ev.r))
          return;
        slice(ev.r->id, *lanes, ev.r->submit_s, ev.t, job, "request");
        close(ev.r->id, ev.t);
      });
    }
  }
}

int TraceWriter::named_track(int pid, const std::string& name, int sort_index)
{
  int tid = next_tid_++;
  events_.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}});
  events_.push_back(
      {{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", pid}, {"tid", tid}, {"args", {{"sort_index", sort_index}}}});
  return tid;
}

TraceWriter::RingTrack& TraceWriter::ring_track(const Component& c, const std::string& ring)
{
  auto it = rings_.find(ring);
  if (it != rings_.end())
    return *it->second;
  auto t = std::make_unique<RingTrack>();
  // On the ring's own process (the place of that name, the frontend's), whichever end spoke first.
  t->pid    = pid_of(c.name());
  int order = next_order_++;
  for (const auto& p : places_)
    if (p->name == ring) {
      t->pid = p->service.pid;
      order  = p->service.order;
    }
  t->order     = order;
  t->steps_tid = named_track(t->pid, ring + " steps", order * 10000 + 9000);
  return *rings_.emplace(ring, std::move(t)).first->second;
}

void TraceWriter::counter_event(int pid, const std::string& name, double t, const json& args, std::size_t& last,
                                double& last_t)
{
  if (last != SIZE_MAX and last_t == t) { // several changes at one instant: the last counts
    events_[last]["args"] = args;
    return;
  }
  last   = events_.size();
  last_t = t;
  events_.push_back({{"ph", "C"}, {"name", name}, {"pid", pid}, {"tid", 0}, {"ts", us(t)}, {"args", args}});
}

void TraceWriter::path_step(const Component& c, const PathEvent& ev)
{
  // The counters within the window, every request; the steps of the traced requests until they complete, like
  // their slices.
  bool in_window = ev.t >= o_.from_s and ev.t <= o_.to_s;
  bool traced_r  = ev.r != nullptr and traced(ev.r);
  if (ev.ring == nullptr or not(in_window or traced_r))
    return;
  RingTrack& rt      = ring_track(c, *ev.ring);
  rt.size            = ev.idx.size;
  rt.kind            = ev.idx.kind;
  const auto& names  = RingIndices::names(ev.idx.kind);
  const auto& values = ev.idx.values();
  json indices       = json::object();
  for (std::size_t i = 0; i < names.size(); ++i)
    indices[names[i]] = values[i];
  if (in_window) {
    counter_event(rt.pid, *ev.ring + " indices", ev.t, indices, rt.last_indices, rt.last_indices_t);
    if (ev.what == PathEvent::What::request_taken)
      counter_event(rt.pid, *ev.ring + " backend pass", ev.t, {{"taken in this pass", ev.batch}}, rt.last_batch,
                    rt.last_batch_t);
  }
  if (not traced_r)
    return;
  json args = {{"request", ev.r->id}, {"slot", ev.slot}, {"component", c.name()}};
  if (ev.thread != nullptr)
    args["thread"] = ev.thread->name();
  // A push that decides whether to notify (a response whose backend signals later, per batch, decides nothing).
  bool push = ev.what == PathEvent::What::request_pushed or ev.what == PathEvent::What::signalled or
              (ev.what == PathEvent::What::response_pushed and not ev.signal_later);
  if (push)
    args["notified"] = ev.notified;
  if (ev.what == PathEvent::What::request_taken or ev.what == PathEvent::What::response_taken)
    args["nth in pass"] = ev.batch;
  if (ev.what == PathEvent::What::grants) {
    args["persistent grants"] = ev.persistent;
    args["grants mapped"]     = ev.mapped;
  }
  for (auto& [k, v] : indices.items())
    args[k] = v;
  std::string name = path_step_name(ev.what);
  if (push)
    name += ev.notified ? ", notified" : ", suppressed";
  else if (ev.signal_later)
    name += ", signalled later";
  events_.push_back({{"ph", "i"},
                     {"s", "t"},
                     {"name", name},
                     {"cat", "ring"},
                     {"pid", rt.pid},
                     {"tid", rt.steps_tid},
                     {"ts", us(ev.t)},
                     {"args", args}});
  if (not push or not ev.notified or ev.channel == nullptr)
    return;
  // The notification travels over the ring's event channel (or interrupt vector): an instant on its track.
  std::string channel =
      std::string(ev.channel) + (ev.channel_id >= 0 ? " " + std::to_string(ev.channel_id) : std::string());
  std::string key = std::to_string(rt.pid) + "/" + channel + "/" + *ev.ring;
  auto it         = channel_tracks_.find(key);
  if (it == channel_tracks_.end())
    it = channel_tracks_.emplace(key, named_track(rt.pid, channel + " (" + *ev.ring + ")", rt.order * 10000 + 9001))
             .first;
  events_.push_back(
      {{"ph", "i"},
       {"s", "t"},
       {"name", ev.what == PathEvent::What::request_pushed ? "notify the backend" : "notify the frontend"},
       {"cat", "notification"},
       {"pid", rt.pid},
       {"tid", it->second},
       {"ts", us(ev.t)},
       {"args", {{"request", ev.r->id}, {"ring", *ev.ring}}}});
}

bool TraceWriter::traced(const Request* r) const
{
  return r->id % o_.sample_every == 0 and r->submit_s >= o_.from_s and r->submit_s < o_.to_s;
}

int TraceWriter::lane(Lanes& l, double start_s, double end_s)
{
  for (auto& [tid, end] : l.lanes)
    if (end <= start_s) {
      end = end_s;
      return tid;
    }
  int tid = next_tid_++;
  l.lanes.emplace_back(tid, end_s);
  std::string name = l.label + (l.lanes.size() > 1 ? " #" + std::to_string(l.lanes.size()) : "");
  events_.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", l.pid}, {"tid", tid}, {"args", {{"name", name}}}});
  events_.push_back({{"ph", "M"},
                     {"name", "thread_sort_index"},
                     {"pid", l.pid},
                     {"tid", tid},
                     {"args", {{"sort_index", l.order * 10000 + static_cast<int>(l.lanes.size())}}}});
  return tid;
}

void TraceWriter::slice(std::uint64_t id, Lanes& l, double start_s, double end_s, const std::string& name,
                        const std::string& cat)
{
  int tid = lane(l, start_s, end_s);
  open_[id].push_back({l.pid, tid, start_s, end_s, name, cat});
}

void TraceWriter::counter(Place& p, double t)
{
  if (t < o_.from_s or t > o_.to_s)
    return;
  if (p.last_counter != SIZE_MAX and p.last_counter_t == t) { // several changes at one instant: the last counts
    events_[p.last_counter]["args"]["requests"] = p.held;
    return;
  }
  p.last_counter   = events_.size();
  p.last_counter_t = t;
  events_.push_back({{"ph", "C"},
                     {"name", p.name + " held"},
                     {"pid", p.service.pid},
                     {"tid", 0},
                     {"ts", us(t)},
                     {"args", {{"requests", p.held}}}});
}

void TraceWriter::close(std::uint64_t id, double now)
{
  auto it = open_.find(id);
  if (it == open_.end())
    return;
  std::vector<Slice> slices = std::move(it->second);
  open_.erase(it);
  // The job's slice encloses the others; in time order of start it comes first (ties: the longer one first).
  std::stable_sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) {
    return a.ts_s != b.ts_s ? a.ts_s < b.ts_s : a.end_s > b.end_s;
  });
  std::string rid = std::to_string(id);
  for (std::size_t i = 0; i < slices.size(); ++i) {
    const Slice& s = slices[i];
    double end     = std::min(s.end_s, now);
    events_.push_back({{"ph", "X"},
                       {"name", s.name},
                       {"cat", s.cat},
                       {"pid", s.pid},
                       {"tid", s.tid},
                       {"ts", us(s.ts_s)},
                       {"dur", static_cast<double>(std::max(0LL, ns(end) - ns(s.ts_s))) / 1e3},
                       {"args", {{"request", id}}}});
    if (slices.size() < 2)
      continue;
    const char* ph = i == 0 ? "s" : i + 1 == slices.size() ? "f" : "t";
    json flow      = {{"ph", ph},     {"name", "request " + rid}, {"cat", "request"}, {"id", id}, {"pid", s.pid},
                      {"tid", s.tid}, {"ts", us(s.ts_s)}};
    if (i > 0)
      flow["bp"] = "e";
    events_.push_back(std::move(flow));
  }
}

json TraceWriter::finish(double now)
{
  std::vector<std::uint64_t> ids;
  for (const auto& [id, s] : open_)
    ids.push_back(id);
  for (auto id : ids)
    close(id, now);
  json rings = json::object(); // what a ring picture needs besides the counters: the slots and the index names
  for (const auto& [name, rt] : rings_)
    rings[name] = {{"slots", rt->size},
                   {"kind", rt->kind == RingIndices::Kind::xen ? "xen" : "vring"},
                   {"indices", RingIndices::names(rt->kind)}};
  return {{"traceEvents", std::move(events_)},
          {"displayTimeUnit", "ns"},
          {"otherData",
           {{"scenario", sim_.scenario().params.name},
            {"seed", sim_.scenario().params.seed},
            {"window_s", {o_.from_s, o_.to_s}},
            {"sample_every", o_.sample_every},
            {"rings", rings}}}};
}

} // namespace pvsim
