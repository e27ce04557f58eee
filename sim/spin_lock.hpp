/* pvsim: a kernel spinlock taken by CpuThreads (blkfront's ring_lock, blkback's blk_ring_lock, a hypervisor lock).
 *
 * A thread takes the lock for a run of its work items (CpuThread::post_locked: the critical section) and releases it
 * when that run ends. A thread that finds the lock held spins, burning its CPU, in arrival order: both locks Linux
 * has used on x86 are fair. Handing the lock over costs cache-line transfers of the lock word, which is what makes a
 * contended lock slower than its hold times alone:
 *  - ticket: every waiter spins on the one lock word (arch/x86 ticket locks up to Linux 4.1, Xen from 4.6:
 *    e10784ac42 "use ticket locks for spin locks"). Each release invalidates the line in every spinning waiter's
 *    cache and they all fetch it again, one after the other, the next owner among them (on average in the middle): the
 *    handover takes (k + 1) / 2 transfers with k waiters spinning. That is the linear handoff of Boyd-Wickizer,
 *    Kaashoek, Morris and Zeldovich, "Non-scalable locks are dangerous" (Linux Symposium 2012), whose Markov model
 *    shows throughput falling, not flattening, as cores are added past the knee: with N threads always wanting the
 *    lock (N - 1 spinning at each release), 1 / (hold + N / 2 x transfer).
 *  - qspinlock: the MCS queue lock compressed into a word (kernel/locking/qspinlock.c, x86 from Linux 4.2): a waiter
 *    spins on its own node, the releaser hands over with one transfer whatever the queue: saturation at
 *    1 / (hold + transfer), flat past it.
 * An acquisition that finds the lock free pays a transfer when another core held it last (the word bounces between
 * the cores that take it). The data the lock protects moves with it: a critical section on another core than the
 * last one fetches each of the `data_lines` lines it writes (the cost grows with the number of cores taking the lock:
 * the same core taking it again finds them in its cache). Statistics: acquisitions, the contended ones, time spent
 * spinning (handovers included), time held, lock-word transfers and the most waiters at once.
 * Paravirtual spinlocks (PvSpin below): a waiter past the threshold blocks its vCPU and must be kicked and woken.
 * Lock-holder preemption: a holder whose core is taken away (cpu.host's preempt_rate: outside work, the hypervisor
 * below) keeps the lock meanwhile and its waiters spin on through it (CpuThread stretches the batch it is running).
 * A holder descheduled by the other threads of an overcommitted pool for a whole time slice: with a discrete
 * scheduler on the pool (cpu.host scheduler credit2/cfs, sim/core_scheduler.hpp); the fluid one spreads it.
 * Leaves out: spinning with interrupts enabled (a spinning vCPU
 * takes no interrupt here: irqsave, as blkfront does), the paravirtual qspinlock's lock stealing by running spinners
 * while the queue's head is woken, reader-writer locks. */
#pragma once

#include "sim/cache_line.hpp"
#include "sim/stats.hpp"

#include <deque>
#include <string>
#include <vector>

namespace pvsim {

/** What a spinlock hands over to: a thread spinning on it. */
class LockWaiter {
public:
  virtual ~LockWaiter()           = default;
  virtual CorePlace place() const = 0;
  /** The lock is this waiter's: it holds it `delay_s` from now (the handover: lock-word and data transfers, and the
   * wake-up of a blocked vCPU), having burned `burned_s` of CPU in the whole wait (spinning, transfers). */
  virtual void lock_granted(double delay_s, double burned_s) = 0;
};

/** Paravirtual spinlocks, a guest kernel's on Xen or KVM: a waiter that has spun spin_threshold_s blocks its vCPU
 * (arch/x86/xen/spinlock.c: xen_qlock_wait() polls an event channel, SCHEDOP_poll, after SPIN_THRESHOLD (1 << 15)
 * spins; the pv ticket locks of Linux 3.12-4.1 the same way) instead of spinning on. The releaser kicks it (kick_s of
 * its CPU: xen_qlock_kick(), an event-channel send), and the waiter holds the lock only once its vCPU runs again,
 * wake_s later: the lock is idle meanwhile, which is why a contended lock gets slower still once waits pass the
 * threshold. */
struct PvSpin {
  bool enabled            = false;
  double spin_threshold_s = 0;
  double kick_s           = 0;
  double wake_s           = 0;
};

class SpinLock {
public:
  enum class Kind { ticket, qspinlock };
  static const std::vector<std::string>& kind_names(); // "ticket", "qspinlock"
  static Kind kind_of(const std::string& name);

  /** `data_lines`: cache lines of the data the lock protects that a critical section writes (fields, ring slots, list
   * heads): a holder on another core than the last one fetches them too, so the hold grows by that many transfers. */
  SpinLock(std::string name, Kind kind, LineCost cost, int data_lines = 0)
      : name_(std::move(name)), kind_(kind), cost_(cost), data_lines_(data_lines)
  {
  }
  SpinLock(const SpinLock&)            = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  const std::string& name() const { return name_; }

  /** `who` asks for the lock at `now`. Free: it holds it, true, and *cost_s is what the acquisition costs (a transfer
   * of the lock word when another core held it last). Held: `who` spins behind the waiters already there, false, and
   * who->lock_granted() is called when its turn comes. */
  bool acquire(LockWaiter* who, double now, double* cost_s);
  /** The holder lets go at `now`: the first waiter (if any) gets the lock. Returns the CPU the releaser spends
   * after letting go: the kick of a blocked waiter (paravirtual spinlocks), else 0. */
  double release(double now);
  void set_paravirt(const PvSpin& pv) { pv_ = pv; }
  /** How long a waiter spins before it blocks (paravirtual), else forever. */
  double spin_limit_s() const { return pv_.enabled ? pv_.spin_threshold_s : 1e300; }

  /** Statistics, for the owning model to register (sim/stats.hpp). */
  void track_stats(StatSet& set, const std::string& prefix);
  std::uint64_t acquisitions() const { return acquisitions_.get(); }
  std::uint64_t contended() const { return contended_.get(); }
  double wait_s() const { return wait_s_.get(); }
  std::uint64_t transfers() const { return word_.transfers(); }

private:
  /** The lock word and the protected data come to the core `to`: returns one line's transfer (0 from the same core)
   * and counts the data lines moved. */
  double come_to(CorePlace to);
  struct Waiting {
    LockWaiter* who;
    double since_s;
  };
  std::string name_;
  Kind kind_;
  LineCost cost_;
  LockWaiter* holder_  = nullptr;
  double held_since_s_ = 0;
  std::deque<Waiting> waiting_;
  int data_lines_;
  PvSpin pv_;
  Counter kicks_;  // waiters found blocked at their turn (paravirtual)
  CacheLine word_; // the lock word
  Counter data_transfers_;
  Counter acquisitions_;
  Counter contended_;
  Sum wait_s_;
  Sum hold_s_;
  Maximum max_waiters_;
};

} // namespace pvsim
