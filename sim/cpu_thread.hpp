/* pvsim: a thread of execution that consumes CPU time: a guest vCPU, a backend kernel thread, a QEMU IOThread.
 *
 * Other components post work to it: {CPU cost, what to do once done}. One SimGrid actor per thread runs the work
 * in FIFO order on its host (physical cores shared with every other thread there, so oversubscription shows):
 * it takes the pending items up to a CPU quantum, executes their summed cost as one SimGrid Exec, then runs their
 * continuations. Batching is what real threads do when work piles up (a vCPU handling several completions in one
 * interrupt, a kthread draining a ring), and it keeps the cost of the actor switch per batch, not per request.
 * The continuations run in the actor's context: they may post work, schedule events and submit requests, never
 * block; what they post_next() to their own thread runs before the work others queued. Leaves out: preemption inside a
 * batch (its work finishes together, at most one quantum late), priorities between kinds of work (interrupts wait
 * behind job work already taken in the batch). With more busy threads than cores, waking up on a fully busy host, or
 * running a whole time slice there, costs a context switch (CoreLoad). Preemption by work outside the model
 * (Preemption): a running thread loses its core at a rate per second of CPU time it runs (memoryless: exponential CPU
 * time between losses) and gets it back after a drawn duration; the work it was running, and everything queued behind
 * it, waits that long. A thread that sleeps is never preempted. A thread may have a second source of its own (a guest's
 * background tasks on its vCPU: set_own_preemption), drawn independently and added to the pool's.
 * Spinlocks (sim/spin_lock.hpp): work posted with a lock is a critical section. A batch never mixes work under a lock
 * with other work, so the lock is taken when its first item starts and let go when the last of a run of items under
 * it ends (a continuation that posts more work under the same lock with post_next keeps holding it: the notify
 * hypercall inside blkfront's ring_lock). A thread that finds the lock held spins: its work waits, its CPU is
 * burned (counted in cpu_s), and in direct mode nothing else runs on it meanwhile (spinning with interrupts off).
 * In actor mode (more threads than cores) a spinning thread takes its share of the cores like running work, so
 * spinners slow the lock's holder down (processor sharing: the fluid view of time slices).
 * With the pool's fluid sharing, a holder is never descheduled for a whole time slice: the loss is spread over time.
 * Scheduled mode (a discrete scheduler on the pool, sim/core_scheduler.hpp, when threads outnumber cores or a group
 * is capped): the thread asks for a core when work arrives and runs its batch in segments that end with the batch or
 * the slice; a preempted thread keeps its half-done batch and whatever lock it holds (lock-holder preemption), a
 * descheduled waiter keeps its place in the lock's queue and may be handed the lock while off its core (lock-waiter
 * preemption); a paravirtual waiter past the threshold gives its core back until kicked. No actor, no Exec.
 * Idle wake-up (IdleWake, set_idle_wake): a thread that ran out of work may take time to run again when work comes,
 * beyond its CPU: a guest's vCPU that halted and whose host thread KVM blocked (guest.vm). Direct mode only: a thread
 * in actor or scheduled mode starts as soon as it has a core. */
#pragma once

#include "sim/stats.hpp"

#include "sim/cache_line.hpp"
#include "sim/core_scheduler.hpp"
#include "sim/distribution.hpp"
#include "sim/event_queue.hpp"
#include "sim/probe.hpp"
#include "sim/request.hpp"
#include "sim/ring_queue.hpp"
#include "sim/rng.hpp"
#include "sim/spin_lock.hpp"
#include "sim/time_average.hpp"

#include <simgrid/s4u/Semaphore.hpp>

#include <memory>
#include <string>

namespace simgrid::s4u {
class Host;
}

