/* pvsim: one simulation run, from a loaded scenario to its results.
 *
 * Construction builds every component through the registry, resolves and checks the wiring and runs each model's
 * validate(): nothing touches SimGrid until run(), so `pvsim check` and `pvsim graph` share this code without
 * starting an engine. run() creates the SimGrid engine (one per process: SimGrid keeps global state), starts the
 * models, runs until the scenario's duration and collects the results, including the conservation check. */
#pragma once

#include "sim/component.hpp"
#include "sim/event_queue.hpp"
#include "sim/request.hpp"
#include "sim/resource_estimate.hpp"
#include "sim/rng.hpp"
#include "sim/scenario.hpp"
#include "sim/statistics.hpp"
#include "sim/wiring.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pvsim {

class Simulation : public EventTarget {
public:
  /** Stack of each SimGrid actor (CPU threads, links' senders and receivers), KiB: SimGrid's default is 8192. */
  static constexpr int actor_stack_kib = 256;
  /** The stack each actor gets in this process: actor_stack_kib, or SimGrid's 8 MiB under thread contexts. */
  static double actor_stack_bytes();

  explicit Simulation(Scenario scenario);
  ~Simulation() override;

  const Scenario& scenario() const { return scenario_; }
  const Wiring& wiring() const { return *wiring_; }
  const std::vector<std::unique_ptr<Component>>& components() const { return components_; }

  /** The fully resolved scenario: every parameter with its default, in canonical units. */
  json resolved_scenario() const;

  /** Runs the simulation (once per process) and returns results.json's content. Refuses first (InputError naming
   * the component that dominates) a scenario whose estimate exceeds the memory available or the limits. */
  json run();

  /** The scenario's resource estimate: every component's, plus the engine's own. */
  ResourceEstimate estimate_resources() const;
  /** Lowers the memory a run may take (--max-memory), below what the machine has available. */
  void set_max_memory(std::optional<double> bytes) { max_memory_bytes_ = bytes; }
  /** The estimate, after throwing InputError when it exceeds the memory available, --max-memory or ulimit -v. */
  ResourceEstimate check_resources() const;

  // --- services for models (valid from start() on) ---------------------------------------------------------------
  EventQueue& events() { return *events_; }
  RequestPool& pool() { return pool_; }
  /** The random stream of a named entity. */
  Rng rng(const std::string& stream) const { return Rng(seed(), stream); }
  std::uint64_t seed() const { return static_cast<std::uint64_t>(scenario_.params.seed); }
  double duration_s() const { return scenario_.params.duration_s; }
  double warmup_s() const { return scenario_.params.warmup_s; }
  /** Jobs get a small integer id, stored in each request. */
  int register_job();

  void on_event(int kind, Request* r) override;
  /** Print the progress of the run on stderr (for terminals; does not change results). */
  void show_progress(bool on) { progress_ = on; }
  /** Runs once SimGrid's engine exists, before the first event (the command line installs its signal handlers there:
   * SimGrid's engine installs its own). */
  void on_engine_ready(std::function<void()> fn) { on_engine_ready_ = std::move(fn); }
  /** Runs at the end of the warm-up, right after every statistic restarted (`pvsim stats` checks there that nothing
   * kept what the warm-up counted). */
  void on_warmup_end(std::function<void(double now)> fn) { on_warmup_end_ = std::move(fn); }
  /** Runs once every model has started and the statistics are connected, before the first event: where other
   * collectors (the trace writer, explain) connect to the models' probes; each one registered runs, in order. */
  void on_models_started(std::function<void()> fn) { on_models_started_.push_back(std::move(fn)); }

private:
  std::optional<double> max_memory_bytes_;
  bool progress_ = false;
  std::function<void()> on_engine_ready_;
  std::function<void(double)> on_warmup_end_;
  std::vector<std::function<void()>> on_models_started_;
  std::uint64_t sample_events_ = 0;
  double last_completion_s_    = 0;
  std::vector<std::pair<std::string, const Station*>> sampled_;
  std::vector<double> series_t_;
  std::vector<std::vector<double>> series_;
  std::uint64_t progress_events_ = 0;
  double wall_start_             = 0;
  json conservation() const;
  /** results.json's "guests": per guest (the jobs naming it in "vm") IOPS, MB/s and latency over its jobs, and
   * Jain's fairness index of the guests' IOPS; empty when no job names a guest. */
  json guest_reports(double now) const;
  /** results.json's "host_cpu": the cores of every cpu.host over the window, split into guest vCPUs' work, backends'
   * work (kthreads, IOThreads, VMM threads), spinning and polling, context switches, and idle; in total and per pool.
   * Empty without a cpu.host. */
  json host_cpu_split(double now) const;
  Scenario scenario_;
  std::vector<std::unique_ptr<Component>> components_;
  std::unique_ptr<Wiring> wiring_;
  std::unique_ptr<EventQueue> events_;
  RequestPool pool_;
  int next_job_id_ = 0;
  HistogramBatch histogram_batch_; // before the collectors that use it: destroyed after them
  std::vector<std::pair<std::string, std::unique_ptr<QueueStats>>> queue_stats_;
  std::vector<std::pair<std::string, std::unique_ptr<JobStats>>> job_stats_;
};

/** Throws std::runtime_error when results["conservation"]["ok"] is false. */
void require_conservation(const json& results);

} // namespace pvsim
