#include "sim/simulation.hpp"

#include <algorithm>

#include "sim/stop.hpp"

#include "sim/fifo_servers.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/input_error.hpp"
#include "sim/platform.hpp"
#include "sim/registry.hpp"
#include "sim/results.hpp"
#include "sim/scenario_groups.hpp"
#include "sim/version.hpp"

#include <map>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/NetZone.hpp>
#include <xbt/log.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace pvsim {

namespace {
enum SimEvent { end_of_warmup = 1, progress_tick = 2, sample_tick = 3 };
constexpr int progress_steps = 50;
constexpr std::size_t batch_histograms_above = 128; // see HistogramBatch::set_batching

double wall_now()
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
} // namespace

Simulation::Simulation(Scenario scenario) : scenario_(std::move(scenario))
{
  const auto& reg = Registry::builtin();
  for (const auto& decl : scenario_.components) {
    const ModelInfo* info = reg.find(decl.type);
    try {
      components_.push_back(info->build(decl.name, scenario_.component_node(decl.name)));
    } catch (const InputError& e) { // the template's path is shared by every copy: say which copy it was
      if (not scenario_.origins.contains(decl.name))
        throw;
      auto p            = scenario_.patched.find(decl.name);
      std::string where = p == scenario_.patched.end()
                              ? e.where()
                              : patched_pointer(e.where(), scenario_.origins.at(decl.name), p->second);
      throw InputError(e.file(), where, e.detail() + " (in its copy '" + decl.name + "')");
    }
  }
  wiring_ = std::make_unique<Wiring>(components_, scenario_.file);
  for (auto& c : components_)
    c->connect();
  for (auto& c : components_)
    c->validate();
}

Simulation::~Simulation() = default;

json Simulation::guest_reports(double now) const
{
  // Jobs name their guest in "vm" (job.fio, the network's flows): a guest's report merges its jobs'.
  // A guest with both disks and network flows also gets each kind apart ("block", "net"): an I/O's latency and a
  // packet's are not one distribution.
  struct Part {
    std::vector<std::string> jobs;
    LatencyHistogram latencies;
    std::uint64_t bytes = 0;
    double span_s       = 0;
    void add(const std::string& name, const JobStats& stats, double now)
    {
      jobs.push_back(name);
      latencies.merge(stats.latencies());
      bytes += stats.bytes();
      span_s = now - stats.window_start_s();
    }
    json report() const
    {
      return {{"jobs", jobs},
              {"requests", latencies.count()},
              {"iops", rate()},
              {"MBps", span_s > 0 ? static_cast<double>(bytes) / span_s / 1e6 : 0.0},
              {"latency_us", latency_summary_us(latencies)}};
    }
    double rate() const { return span_s > 0 ? static_cast<double>(latencies.count()) / span_s : 0.0; }
  };
  struct Guest {
    Part all;
    std::map<std::string, Part> by_kind;
  };
  std::map<std::string, Guest> guests;
  for (const auto& [name, stats] : job_stats_) {
    const Component* c = nullptr;
    for (const auto& comp : components_)
      if (comp->name() == name)
        c = comp.get();
    if (c == nullptr or not c->resolved_params().contains("vm") or not c->resolved_params()["vm"].is_string())
      continue;
    Guest& g = guests[c->resolved_params()["vm"].get<std::string>()];
    g.all.add(name, *stats, now);
    g.by_kind[c->workload_kind()].add(name, *stats, now);
  }
  if (guests.empty())
    return json::object();
  json out = json::object();
  std::vector<double> iops;
  for (const auto& [vm, g] : guests) {
    iops.push_back(g.all.rate());
    out[vm] = g.all.report();
    if (g.by_kind.size() > 1)
      for (const auto& [kind, part] : g.by_kind)
        out[vm][kind] = part.report();
  }
  return {{"per_guest", out}, {"fairness_jain_iops", jain_index(iops)}};
}