namespace pvsim {

/** A batch of work a thread ran: from its start (the core taken, or the lock) to its end, its CPU cost and items. */
struct CpuBatchEvent {
  double start_s;
  double end_s;
  double cost_s;
  std::size_t items;
};

/** The host's cores taken away from its threads by work the model does not simulate (the host's other tasks, a
 * hypervisor below, a noisy neighbour): rate_hz per second of a thread's CPU time, each loss lasting `duration`. */
struct Preemption {
  double rate_hz        = 0; // 0: never
  Distribution duration = Distribution::deterministic(0);
  std::uint64_t seed    = 1;
};

/** The cores a set of threads share, as the threads see them. When a thread wakes up while every core is busy, or
 * has run a full time slice while others wait, the scheduler switches threads on a core, which costs switch_cost_s
 * of CPU (context switch, cache refill). */
struct CoreLoad {
  int cores            = 1;
  int threads          = 0; // threads placed on these cores
  int running          = 0;
  double switch_cost_s = 0;
  double timeslice_s   = 3e-3;
  double speed_factor  = 1; // the cores' speed relative to the reference core that costs are given for
  Counter switches;         // the cores' owner (cpu.host) registers it
  Preemption preemption;
  /** A discrete scheduler (credit2, cfs) in place of SimGrid's processor sharing, when the pool has one. */
  CoreScheduler* scheduler = nullptr;
};

class CpuThread;

/** What a thread that has been idle takes to start running again, beyond its CPU: asked once per idle period, when the
 * first work comes (the thread's owner answers: guest.vm's halted vCPUs). */
class IdleWake {
public:
  virtual ~IdleWake() = default;
  /** The delay before `t`, idle for `idle_s`, starts on the work that just came. */
  virtual double wake_delay(const CpuThread& t, double idle_s) = 0;
};

class alignas(64) CpuThread : public EventTarget, public LockWaiter, public SchedClient {
public:
  CpuThread(std::string name, double quantum_s) : quantum_s_(quantum_s), name_(std::move(name)) {}
  CpuThread(const CpuThread&)            = delete;
  CpuThread& operator=(const CpuThread&) = delete;

  const std::string& name() const { return name_; }
  /** Places the thread on `host` (at simulation start; its actor, if its mode needs one, is created at its first
   * post, once every thread of the host is known); `load` is shared by the threads of that host. */
  void start(simgrid::s4u::Host* host, CoreLoad* load, EventQueue& events);
  /** With a discrete scheduler on the pool: the thread's entity there (cpu.host sets it before start()). */
  void set_sched_entity(SchedEntity* se) { se_ = se; }
  /** Queues `cost_s` seconds of CPU work; when done, target->on_event(kind, r) runs on this thread (no target: the
   * work only burns CPU, e.g. a hypercall whose effect the caller already scheduled). */
  void post(double cost_s, EventTarget* target, int kind, Request* r = nullptr);
  /** Like post(), for the rest of the code path that is running. Posted by a continuation of this thread (io_submit
   * going on into the driver's queue_rq and its kick), the work runs before the work that other threads and events
   * queued, in the order posted; posted from anywhere else, it is an ordinary post. Without it, a job that reaps a
   * batch of completions would submit the whole batch before the driver added the first request to its ring. */
  void post_next(double cost_s, EventTarget* target, int kind, Request* r = nullptr);
  /** post() and post_next() for work that runs holding `lock` (see the header); a null lock is no lock, so a model
   * whose lock can be switched off posts the same way either way. */
  void post_locked(SpinLock* lock, double cost_s, EventTarget* target, int kind, Request* r = nullptr);
  void post_next_locked(SpinLock* lock, double cost_s, EventTarget* target, int kind, Request* r = nullptr);

  /** Who decides how long the thread takes to wake up from idle (none: at once). Set before start(). */
  void set_idle_wake(IdleWake* w)
  {
    idle_wake_     = w;
    idle_wake_set_ = w != nullptr;
  }
  /** The core the thread's work runs on, for cache-line and lock-word transfers (cpu.host places its threads). */
  void set_place(CorePlace p) { place_ = p; }
  CorePlace place() const override { return place_; }
  /** The thread whose finished work's continuations are running now (nullptr outside them): the CPU a model's
   * reaction runs on, like the kernel's `current` (the vCPU freeing a tag is the one that wakes its waiter). */
  static CpuThread* current() { return current_; }

