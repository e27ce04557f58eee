/* pvsim model "cpu.host": a pool of physical CPU cores (a host's pCPUs, the cores given to dom0, a KVM host's cores)
 * as one SimGrid host. Threads placed on it (vCPUs, backend kthreads, IOThreads) share its cores: with more runnable
 * threads than cores each gets its fair share, so oversubscription shows as longer CPU work.
 * Models: core count, relative speed, the context switch a thread pays when it starts work while every core is
 * busy (more runnable threads than cores), and preemption by work outside the model (the host's other tasks, the
 * hypervisor below a nested guest, a noisy neighbour): a running thread loses its core at `preempt_rate` per second
 * of its CPU time and waits `preempt_duration` for it, with whatever it was doing. That is what puts a few-millisecond
 * tail on every request that is in flight when the thread serving it is preempted, at any depth.
 * Caches: the pool's cores are split evenly over `sockets`; a cache line written on one core and then on another
 * moves between them at line_transfer (same socket) or line_transfer_remote (sim/cache_line.hpp), which is what
 * lock words and ring indices cost when several threads write them. Threads are placed on the cores in the order
 * they start (the k-th on core k mod cores), and socket s of one pool is socket s of the others.
 * Scheduling (`scheduler`): with more threads than cores, `fluid` (the default, kept for the scenarios calibrated with
 * it) shares the cores as processor sharing (every runnable thread runs slower, none waits whole slices);
 * `credit2` (Xen, models/host/sched_credit2.cpp) and `cfs` (Linux up to 6.5, models/host/sched_cfs.cpp) run a
 * discrete scheduler (sim/core_scheduler.hpp): whole time slices, wake-up preemption, weights and caps per domain
 * (guest.vm sched_weight, sched_cap_percent), so that a lock holder or a half-done request can wait a slice.
 * Leaves out: per-core pinning inside the pool beyond that order (make several pools), SMT, cache capacity,
 * preemption of a sleeping thread's wake-up. */
#pragma once

#include "sim/component.hpp"
#include "sim/core_scheduler.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/params.hpp"

#include <map>
#include <memory>

namespace simgrid::s4u {
class Host;
}

namespace pvsim {

struct CpuHostParams {
  long long cores;
  long long sockets;
  double line_transfer_s;
  double line_transfer_remote_s;
  double speed_factor;
  double context_switch_s;
  double timeslice_s;
  double preempt_rate_hz;
  Distribution preempt_duration;
  std::string scheduler;
  double sched_ratelimit_s;
  double sched_latency_s;
  double cap_period_s;
};

/** How the pool's scheduler treats a thread: its domain (a guest; by default the component that owns the thread),
 * weight (0: the scheduler's default) and the domain's cap (cores; 0: none). */
struct SchedAttrs {
  std::string domain;
  double weight    = 0;
  double cap_cores = 0;
};

class CpuHost : public Component {
public:
  static constexpr const char* type_name = "cpu.host";
  static constexpr const char* summary   = "Physical CPU cores shared by the threads placed on them.";
  using Params                           = CpuHostParams;
  static const ParamTable<Params>& param_table();

  CpuHost(std::string name, const Params& p);
  bool accepts_requests() const override { return false; }
  void build_platform(Platform& platform) override;
  void start(Simulation&) override {}

  simgrid::s4u::Host* host() const { return host_; }
  int cores() const { return static_cast<int>(p_.cores); }
  /** What moving a written cache line between two of the machine's cores costs. */
  LineCost line_cost() const { return {p_.line_transfer_s, p_.line_transfer_remote_s}; }
  /** Starts a thread on these cores (at simulation start); its CPU time counts in the pool's utilisation, and its
   * statistics restart with the pool's. */
  void run(CpuThread& thread, EventQueue& events, const SchedAttrs& attrs = {});
  /** The discrete scheduler's name ("fluid": none). */
  const std::string& scheduler() const { return p_.scheduler; }
  void validate() override;
  /** Fluid sharing of more threads than cores runs them as SimGrid actors sharing the cores. */
  bool uses_simgrid_activities() const override
  {
    return sched_ == nullptr and threads_.size() > static_cast<std::size_t>(p_.cores);
  }

  /** The cpu.host a resource port names, or an InputError naming the port. */
  static CpuHost& from_port(const Component& owner, const std::string& port);

private:
  void declare_stats();
  /** CPU time the threads consumed, in seconds of these cores. */
  double threads_cpu_s() const;
  std::vector<const CpuThread*> cpu_threads() const override { return threads_; }
  std::pair<int, double> cpu_pool() const override { return {static_cast<int>(p_.cores), p_.speed_factor}; }
  /** The threads' summed statistic (CPU seconds, preemptions...). */
  template <class T>
  T sum_over_threads(T (CpuThread::*stat)() const) const
  {
    T sum{};
    for (const auto* t : threads_)
      sum += (t->*stat)();
    return sum;
  }

  Params p_;
  simgrid::s4u::Host* host_ = nullptr;
  int first_core_           = 0; // machine-wide number of the pool's first core
  std::vector<const CpuThread*> threads_;
  CoreLoad load_;
  std::unique_ptr<CoreScheduler> sched_; // made at the first thread, when the event queue is known
  SchedStats sched_stats_;
  std::map<std::string, int> domains_; // domain -> the scheduler's group
};

} // namespace pvsim