json Simulation::host_cpu_split(double now) const
{
  struct Split {
    double cores_s = 0, guest_s = 0, backend_s = 0, spin_s = 0, switch_s = 0;
  };
  auto report = [](const Split& sp, int cores) {
    double idle = std::max(0.0, sp.cores_s - sp.guest_s - sp.backend_s - sp.spin_s - sp.switch_s);
    auto frac   = [&](double x) { return sp.cores_s > 0 ? x / sp.cores_s : 0.0; };
    return json{{"cores", cores},
                {"core_s", sp.cores_s},
                {"guest_vcpus", frac(sp.guest_s)},
                {"backends", frac(sp.backend_s)},
                {"spinning", frac(sp.spin_s)},
                {"switching", frac(sp.switch_s)},
                {"idle", frac(idle)}};
  };
  double span = now - warmup_s();
  Split total;
  int total_cores = 0;
  json pools      = json::object();
  for (const auto& c : components_) {
    auto [cores, speed] = c->cpu_pool();
    if (cores == 0)
      continue;
    Split sp;
    sp.cores_s = span * cores;
    for (const CpuThread* t : c->cpu_threads()) {
      double spin = t->spin_s() / speed, sw = t->switch_s() / speed;
      double work = std::max(0.0, t->cpu_s() / speed - spin - sw);
      (t->role() == CpuThread::Role::guest_vcpu ? sp.guest_s : sp.backend_s) += work;
      sp.spin_s += spin;
      sp.switch_s += sw;
    }
    pools[c->name()] = report(sp, cores);
    total.cores_s += sp.cores_s;
    total.guest_s += sp.guest_s;
    total.backend_s += sp.backend_s;
    total.spin_s += sp.spin_s;
    total.switch_s += sp.switch_s;
    total_cores += cores;
  }
  if (total_cores == 0)
    return json::object();
  json out        = report(total, total_cores);
  out["per_pool"] = pools;
  out["note"]     = "fractions of the cores' time over the window; a hypercall's or an interrupt's CPU is in the "
                    "share of the thread that pays it (guest vCPU or backend)";
  return out;
}

json Simulation::resolved_scenario() const
{
  json out                 = json::object();
  out["pvsim"]             = scenario_.params.format;
  out["name"]              = scenario_.params.name;
  out["description"]       = scenario_.params.description;
  out["seed"]              = scenario_.params.seed;
  out["duration_s"]        = scenario_.params.duration_s;
  out["warmup_s"]          = scenario_.params.warmup_s;
  out["sample_interval_s"] = scenario_.params.sample_interval_s;
  json comps               = json::object();
  for (const auto& c : components_) {
    json p           = c->resolved_params();
    p["type"]        = c->type();
    comps[c->name()] = p;
  }
  out["components"] = comps;
  return out;
}

int Simulation::register_job()
{
  return next_job_id_++;
}

void Simulation::on_event(int kind, Request*)
{
  if (kind == sample_tick) {
    sample_events_++;
    series_t_.push_back(events_->now());
    for (std::size_t i = 0; i < sampled_.size(); ++i)
      series_[i].push_back(static_cast<double>(sampled_[i].second->occupancy().in_flight));
    events_->schedule_in(scenario_.params.sample_interval_s, this, sample_tick);
    return;
  }
  if (kind == progress_tick) {
    progress_events_++;
    double now  = events_->now();
    double frac = now / duration_s();
    double wall = wall_now() - wall_start_;
    std::fprintf(stderr, "\r[pvsim] %3.0f%% of %g s simulated, %.1f s wall, ETA %.1f s   ", frac * 100, duration_s(),
                 wall, frac > 0 ? wall * (1 - frac) / frac : 0.0);
    if (frac < 1)
      events_->schedule_in(duration_s() / progress_steps, this, progress_tick);
    else
      std::fprintf(stderr, "\n");
    return;
  }
  if (kind != end_of_warmup)
    return;
  double now = events_->now();
  for (auto& [n, s] : queue_stats_)
    s->restart(now);
  for (auto& [n, s] : job_stats_)
    s->restart(now);
  for (auto& c : components_)
    c->stats().restart(now);
  if (on_warmup_end_)
    on_warmup_end_(now);
}

