/* pvsim CPU scheduler "cfs": Linux's Completely Fair Scheduler as it was up to 6.5 (kernel/sched/fair.c), for the
 * threads of a KVM host (vCPU threads, vhost workers, IOThreads) or a Linux dom0. From 6.6 EEVDF replaced it (its
 * lag and deadlines are not modelled: a choice, said here). Facts, from fair.c (functions and tunables named):
 *  - each thread's virtual runtime grows by its CPU time x NICE_0_LOAD / weight (update_curr(), calc_delta_fair());
 *    weight 1024 at nice 0 (sched_prio_to_weight[]); the thread with the least vruntime runs (pick_next_entity());
 *  - its slice is its weight's share of the period: sched_latency (6 ms) while at most sched_nr_latency (8) threads
 *    are runnable per CPU, else that many x sched_min_granularity (0.75 ms) (sched_slice(), __sched_period()); the
 *    tunables scale by 1 + ilog2(min(CPUs, 8)) (get_update_sysctl_factor(), SCHED_TUNABLESCALING_LOG);
 *  - a slice is not cut below sched_min_granularity (check_preempt_tick());
 *  - a waking thread's vruntime is raised to min_vruntime less half of sched_latency if it slept long
 *    (place_entity() with GENTLE_FAIR_SLEEPERS), and it preempts the running thread whose vruntime exceeds its own
 *    by more than sched_wakeup_granularity (1 ms, scaled by the factor and by the waker's weight)
 *    (check_preempt_wakeup(), wakeup_preempt_entity(), wakeup_gran());
 *  - caps: CFS bandwidth control, a quota per cfs_period_us (100 ms by default) (tg_set_cfs_bandwidth(),
 *    default_cfs_period()).
 * Leaves out: per-CPU runqueues and load balancing (one queue per pool), the scheduler tick's granularity (slices end
 * when due, not at the next tick), cgroup hierarchies (a group is a flat weight per thread), EEVDF (6.6+). */
#include "sim/core_scheduler.hpp"

#include <algorithm>
#include <cmath>

namespace pvsim {
namespace {

constexpr double nice_0_load          = 1024;
constexpr double base_latency_s       = 6e-3;    // sysctl_sched_latency before the factor
constexpr double base_min_gran_s      = 0.75e-3; // sysctl_sched_min_granularity
constexpr double base_wakeup_gran_s   = 1e-3;    // sysctl_sched_wakeup_granularity
constexpr int sched_nr_latency        = 8;
constexpr double default_cap_period_s = 100e-3; // default_cfs_period(): 100 ms

class Cfs : public SchedPolicy {
public:
  Cfs(int cores, const SchedTunables& t)
      : factor_(linux_sysctl_factor(cores)),
        latency_s_(t.sched_latency_s > 0 ? t.sched_latency_s : base_latency_s * factor_),
        min_gran_s_(base_min_gran_s * factor_), wakeup_gran_s_(base_wakeup_gran_s * factor_),
        cap_period_s_(t.cap_period_s > 0 ? t.cap_period_s : default_cap_period_s)
  {
  }
  double default_weight() const override { return nice_0_load; }
  void enter(SchedEntity& se, const CoreScheduler&) override { se.key = min_vruntime_; }
  void charge(SchedEntity& se, double ran_s, const CoreScheduler&) override
  {
    se.key += ran_s * nice_0_load / se.weight;
  }
  bool before(const SchedEntity& a, const SchedEntity& b) const override { return a.key < b.key; }
  void before_pick(SchedEntity&, CoreScheduler&) override {}
  void on_wake(SchedEntity& se, const CoreScheduler& s) override
  {
    min_vruntime_ = std::max(min_vruntime_, s.lowest_runnable_key(se.key));
    se.key        = std::max(se.key, min_vruntime_ - latency_s_ / 2); // place_entity(), GENTLE_FAIR_SLEEPERS
  }
  double slice_s(const SchedEntity& se, const SchedEntity*, const CoreScheduler& s) const override
  {
    // Per CPU: the runnable threads and their weight spread over the pool's cores (what balancing aims at).
    double per_cpu = std::ceil(static_cast<double>(s.nr_runnable()) / s.cores());
    double period  = per_cpu > sched_nr_latency ? per_cpu * min_gran_s_ : latency_s_;
    double weight  = std::max(s.runnable_weight() / s.cores(), se.weight);
    return std::max(period * se.weight / weight, min_gran_s_);
  }
  bool preempts(const SchedEntity& waking, const SchedEntity& running, double) const override
  {
    return running.key - waking.key > wakeup_gran_s_ * nice_0_load / waking.weight;
  }
  double cap_period_s() const override { return cap_period_s_; }

private:
  double factor_;
  double latency_s_;
  double min_gran_s_;
  double wakeup_gran_s_;
  double cap_period_s_;
  double min_vruntime_ = 0;
};

PVSIM_REGISTER_SCHED_POLICY(SchedPolicyInfo{
    "cfs",
    "Linux CFS (up to 6.5): least vruntime runs, slices of sched_latency by weight, wake-up preemption past "
    "sched_wakeup_granularity, bandwidth caps per 100 ms",
    "kernel/sched/fair.c: update_curr(), sched_slice(), place_entity(), check_preempt_wakeup()",
    [](int cores, const SchedTunables& t) { return std::make_unique<Cfs>(cores, t); }});

} // namespace
} // namespace pvsim
