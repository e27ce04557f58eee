/* pvsim: a discrete CPU scheduler for a pool of cores (cpu.host `scheduler`: credit2, cfs), in place of SimGrid's
 * processor sharing. Threads (sim/cpu_thread.hpp, in scheduled mode) ask for a core when work arrives (wake), give it
 * back when they run out of work (block), and are looked at again when their slice is over; a policy
 * (sim/sched_policy.hpp) orders them, charges them and decides wake-up preemption. What this adds to the fluid view:
 *  - a thread descheduled in the middle of its work holds whatever it holds for the rest of the other threads'
 *    slices: a lock (lock-holder preemption: its waiters spin on), a request half-processed;
 *  - a waiting thread's latency is the time until the scheduler lets it in (a slice, or a wake-up preemption), not a
 *    slowdown spread evenly over everyone;
 *  - weights (a domain's share) and caps (a group's budget per period: credit2's and CFS bandwidth control's).
 * All cores of the pool share one run queue (credit2's default runqueue per socket/LLC; CFS balances per-core queues:
 * a global queue is what load balancing tends to). A switch from one runnable thread to another on a core costs the
 * pool's context switch (CPU of the incoming thread); a thread that finds an idle core pays nothing.
 * Every decision happens in events: no actor, no SimGrid activity. Statistics: time runnable but not running
 * (Xen's "steal" as a guest sees it), wake-up preemptions, slice-end switches, time parked by a cap.
 * Leaves out: per-core queues and migration costs, SMT, affinity and pinning (cpu.host pools are the pinning),
 * the scheduler's own CPU, idle-state exit latencies, tick granularity (slices end exactly when due). */
#pragma once

#include "sim/event_queue.hpp"
#include "sim/sched_policy.hpp"
#include "sim/stats.hpp"

#include <deque>
#include <memory>
#include <vector>

namespace pvsim {

/** What the scheduler tells a thread. */
class SchedClient {
public:
  virtual ~SchedClient() = default;
  /** The thread has a core now; `switch_cost_s` of CPU goes to switching to it first. */
  virtual void dispatched(double switch_cost_s) = 0;
  /** The thread loses its core now (another thread's turn, or its group's cap): it keeps its work and state. */
  virtual void descheduled() = 0;
};

/** The scheduler's statistics, owned by the pool (cpu.host) that registers them. */
struct SchedStats {
  Sum wait_s;                 // time threads were runnable but had no core
  Counter wakeup_preemptions; // a waking thread took a running one's core
  Counter slice_switches;     // a slice ended and another thread got the core
  Sum parked_s;               // time threads could not run, their group's cap spent
};

class CoreScheduler : public EventTarget {
public:
  CoreScheduler(int cores, std::unique_ptr<SchedPolicy> policy, EventQueue& events, double switch_cost_s,
                Counter& switches, SchedStats& stats);
  CoreScheduler(const CoreScheduler&)            = delete;
  CoreScheduler& operator=(const CoreScheduler&) = delete;

  /** A thread joins the pool (blocked). `weight` 0: the policy's default. `group` shares `cap` (cores, 0 = none). */
  SchedEntity* add(SchedClient* client, std::string name, double weight, int group);
  /** Caps a group at `cores` of CPU (0.5 = half a core) averaged over the policy's period. */
  void set_cap(int group, double cores);

  /** A blocked thread has work: it runs on an idle core, takes a core by wake-up preemption, or queues. */
  void wake(SchedEntity& se);
  /** The running thread has nothing to run: its core takes the next queued thread, or idles. */
  void block(SchedEntity& se);
  /** The running thread's slice (or its group's budget) is over: it goes on, or yields its core to a better one. */
  void slice_expired(SchedEntity& se);
  /** How long the running thread may run from now before slice_expired() is due. */
  double left_s(SchedEntity& se);
  /** Charges the running thread up to now. */
  void update(SchedEntity& se);

  /** A group is capped: its threads are scheduled even when the pool has a core for each. */
  bool has_caps() const { return timer_armed_; }
  double now() const { return events_.now(); }
  int cores() const { return cores_; }
  const std::vector<std::unique_ptr<SchedEntity>>& entities() const { return entities_; }
  /** Runnable threads (running and queued) and their summed weight. */
  int nr_runnable() const { return nr_running_ + static_cast<int>(queue_.size()); }
  double runnable_weight() const { return runnable_weight_; }
  double max_weight() const { return max_weight_; }
  /** The lowest key among the running and queued threads (the policy decides what "lowest" means for it); `fallback`
   * when none is runnable. */
  double lowest_runnable_key(double fallback) const;

private:
  struct Group {
    double cap_cores = 0;
    double budget_s  = 0;
    std::vector<SchedEntity*> parked;
  };
  void on_event(int kind, Request* r) override; // the caps' replenishment timer
  /** Index of the best queued thread, or -1. */
  int best_queued() const;
  void enqueue(SchedEntity& se);
  SchedEntity* pop(int index);
  void dispatch(SchedEntity& se, int core, bool switching);
  /** Core `core` is free: it runs the best queued thread or idles. `switching`: it was running one a moment ago. */
  void pick(int core, bool switching);
  /** Takes back the running thread's core: it waits in the queue, or (`park`) until its group's budget comes back. */
  void take_core(SchedEntity& se, bool park);
  /** Frees the running thread's core (its state is the caller's to set). */
  int leave_core(SchedEntity& se);
  /** A thread becomes runnable (woken, or unparked): a core, a preemption, or the queue. */
  void make_runnable(SchedEntity& se);
  Group& group(int g);
  bool capped(const SchedEntity& se) const;
  void return_budget(SchedEntity& se);
  bool ordered(const SchedEntity& a, const SchedEntity& b) const; // a before b, ties to the lower id

  int cores_;
  std::unique_ptr<SchedPolicy> policy_;
  EventQueue& events_;
  double switch_cost_s_;
  Counter& switches_;
  std::vector<std::unique_ptr<SchedEntity>> entities_;
  std::vector<SchedEntity*> on_core_;      // per core: the running thread or nullptr
  std::vector<SchedEntity*> last_on_core_; // per core: the thread that ran there last
  std::vector<SchedEntity*> queue_;        // runnable, waiting for a core (scanned: pools are small)
  int nr_running_         = 0;
  double runnable_weight_ = 0;
  double max_weight_      = 0;
  std::vector<Group> groups_;
  bool timer_armed_ = false;
  SchedStats& stats_;
};

} // namespace pvsim