double Simulation::actor_stack_bytes()
{
  return std::getenv("PVSIM_CONTEXTS") == nullptr ? actor_stack_kib * 1024.0 : 8192 * 1024.0;
}

ResourceEstimate Simulation::estimate_resources() const
{
  ResourceEstimate e;
  // The process itself (the binary, SimGrid, the scenario): measured at about 36 MiB resident on mm1.json.
  e.add("", "the process (pvsim, SimGrid, the scenario)", 40.0 * 1024 * 1024, 64.0 * 1024 * 1024);
  if (scenario_.params.sample_interval_s > 0) {
    std::size_t stations = 0;
    for (const auto& c : components_)
      stations += c->queues().size();
    double samples = (duration_s() - warmup_s()) / scenario_.params.sample_interval_s;
    e.add("", "time series (sample_interval)", samples * static_cast<double>(stations + 1) * sizeof(double), 0,
          "a longer sample_interval");
  }
  for (const auto& c : components_)
    c->estimate_resources(e);
  return e;
}

ResourceEstimate Simulation::check_resources() const
{
  ResourceEstimate e = estimate_resources();
  std::string source;
  std::optional<double> limit  = memory_limit_bytes(max_memory_bytes_, &source);
  std::optional<double> as_max = address_space_limit_bytes();
  bool over_memory             = limit and e.memory_bytes() > *limit;
  bool over_address            = as_max and e.address_bytes() > *as_max;
  if (not over_memory and not over_address)
    return e;
  auto top           = e.largest(1);
  std::string what   = over_memory
                           ? "needs about " + format_bytes(e.memory_bytes()) + " of memory, more than " +
                               format_bytes(*limit) + " (" + source + ")"
                           : "needs about " + format_bytes(e.address_bytes()) +
                               " of address space, more than the limit of " + format_bytes(*as_max) + " (ulimit -v)";
  std::string detail = e.to_text(duration_s());
  std::string where  = top.empty() or top[0].component.empty() ? "" : "/components/" + top[0].component;
  std::string advice = top.empty() or top[0].advice.empty() ? "" : "; to fit, lower " + top[0].advice;
  throw InputError(scenario_.file, where,
                   "this scenario " + what + advice + ".\n" + detail.substr(0, detail.size() - 1));
}

