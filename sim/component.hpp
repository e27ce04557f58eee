/* pvsim: the base of every model, and its fixed lifecycle.
 *
 *   build     the registry parses the model's Params and constructs it (no SimGrid call yet)
 *   connect   ports (references to other components, by name) are resolved by the wiring
 *   validate  the model checks what it needs of its neighbours (InputError on a problem)
 *   start     the simulation exists: the model schedules its first events, creates its actors
 *   report    the engine writes the statistics the model declared in stats() (sim/stats.hpp) into the results,
 *             after restarting them all at the end of the warm-up: a model has no reset or report code of its own
 *
 * On the request path a component accepts requests with submit() and hears of the completion of those it pushed
 * an end_io frame for with end_io(). */
#pragma once

#include <limits>
#include <utility>

#include "sim/event_queue.hpp"
#include "sim/json_node.hpp"
#include "sim/request.hpp"
#include "sim/station.hpp"
#include "sim/stats.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pvsim {

class CpuThread;

class ResourceEstimate;

class Simulation;
class Platform;
class Station;
struct JobEvent;
struct PathEvent;
template <class Event>
class Probe;

/** A queue inside a component, exposed for per-queue statistics and conservation ("disk", "nullb0.hctx1"). */
struct QueueView {
  std::string name;
  const Station* station;
};

struct Port {
  std::string name;   // the parameter that names the target ("target", "next")
  std::string target; // component name, "" when an optional port is unset
  bool required       = false;
  Component* resolved = nullptr;
  /** A resource (the CPUs a thread runs on, the VM a job runs in) rather than a hop of the request path: not part
   * of the request-path checks, drawn dashed. */
  bool resource = false;
};

class Component : public EventTarget {
public:
  Component(std::string name, std::string type) : name_(std::move(name)), type_(std::move(type)) {}
  ~Component() override                  = default;
  Component(const Component&)            = delete;
  Component& operator=(const Component&) = delete;

  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }

  // --- lifecycle -------------------------------------------------------------------------------------------------
  /** Before the simulated platform is sealed: components that are physical resources (CPUs) create them here. */
  virtual void build_platform(Platform& /*platform*/) {}
  /** Ports are resolved; take typed pointers to neighbours here. */
  virtual void connect() {}
  /** Cross-component checks; throw InputError (use fail()). */
  virtual void validate() {}
  /** What the model will hold when it runs (requests it may keep in flight, its actors' stacks) and a ceiling on the
   * requests it issues per simulated second, from its parameters and wiring; called after validate(), before start(),
   * so a scenario that cannot fit is refused before it takes the memory (sim/resource_estimate.hpp). */
  virtual void estimate_resources(ResourceEstimate& /*estimate*/) const {}
  /** Create actors, take services from the simulation, schedule first events; submit no request here (the
   * other components may not have started yet): sources send their first requests from an event. */
  virtual void start(Simulation& sim) = 0;
  /** The model's statistics: declared once, restarted and written by the engine. */
  StatSet& stats() { return stats_; }
  const StatSet& stats() const { return stats_; }

  // --- request path ----------------------------------------------------------------------------------------------
  /** Does this component accept requests from upstream? */
  virtual bool accepts_requests() const { return true; }
  /** Is this a workload (a job) that originates requests? */
  virtual bool is_source() const { return false; }
  /** Can a request end here (a device, a station without a next hop)? */
  virtual bool can_complete() const { return false; }
  virtual void submit(Request* r);
  /** A request this component pushed a frame for has completed downstream; `enter_s` is when it entered. */
  virtual void end_io(Request* r, double enter_s);
  void on_event(int /*kind*/, Request* /*r*/) override {}

  /** Request-holding components report their counters; others return nullopt. */
  virtual std::optional<Occupancy> occupancy() const { return std::nullopt; }
  /** The queueing stations inside this component. */
  virtual std::vector<QueueView> queues() const { return {}; }
  /** When the component exists in the system (hot-plug: device_add at the first, device_del at the second time,
   * in simulated seconds; infinity: never removed). Jobs check that their path is there while they run. */
  virtual std::pair<double, double> plugged() const { return {0.0, std::numeric_limits<double>::infinity()}; }
  /** The threads whose cores this component provides (cpu.host: every vCPU, kthread, IOThread placed on it). */
  virtual std::vector<const CpuThread*> cpu_threads() const { return {}; }
  /** A pool of cores (cpu.host): how many, and their speed relative to the reference core the CPU costs are given
   * for; {0, 1} for anything else. */
  virtual std::pair<int, double> cpu_pool() const { return {0, 1.0}; }
  /** Needs SimGrid's own scheduling once started (actors sharing cores, communications on links): then the event
   * queue hands control back to SimGrid between instants; otherwise it runs alone (EventQueue::run_alone_until). */
  virtual bool uses_simgrid_activities() const { return false; }
  /** A job source's requests, for the per-guest reports: "block" I/Os, or "net" packets (net.flow). */
  virtual const char* workload_kind() const { return "block"; }
  /** Jobs publish their completions here. */
  virtual const Probe<JobEvent>* job_probe() const { return nullptr; }
  /** A model with a shared ring publishes its requests' steps there (ring slot and indices, notifications, the
   * backend's passes, grants, interrupts: sim/path_event.hpp), for the trace and `pvsim explain`. */
  virtual const Probe<PathEvent>* path_probe() const { return nullptr; }

  // --- wiring ----------------------------------------------------------------------------------------------------
  void add_port(Port p) { ports_.push_back(std::move(p)); }
  std::vector<Port>& ports() { return ports_; }
  const std::vector<Port>& ports() const { return ports_; }
  /** The component a port is connected to, or nullptr. */
  Component* port(const std::string& port_name) const;

  /** The model's parameters after parsing, with defaults, in canonical units (for results.json). */
  void set_resolved_params(json p) { resolved_params_ = std::move(p); }
  const json& resolved_params() const { return resolved_params_; }
  /** Where this component was declared (for validate() errors). */
  void set_origin(std::string file, std::string pointer)
  {
    origin_file_    = std::move(file);
    origin_pointer_ = std::move(pointer);
  }
  const std::string& origin_file() const { return origin_file_; }
  const std::string& origin_pointer() const { return origin_pointer_; }
  [[noreturn]] void fail(const std::string& what, const std::string& key = "") const;

private:
  std::string name_;
  std::string type_;
  std::vector<Port> ports_;
  StatSet stats_;
  json resolved_params_;
  std::string origin_file_;
  std::string origin_pointer_;
};

} // namespace pvsim
