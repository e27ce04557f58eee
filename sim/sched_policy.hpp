/* pvsim: what a hypervisor's or a host kernel's CPU scheduler decides, for CoreScheduler (sim/core_scheduler.hpp).
 *
 * A policy orders runnable threads (Xen credit2 by credit, Linux CFS by virtual runtime), charges a thread for the
 * CPU it ran, says how long a thread may run before the scheduler looks again, and whether a thread that wakes up
 * may take the core of one that runs (wake-up preemption). Policies are models of real schedulers and live in
 * models/host (sched_credit2.cpp, sched_cfs.cpp), registered by name (PVSIM_REGISTER_SCHED_POLICY). */
#pragma once

#include "sim/named_registry.hpp"

#include <functional>
#include <memory>
#include <string>

namespace pvsim {

class CoreScheduler;

/** A thread as the scheduler sees it. The scheduler owns these; the policy reads and writes `key` and `weight`. */
class SchedClient;

struct SchedEntity {
  enum class State { blocked, queued, running, parked };
  SchedClient* client = nullptr;
  int id              = 0; // order of arrival: ties between equal keys go to the lower id (runs are reproducible)
  std::string name;
  int group           = 0; // the domain / cgroup (its cap is shared by its threads)
  double weight       = 0; // the policy's unit (credit2 256 default, CFS 1024 for nice 0)
  double key          = 0; // credit2: credit in s (higher runs first); CFS: vruntime in s (lower runs first)
  State state         = State::blocked;
  int core            = -1; // while running
  double since_s      = 0;  // when it entered its state
  double charged_to_s = 0;  // running: the CPU it ran is charged up to this instant
  double slice_s      = 0;  // running: how long it may run from dispatch before the scheduler looks again
  double ran_s        = 0;  // running: CPU since dispatch
  double grabbed_s    = 0;  // capped group: budget taken from the group's pool for this run
};

class SchedPolicy {
public:
  virtual ~SchedPolicy() = default;
  /** Weight of a thread nobody gave one (credit2: CSCHED2_DEFAULT_WEIGHT; CFS: NICE_0_LOAD). */
  virtual double default_weight() const = 0;
  /** A thread joins the pool (initial credit / vruntime). */
  virtual void enter(SchedEntity& se, const CoreScheduler& s) = 0;
  /** The thread ran `ran_s` of CPU. */
  virtual void charge(SchedEntity& se, double ran_s, const CoreScheduler& s) = 0;
  /** True when `a` should run before `b` (ties are broken by the scheduler). */
  virtual bool before(const SchedEntity& a, const SchedEntity& b) const = 0;
  /** `next` is about to be picked (credit2 resets every credit when the best has none left). */
  virtual void before_pick(SchedEntity& next, CoreScheduler& s) = 0;
  /** A blocked thread wakes up (CFS places it near the queue's minimum vruntime). */
  virtual void on_wake(SchedEntity& se, const CoreScheduler& s) = 0;
  /** How long `se`, just dispatched, may run before the scheduler looks again; `next` is the best queued thread
   * (nullptr when none waits). */
  virtual double slice_s(const SchedEntity& se, const SchedEntity* next, const CoreScheduler& s) const = 0;
  /** Wake-up preemption: may `waking` take the core of `running` (charged up to now) right away? */
  virtual bool preempts(const SchedEntity& waking, const SchedEntity& running, double now_s) const = 0;
  /** The period over which a group's cap is a budget (credit2: CSCHED2_BDGT_REPL_PERIOD; CFS: cfs_period_us). */
  virtual double cap_period_s() const = 0;
};

/** Linux's get_update_sysctl_factor() with SCHED_TUNABLESCALING_LOG (kernel/sched/fair.c): its scheduler tunables
 * (CFS's latency and granularities, EEVDF's base slice) scale by 1 + ilog2(min(CPUs, 8)). */
inline double linux_sysctl_factor(int cpus)
{
  int n = cpus < 8 ? cpus : 8;
  int l = 0;
  while ((1 << (l + 1)) <= n)
    ++l;
  return 1.0 + l;
}

/** Knobs a cpu.host gives its scheduler; 0 means the policy's own default. */
struct SchedTunables {
  double ratelimit_s     = 0; // credit2: sched_ratelimit_us
  double sched_latency_s = 0; // CFS: sysctl_sched_latency (before the CPU-count factor: 0 = 6 ms x factor)
  double cap_period_s    = 0;
};

struct SchedPolicyInfo {
  std::string name;
  std::string summary;
  std::string source;
  /** Null for `fluid` (no discrete scheduler: SimGrid shares the cores as processor sharing). */
  std::function<std::unique_ptr<SchedPolicy>(int cores, const SchedTunables&)> make;
};

NamedRegistry<SchedPolicyInfo>& sched_policies();

struct SchedPolicyRegistrar {
  explicit SchedPolicyRegistrar(SchedPolicyInfo info) { sched_policies().add(std::move(info)); }
};

#define PVSIM_REGISTER_SCHED_POLICY_CAT2(a, b) a##b
#define PVSIM_REGISTER_SCHED_POLICY_CAT(a, b) PVSIM_REGISTER_SCHED_POLICY_CAT2(a, b)
#define PVSIM_REGISTER_SCHED_POLICY(...)                                                                               \
  static ::pvsim::SchedPolicyRegistrar PVSIM_REGISTER_SCHED_POLICY_CAT(sched_policy_registrar_, __LINE__)(__VA_ARGS__)

} // namespace pvsim
