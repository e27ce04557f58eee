#include "sim/cpu_thread.hpp"

#include "sim/platform.hpp"
#include "sim/stop.hpp"

#include <algorithm>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Exec.hpp>
#include <simgrid/s4u/Host.hpp>
#include <stdexcept>

namespace pvsim {

void CpuThread::start(simgrid::s4u::Host* host, CoreLoad* load, EventQueue& events)
{
  load_   = load;
  events_ = &events;
  if (load_ != nullptr and load_->preemption.rate_hz > 0) {
    preempt_rng_  = Rng(load_->preemption.seed, name_ + "/preemption");
    preempt_in_s_ = preempt_rng_.exponential(1.0 / load_->preemption.rate_hz);
  }
  own_preempt_ = own_ != nullptr;
  if (own_preempt_) {
    own_->rng  = Rng(own_->source.seed, name_ + "/own_preemption");
    own_->in_s = own_->rng.exponential(1.0 / own_->source.rate_hz);
  }
  host_ = host;
}

void CpuThread::create_actor()
{
  // Only a thread in actor mode needs one: an actor's stack is some 40 KB of memory touched, which thousands of
  // threads in direct mode would spread their hot data across for nothing.
  wake_    = simgrid::s4u::Semaphore::create(0);
  granted_ = simgrid::s4u::Semaphore::create(0);
  // Not a daemon: SimGrid ends a simulation when only daemons are left, and these threads may be all there is. The
  // run stops at the scenario's duration with the threads waiting for work (Simulation ends them).
  simgrid::s4u::Actor::create(name_, host_, [this] { run(); });
}

void CpuThread::enqueue(double cost_s, EventTarget* target, int kind, Request* r, SpinLock* lock, bool next)
{
  // Filled in place: a Work built and passed by value costs more than the rest of a post (its halves stored, then
  // read back whole). post_next() from a continuation: behind the batch's items not run yet, before what others
  // queued; otherwise last.
  Work& w  = next and in_continuations_ ? work_.insert_slot_at(batch_left_ + next_inserts_++) : work_.push_back_slot();
  w.cost_s = cost_s;
  w.target = target;
  w.r      = r;
  w.kind   = kind;
  w.lock   = lock;
  schedule();
}

void CpuThread::post(double cost_s, EventTarget* target, int kind, Request* r)
{
  enqueue(cost_s, target, kind, r, nullptr, false);
}

void CpuThread::post_next(double cost_s, EventTarget* target, int kind, Request* r)
{
  enqueue(cost_s, target, kind, r, nullptr, true);
}

void CpuThread::post_locked(SpinLock* lock, double cost_s, EventTarget* target, int kind, Request* r)
{
  enqueue(cost_s, target, kind, r, lock, false);
}

void CpuThread::post_next_locked(SpinLock* lock, double cost_s, EventTarget* target, int kind, Request* r)
{
  enqueue(cost_s, target, kind, r, lock, true);
}

void CpuThread::schedule()
{
  if (mode_ == Mode::undecided) {
    bool scheduler = load_ != nullptr and load_->scheduler != nullptr and se_ != nullptr;
    if (scheduler and (load_->threads > load_->cores or load_->scheduler->has_caps()))
      mode_ = Mode::scheduled;
    else if (load_ != nullptr and load_->threads <= load_->cores)
      mode_ = Mode::direct;
    else
      mode_ = Mode::actor;
    if (mode_ == Mode::actor)
      create_actor();
  }
  if (holds_ > 0)
    return; // release_hold() schedules again
  if (mode_ == Mode::scheduled) {
    if (not on_core_ and not spin_blocked_)
      load_->scheduler->wake(*se_); // nothing when it is already queued, running or parked
    return;
  }
  if (mode_ == Mode::direct) {
    if (not busy_)
      wake_direct();
    return;
  }
  if (not awake_ and not wake_pending_) {
    wake_pending_ = true;
    wake_->release();
  }
}

double CpuThread::take_batch()
{
  // The batch is the first batch_n_ items of work_: they stay there until their continuations run (no copy).
  // A batch is all under one lock, or under none: the lock is taken when it starts, let go when it ends.
  double cost       = 0;
  std::size_t n     = 0;
  std::size_t avail = work_.size();
  batch_lock_       = avail == 0 ? nullptr : work_.front().lock;
  while (n < avail) {
    const Work& w = work_[n];
    if (w.lock != batch_lock_ or (n > 0 and cost + w.cost_s > quantum_s_))
      break;
    cost += w.cost_s;
    ++n;
  }
  batch_n_ = n;
  return cost;
}

double CpuThread::losses(const Preemption& p, Rng& rng, double& in_s, double cost_s, Counter& n)
{
  double lost = 0;
  while (cost_s >= in_s) {
    cost_s -= in_s;
    lost += p.duration.sample(rng);
    ++n;
    in_s = rng.exponential(1.0 / p.rate_hz);
  }
  in_s -= cost_s;
  return lost;
}

double CpuThread::preempted_during(double cost_s)
{
  double lost = 0;
  if (load_ != nullptr and load_->preemption.rate_hz > 0)
    lost = losses(load_->preemption, preempt_rng_, preempt_in_s_, cost_s, preemptions_);
  if (own_preempt_) {
    std::uint64_t before = own_->count.get();
    double own           = losses(own_->source, own_->rng, own_->in_s, cost_s, own_->count);
    preemptions_ += own_->count.get() - before;
    own_->lost_s += own;
    lost += own;
  }
  if (lost > 0) // preempted_s_ lies among the cold fields: not touched on every batch
    preempted_s_ += lost;
  return lost;
}

void CpuThread::finish_batch(double cost, double t0)
{
  running_s_ += events_->now() - t0;
  cpu_s_ += cost;
  if (batch_probe_.connected())
    batch_probe_.emit({t0, events_->now(), cost, batch_n_});
  items_ += batch_n_;
  ++batches_;
  in_continuations_ = true;
  next_inserts_     = 0;
  CpuThread* outer  = current_;
  current_          = this;
  // Each item leaves the list as its continuation runs; what the continuation posts with post_next() goes behind the
  // batch's remaining items (batch_left_), in the order posted.
  for (batch_left_ = batch_n_; batch_left_ > 0;) {
    Work w = work_.front();
    work_.pop_front();
    --batch_left_;
    if (w.target != nullptr)
      w.target->on_event(w.kind, w.r);
  }
  batch_n_          = 0;
  current_          = outer;
  in_continuations_ = false;
  release_lock_if_done();
}

void CpuThread::release_lock_if_done()
{
  // The critical section ends with the last of its run of work (a continuation may have posted more under it).
  if (holding_ == nullptr or (not work_.empty() and work_.front().lock == holding_))
    return;
  SpinLock* l = holding_;
  holding_    = nullptr;
  if (double kick = l->release(events_->now()); kick > 0) { // the releaser wakes a blocked waiter: next on this thread
    work_.push_front(Work{kick, nullptr, nullptr, 0});
    schedule();
  }
}

bool CpuThread::take_lock(double now, double* cost_s)
{
  *cost_s = 0;
  if (batch_lock_ == nullptr or holding_ == batch_lock_)
    return true;
  if (not batch_lock_->acquire(this, now, cost_s))
    return false;
  holding_ = batch_lock_;
  return true;
}

void CpuThread::lock_granted(double delay_s, double burned_s)
{
  holding_ = batch_lock_;
  if (mode_ == Mode::scheduled) {
    // The spinning it did on a core is counted as it went (segments); the lock's own tally of burned CPU assumes it
    // spun the whole wait, which a descheduled or blocked waiter did not.
    double speed = load_->speed_factor;
    if (on_core_ and seg_active_) {
      double ran = events_->now() - seg_start_s_;
      cpu_s_ += ran * speed;
      seg_active_ = false;
      ++seg_gen_;
      load_->scheduler->update(*se_);
    }
    spinning_ = false;
    spun_s_   = 0;
    remaining_s_ += delay_s + batch_cost_ / speed + preempted_during(batch_cost_);
    batch_ready_ = true;
    if (on_core_) {
      start_segment();
    } else if (spin_blocked_) { // kicked: the vCPU wakes up (a core when the scheduler gives it one)
      spin_blocked_ = false;
      load_->scheduler->wake(*se_);
    }
    // else: descheduled while it spun; the lock is its own meanwhile (lock-waiter preemption), it runs when
    // dispatched
    return;
  }
  if (mode_ == Mode::direct) {
    run_direct_batch(delay_s, burned_s);
    return;
  }
  handoff_s_ = delay_s;
  burned_s_  = burned_s;
  granted_->release();
}

void CpuThread::start_direct_batch()
{
  busy_       = true;
  batch_cost_ = take_batch();
  batch_t0_   = events_->now();
  double acquire_s;
  if (take_lock(batch_t0_, &acquire_s))
    run_direct_batch(acquire_s, acquire_s);
  // else: spinning, busy; lock_granted() goes on
}

void CpuThread::wake_direct()
{
  if (idle_wake_set_) {
    if (double delay = idle_wake_->wake_delay(*this, events_->now() - idle_since_s_); delay > 0) {
      busy_ = true; // what is posted meanwhile waits for the wake-up, and is taken in its batch
      events_->schedule_in(delay, this, kind_woken);
      return;
    }
  }
  start_direct_batch();
}

void CpuThread::run_direct_batch(double delay_s, double burned_s)
{
  // Time on the lock (spinning, handovers, transfers) is CPU burned, not work done: it is not scaled by speed.
  double speed = load_ != nullptr ? load_->speed_factor : 1.0;
  if (burned_s > 0) {
    cpu_s_ += burned_s * speed;
    spin_s_ += burned_s * speed;
  }
  events_->schedule_in(delay_s + batch_cost_ / speed + preempted_during(batch_cost_), this, 0);
}

void CpuThread::on_event(int kind, Request*)
{
  if (mode_ == Mode::scheduled) {
    if (seg_active_ and kind == seg_gen_)
      segment_end();
    return; // else a segment cut short by a preemption or a lock hand-over
  }
  if (kind != kind_woken)
    finish_batch(batch_cost_, batch_t0_); // continuations that post here only queue: busy_ is still set
  busy_ = false;
  if (not work_.empty() and holds_ == 0)
    start_direct_batch();
  else if (idle_wake_set_)
    idle_since_s_ = events_->now();
}

void CpuThread::dispatched(double switch_cost_s)
{
  on_core_ = true;
  if (switch_cost_s > 0) { // the switch to this thread is CPU on its account, before its work
    remaining_s_ += switch_cost_s;
    cpu_s_ += switch_cost_s * load_->speed_factor;
    switch_s_ += switch_cost_s * load_->speed_factor;
  }
  continue_on_core();
}

void CpuThread::descheduled()
{
  on_core_ = false;
  if (not seg_active_)
    return;
  seg_active_ = false;
  ++seg_gen_; // its end event is stale now
  double ran = events_->now() - seg_start_s_;
  if (spinning_) {
    spun_s_ += ran;
    cpu_s_ += ran * load_->speed_factor;
  } else {
    remaining_s_ = std::max(0.0, remaining_s_ - ran);
  }
}

void CpuThread::continue_on_core()
{
  if (not busy_) {
    if (work_.empty() or holds_ > 0) {
      remaining_s_ = 0; // a switch paid for nothing: the core goes back
      on_core_     = false;
      load_->scheduler->block(*se_);
      return;
    }
    busy_       = true;
    batch_cost_ = take_batch();
    batch_t0_   = events_->now();
    double acquire_s;
    if (take_lock(batch_t0_, &acquire_s)) {
      cpu_s_ += acquire_s * load_->speed_factor;
      spin_s_ += acquire_s * load_->speed_factor;
      remaining_s_ += acquire_s + batch_cost_ / load_->speed_factor + preempted_during(batch_cost_);
      batch_ready_ = true;
    } else {
      spinning_ = true; // lock_granted() goes on
      spun_s_   = 0;
    }
  }
  start_segment();
}

void CpuThread::start_segment()
{
  CoreScheduler& sched = *load_->scheduler;
  double left          = sched.left_s(*se_);
  if (left <= 0) {
    sched.slice_expired(*se_); // may take the core away
    if (not on_core_)
      return;
    left = sched.left_s(*se_);
  }
  double len;
  if (spinning_) {
    double limit = batch_lock_->spin_limit_s() - spun_s_; // paravirtual: it blocks once past the threshold
    len          = std::min(left, std::max(limit, 0.0));
  } else {
    len = std::min(left, remaining_s_);
  }
  seg_active_  = true;
  seg_start_s_ = events_->now();
  events_->schedule_in(len, this, ++seg_gen_);
}

void CpuThread::segment_end()
{
  seg_active_          = false;
  CoreScheduler& sched = *load_->scheduler;
  double ran           = events_->now() - seg_start_s_;
  sched.update(*se_);
  if (spinning_) {
    spun_s_ += ran;
    cpu_s_ += ran * load_->speed_factor;
    if (spun_s_ >= batch_lock_->spin_limit_s() - 1e-15) { // paravirtual: the vCPU blocks until kicked
      spin_blocked_ = true;
      on_core_      = false;
      sched.block(*se_);
      return;
    }
  } else {
    remaining_s_ -= ran;
    if (remaining_s_ <= 1e-15) {
      finish_scheduled_batch();
      return;
    }
  }
  start_segment(); // the slice is over (start_segment asks the scheduler) or a capped run took more budget
}

void CpuThread::finish_scheduled_batch()
{
  remaining_s_ = 0;
  batch_ready_ = false;
  finish_batch(batch_cost_, batch_t0_); // continuations may wake threads that preempt this one
  busy_ = false;
  if (on_core_)
    continue_on_core();
}

void CpuThread::release_hold()
{
  if (holds_ == 0)
    throw std::logic_error("CpuThread " + name_ + ": release_hold() without hold()");
  if (--holds_ == 0 and not work_.empty() and mode_ != Mode::undecided)
    schedule();
}

void CpuThread::run()
{
  while (true) {
    wake_->acquire();
    wake_pending_ = false;
    awake_        = true;
    events_->thread_awake();
    bool woken = true;
    while (not work_.empty() and holds_ == 0) {
      if (stop_requested()) { // the run is being stopped (sim/stop.hpp): drop the rest
        work_.clear();
        break;
      }
      double cost = take_batch();
      double t0   = simgrid::s4u::Engine::get_clock();
      double lock_s; // the lock word's transfer; spinning first when another thread holds the lock
      if (take_lock(t0, &lock_s)) {
        account_spin(lock_s);
      } else {
        // Spinning takes the thread's share of the cores until the lock is handed over (or, with paravirtual
        // spinlocks, until the waiter blocks its vCPU): an Exec runs while the actor waits, then is cancelled.
        double limit = std::min(batch_lock_->spin_limit_s(), 1e6);
        auto spin    = simgrid::s4u::this_actor::exec_init(limit * simgrid::s4u::this_actor::get_host()->get_speed());
        spin->start();
        granted_->acquire();
        if (not spin->test())
          spin->cancel();
        account_spin(burned_s_);
        lock_s = handoff_s_;
      }
      if (lock_s > 0)
        simgrid::s4u::this_actor::sleep_for(lock_s);
      if (load_ != nullptr) {
        bool slice_over = since_switch_s_ >= load_->timeslice_s;
        if ((woken or slice_over) and load_->running >= load_->cores and load_->switch_cost_s > 0) {
          cost += load_->switch_cost_s;
          switch_s_ += load_->switch_cost_s;
          ++load_->switches;
          since_switch_s_ = 0;
        }
        load_->running++;
        since_switch_s_ += cost;
        woken = false;
      }
      if (cost > 0)
        simgrid::s4u::this_actor::execute(cost * Platform::reference_flops);
      // Off the core: the outside work runs on the pool for that long (sharing the cores like any thread).
      if (double lost = preempted_during(cost); lost > 0)
        simgrid::s4u::this_actor::execute(lost * simgrid::s4u::this_actor::get_host()->get_speed());
      if (load_ != nullptr)
        load_->running--;
      finish_batch(cost, t0);
    }
    awake_ = false;
    events_->thread_asleep();
  }
}

} // namespace pvsim