  /** Stops the thread from taking new work: what is queued, and what is posted meanwhile, waits until release_hold();
   * a batch already running finishes (its continuations run). A vCPU stopped by vm_stop(), a thread blocked in a
   * system call (io_submit waiting for a host request tag). Holds nest: the thread runs again when every hold is let
   * go. A held thread burns no CPU. */
  void hold() { ++holds_; }
  void release_hold();
  bool held() const { return holds_ > 0; }
  /** Executing a batch (or its continuations) now: a held thread that is not running has stopped (pause_all_vcpus). */
  bool running() const { return busy_ or awake_; }
  std::size_t pending() const { return work_.size() - batch_n_; }
  /** Asleep: no work queued, none running, and not running the continuations of the last batch. */
  bool idle() const { return work_.empty() and not busy_ and not awake_; }
  /** Statistics since the last restart. */
  double cpu_s() const { return cpu_s_.get(); }         // CPU time consumed (the work's cost)
  double running_s() const { return running_s_.get(); } // time spent executing, including waiting for a core
  std::uint64_t items() const { return items_.get(); }
  std::uint64_t batches() const { return batches_.get(); }
  std::uint64_t preemptions() const { return preemptions_.get(); }
  /** Of preemptions() and preempted_s(): those of the thread's own source (set_own_preemption). */
  std::uint64_t own_preemptions() const { return own_ ? own_->count.get() : 0; }
  double own_preempted_s() const { return own_ ? own_->lost_s.get() : 0; }
  /** A second source of lost CPU for this thread alone, on top of its pool's (CoreLoad::preemption): a guest's
   * background tasks taking the vCPU from its I/O work. Set before start() and track_stats(); a zero rate is none. */
  void set_own_preemption(const Preemption& p)
  {
    if (p.rate_hz > 0)
      own_ = std::make_unique<OwnPreemption>(OwnPreemption{p, Rng(), 0, {}, {}});
    else
      own_.reset();
  }
  double preempted_s() const { return preempted_s_.get(); } // time the thread's work waited, its core taken away
  double spin_s() const { return spin_s_.get(); }     // of cpu_s(): spinning on locks, moving lock words, polling
  double switch_s() const { return switch_s_.get(); } // of cpu_s(): context switches to this thread
  /** What the thread is, for the host's CPU split (guest vCPU, or a backend: kthread, IOThread, VMM thread). */
  enum class Role { backend, guest_vcpu };
  Role role() const { return role_; }
  void set_role(Role r) { role_ = r; }
  /** The thread's statistics restart with `set`: the cpu.host's it runs on (CpuHost::run() tracks every thread placed
   * on it, so owners need not); the owning model reports them through the counters and formulas below. */
  void track_stats(StatSet& set)
  {
    set.track(cpu_s_, running_s_, items_, batches_, preemptions_, preempted_s_, spin_s_, switch_s_);
    if (own_) {
      set.track(own_->count, own_->lost_s);
    }
  }
  /** CPU the thread burned outside its work items, `s` seconds of it: busy polling (a QEMU IOThread's poll window).
   * Counted in cpu_s() (and so in its cpu.host's), not in the items run; the core is not held meanwhile. */
  void account_spin(double s)
  {
    cpu_s_ += s;
    spin_s_ += s;
  }
  /** Every batch the thread runs (a collector: the trace's CPU tracks). */
  const Probe<CpuBatchEvent>& batch_probe() const { return batch_probe_; }
  /** Work items run and batches taken, as statistics the owning model registers (sim/stats.hpp). */
  Counter& stat_items() { return items_; }
  Counter& stat_batches() { return batches_; }
  /** Formulas over the window: CPU seconds per second (utilization), and the fraction of the window spent executing
   * a batch, waits for a core included (running fraction). */
  Formula::Fn utilization() const
  {
    return [this](const StatWindow& w) { return nlohmann::json(w.per_second(cpu_s())); };
  }
  Formula::Fn running_fraction() const
  {
    return [this](const StatWindow& w) { return nlohmann::json(w.per_second(running_s())); };
  }

private:
  struct Work {
    double cost_s;
    EventTarget* target;
    Request* r;
    int kind;
    SpinLock* lock = nullptr;
  };
  void enqueue(double cost_s, EventTarget* target, int kind, Request* r, SpinLock* lock, bool next);
  /** Takes the batch's lock unless already held: true when held (cost_s: the acquisition's transfer), false when
   * the thread now spins for it (lock_granted() goes on). */
  bool take_lock(double now, double* cost_s);
  void lock_granted(double delay_s, double burned_s) override;
  void release_lock_if_done();
  /** Direct mode: the batch's work starts `delay_s` from now; `burned_s` of CPU went to the lock first. */
  void run_direct_batch(double delay_s, double burned_s);
  void create_actor();
  void run();
  double take_batch();
  void start_direct_batch();
  /** Direct mode, work for a thread that was idle: starts its batch, after the idle wake-up's delay when it has one. */
  void wake_direct();
  void finish_batch(double cost, double t0);
  void schedule(); // after a post: start a batch (direct) or wake the actor up
  /** The time the core is taken away while the thread runs `cost_s` of CPU (0 without preemption). */
  double preempted_during(double cost_s);
  /** One source's losses over `cost_s` of CPU: `in_s` is the CPU time left before its next loss. */
  static double losses(const Preemption& p, Rng& rng, double& in_s, double cost_s, Counter& n);
  void on_event(int kind, Request* r) override;
  // Scheduled mode (a discrete scheduler on the pool, more threads than cores): the thread runs its batches in
  // segments on the core the scheduler gives it, and may lose the core in the middle of one.
  void dispatched(double switch_cost_s) override;
  void descheduled() override;
  /** On a core: take the next batch (or give the core back), then run a segment. */
  void continue_on_core();
  void start_segment();
  void segment_end();
  void finish_scheduled_batch();