json Simulation::run()
{
  if (simgrid::s4u::Engine::has_instance())
    throw std::logic_error("one simulation per process: SimGrid keeps global state");
  check_resources();
  xbt_log_control_set("root.thresh:warning");
  int argc     = 1;
  char name[]  = "pvsim";
  char* argv[] = {name, nullptr};
  simgrid::s4u::Engine engine(&argc, argv);
  // Raw contexts are the fastest; sanitizer builds need thread contexts (PVSIM_CONTEXTS=thread).
  const char* contexts = std::getenv("PVSIM_CONTEXTS");
  simgrid::s4u::Engine::set_config(std::string("contexts/factory:") + (contexts ? contexts : "raw"));
  simgrid::s4u::Engine::set_config("network/model:CM02"); // exact link latencies (the default LV08 scales them)
  // Every CPU thread is an actor; its code (a work loop calling the models' handlers) needs little stack. SimGrid's
  // default, 8 MiB per actor, makes a 4096-vCPU guest ask for 32 GiB of address space and abort under a memory limit.
  if (contexts == nullptr) // thread contexts (sanitizers) keep SimGrid's default: ASan needs deeper stacks
    simgrid::s4u::Engine::set_config("contexts/stack-size:" + std::to_string(actor_stack_kib));
  auto* zone = simgrid::s4u::create_full_zone("pvsim");
  zone->create_host("sim", Platform::reference_flops); // SimGrid wants a host even when no model creates one
  Platform platform(zone, seed());
  for (auto& c : components_)
    c->build_platform(platform);
  zone->seal();

  events_ = std::make_unique<EventQueue>();
  for (auto& c : components_)
    c->start(*this);
  // With no actor sharing cores and no link's communications, SimGrid has nothing to do between pvsim's events.
  if (std::none_of(components_.begin(), components_.end(), [](const auto& c) { return c->uses_simgrid_activities(); }))
    events_->run_alone_until(duration_s());
  // Collectors connect once every model has started (some create their queues at start); no event has run yet.
  for (auto& c : components_) {
    for (const auto& q : c->queues())
      queue_stats_.emplace_back(
          q.name, std::make_unique<QueueStats>(q.station->probe(), q.station->servers(), histogram_batch_));
  }
  for (auto& c : components_)
    if (const auto* probe = c->job_probe()) {
      job_stats_.emplace_back(c->name(), std::make_unique<JobStats>(*probe, histogram_batch_));
      probe->connect([this](const JobEvent& ev) { last_completion_s_ = ev.t; });
    }
  // Some 2 KB of buckets each: past a few hundred histograms (a wide stack, many guests) they no longer stay in the
  // caches between two records, and batching the records lets their misses overlap.
  histogram_batch_.set_batching(queue_stats_.size() + 3 * job_stats_.size() > batch_histograms_above);
  for (const auto& fn : on_models_started_)
    fn();
  if (warmup_s() > 0)
    events_->schedule_at(warmup_s(), this, end_of_warmup);
  if (scenario_.params.sample_interval_s > 0) {
    for (auto& c : components_)
      for (const auto& q : c->queues())
        sampled_.emplace_back(q.name, q.station);
    series_.resize(sampled_.size());
    events_->schedule_at(warmup_s(), this, sample_tick);
  }
  if (progress_) {
    wall_start_ = wall_now();
    events_->schedule_in(duration_s() / progress_steps, this, progress_tick);
  }

  if (on_engine_ready_)
    on_engine_ready_();
  engine.run_until(duration_s());
  // Stopped early (sim/stop.hpp): the results are those of the time reached, not of the clock SimGrid ran on to.
  const double now = stop_requested() and events_->stopped_at_s() >= 0
                         ? std::min(events_->stopped_at_s(), simgrid::s4u::Engine::get_clock())
                         : simgrid::s4u::Engine::get_clock();

  json results;
  results["format"]           = "pvsim-results";
  results["format_version"]   = results_format_version;
  results["pvsim_version"]    = version;
  results["seed"]             = scenario_.params.seed;
  results["scenario_file"]    = scenario_.file;
  results["scenario"]         = resolved_scenario();
  results["simulated_time_s"] = now;
  results["window_s"]         = now - warmup_s();
  results["complete"]         = not stop_requested();
  if (stop_requested())
    results["stopped_by"] = stop_signal() == SIGINT ? "SIGINT" : stop_signal() == SIGTERM ? "SIGTERM" : "signal";
  json jobs = json::object();
  for (auto& [n, s] : job_stats_)
    jobs[n] = s->report(now);
  results["jobs"] = std::move(jobs); // moved, not copied: a wide host's results are large trees
  if (json guests = guest_reports(now); not guests.empty())
    results["guests"] = guests;
  if (json split = host_cpu_split(now); not split.empty())
    results["host_cpu"] = split;
  json queues = json::object();
  for (auto& [n, s] : queue_stats_)
    queues[n] = s->report(now);
  results["queues"] = std::move(queues);
  json details      = json::object();
  for (auto& c : components_) {
    json d = json::object();
    c->stats().write(d, StatWindow{warmup_s(), now});
    if (not d.empty())
      details[c->name()] = std::move(d);
  }
  json contention       = contention_of(details);
  results["components"] = std::move(details);
  if (not contention.empty())
    results["contention"] = std::move(contention);
  results["engine"] = {{"events", events_->events_run() - progress_events_ - sample_events_ - (warmup_s() > 0 ? 1 : 0)},
                       {"pending_events", events_->pending()},
                       {"requests_allocated", pool_.allocated()}};
  results["conservation"] = conservation();
  // A model that loses a wake-up leaves requests in flight with nothing left to happen: say so, and fail the run.
  // Stalled: requests in flight, no event due, no CPU thread awake, and no activity at all in the last quarter of the
  // run (the quarter covers SimGrid activities the engine does not see: a packet crossing a link as a Comm). Work
  // still under way at the end (events due later, threads busy on an oversubscribed host) is no stall, even if no
  // request completed yet: that is a run shorter than its start-up, and gets a warning.
  std::uint64_t in_flight = results["conservation"]["requests"]["jobs_in_flight"].get<std::uint64_t>();
  bool stalled            = not stop_requested() and in_flight > 0 and events_->pending() == 0 and
                 events_->awake_threads() == 0 and now - events_->last_activity_s() > duration_s() / 4;
  results["liveness"] = {
      {"last_completion_s", last_completion_s_}, {"last_activity_s", events_->last_activity_s()}, {"stalled", stalled}};
  if (not stalled and not stop_requested() and in_flight > 0 and last_completion_s_ == 0)
    results["liveness"]["warning"] = "no request completed in the " + std::to_string(duration_s()) +
                                     " s simulated: the start-up (negotiation, first submissions, queues filling) "
                                     "takes longer; lengthen the duration";
  if (not sampled_.empty()) {
    json qs = json::object();
    for (std::size_t i = 0; i < sampled_.size(); ++i)
      qs[sampled_[i].first] = series_[i];
    results["time_series"] = {{"interval_s", scenario_.params.sample_interval_s},
                              {"what", "requests in each queue (waiting and in service; ring slots in use)"},
                              {"t_s", series_t_},
                              {"queues", qs}};
  }
  // Threads (vCPUs, kthreads) still wait for work: end them inside the engine before it and their semaphores go.
  for (auto& actor : engine.get_all_actors())
    actor->kill();
  engine.run_until(simgrid::s4u::Engine::get_clock()); // (later than `now` after a stop)
  events_.reset();                                     // its armed timer belongs to this engine
  return results;
}