  /** With no more threads than cores a thread never waits for a core: its work then takes exactly its cost, and
   * runs as events (direct), at a fraction of the cost of an actor and a SimGrid Exec. With more threads than
   * cores it runs as an actor whose Execs SimGrid shares among the cores. Decided at the first post, when every
   * thread of the host is known. */
  enum class Mode { undecided, direct, actor, scheduled };
  static constexpr int kind_woken = 1; // direct mode's events: 0 the batch's end, kind_woken the idle wake-up's end
  // The fields a batch touches come first, in the object's first cache lines (the class is cache-line aligned): with
  // thousands of threads, each one's state is a cache miss or two per batch, not one per field.
  Mode mode_                = Mode::undecided;
  bool busy_                = false; // direct mode: a batch is executing
  bool in_continuations_    = false; // running the continuations of a finished batch
  bool awake_               = false;
  bool wake_pending_        = false;
  bool own_preempt_         = false; // own_ is set (read per batch: kept among these fields, off the cold end)
  bool idle_wake_set_       = false; // idle_wake_ is set (likewise: without one, no batch touches the idle fields)
  int holds_                = 0;
  EventQueue* events_       = nullptr;
  CoreLoad* load_           = nullptr;
  double batch_cost_        = 0;
  double batch_t0_          = 0;
  double quantum_s_;
  RingQueue<Work> work_;
  std::size_t batch_n_      = 0; // the batch taken: the first batch_n_ items of work_
  std::size_t batch_left_   = 0; // running its continuations: the batch's items still in work_
  std::size_t next_inserts_ = 0; // where their next post_next() goes (behind the batch's items, in posting order)
  SpinLock* batch_lock_     = nullptr; // the lock the batch taken runs under
  SpinLock* holding_        = nullptr;
  Sum cpu_s_;
  Sum running_s_;
  Counter items_;
  Counter batches_;
  Probe<CpuBatchEvent> batch_probe_;
  // Colder: spin and switch accounting, actor mode, scheduled mode, preemption.
  Sum spin_s_;
  Sum switch_s_;
  std::string name_;
  simgrid::s4u::Host* host_ = nullptr;
  simgrid::s4u::SemaphorePtr wake_;
  double since_switch_s_ = 0; // CPU time since the thread last paid a switch
  CorePlace place_;
  static inline CpuThread* current_ = nullptr;
  simgrid::s4u::SemaphorePtr granted_; // actor mode: the lock was handed over
  double handoff_s_   = 0; // actor mode: the handover's delay and the CPU the wait burned, from lock_granted()
  double burned_s_    = 0;
  SchedEntity* se_    = nullptr;
  bool on_core_       = false; // scheduled: the scheduler gave it a core
  bool batch_ready_   = false; // scheduled: the batch's lock is held, remaining_s_ counts its work
  bool spinning_      = false; // scheduled: waiting for the batch's lock
  bool spin_blocked_  = false; // scheduled: a paravirtual waiter that blocked its vCPU
  bool seg_active_    = false;
  int seg_gen_        = 0; // the pending segment's event kind (older ones are stale)
  double seg_start_s_ = 0;
  double remaining_s_ = 0; // wall time of work left before the batch completes (switch, lock, cost, preemption)
  double spun_s_      = 0; // time spun on a core for the current acquisition
  Role role_          = Role::backend;
  IdleWake* idle_wake_ = nullptr;
  double idle_since_s_ = 0; // direct mode with an IdleWake: when the thread last ran out of work
  Rng preempt_rng_;
  double preempt_in_s_ = 0; // CPU time the thread runs before it next loses its core
  Counter preemptions_;
  Sum preempted_s_;
  /** set_own_preemption(): the thread's own source, drawn from its own stream (on the heap: most threads have none,
   * and every byte of a thread is paid in cache by the thousands of them a whole host runs). */
  struct OwnPreemption {
    Preemption source;
    Rng rng;
    double in_s = 0;
    Counter count;
    Sum lost_s;
  };
  std::unique_ptr<OwnPreemption> own_;
};

} // namespace pvsim