json Simulation::conservation() const
{
  json out   = json::object();
  bool ok    = true;
  json comps = json::object();
  auto entry = [&](const Occupancy& o) {
    bool good = o.issued == o.completed + o.in_flight;
    ok        = ok and good;
    return json{{"issued", o.issued}, {"completed", o.completed}, {"in_flight", o.in_flight}, {"ok", good}};
  };
  std::uint64_t jobs_in_flight = 0;
  for (const auto& c : components_) {
    if (auto o = c->occupancy()) {
      comps[c->name()] = entry(*o);
      if (c->is_source())
        jobs_in_flight += o->in_flight;
    }
    for (const auto& q : c->queues())
      comps[q.name] = entry(q.station->occupancy());
  }
  // Independent check: the requests the jobs hold in flight are exactly those the pool has handed out.
  bool pool_ok      = jobs_in_flight == pool_.outstanding();
  ok                = ok and pool_ok;
  out["components"] = comps;
  out["requests"]   = {{"jobs_in_flight", jobs_in_flight}, {"pool_outstanding", pool_.outstanding()}, {"ok", pool_ok}};
  out["ok"]         = ok;
  return out;
}

void require_conservation(const json& results)
{
  if (results.contains("liveness") and results["liveness"]["stalled"].get<bool>())
    throw std::runtime_error("the simulation stalled: requests are in flight but nothing is left to happen (last "
                             "activity at " +
                             results["liveness"]["last_activity_s"].dump() + " s, last completion at " +
                             results["liveness"]["last_completion_s"].dump() +
                             " s): a model lost a wake-up or a notification");
  if (results.at("conservation").at("ok").get<bool>())
    return;
  std::string bad;
  for (auto& [name, e] : results["conservation"]["components"].items())
    if (not e["ok"].get<bool>())
      bad += " " + name + " (issued " + e["issued"].dump() + ", completed " + e["completed"].dump() + ", in flight " +
             e["in_flight"].dump() + ")";
  if (not results["conservation"]["requests"]["ok"].get<bool>())
    bad += " request pool";
  throw std::runtime_error("request conservation violated:" + bad);
}

} // namespace pvsim
