#include "sim/cpu_thread.hpp"

#include "sim/platform.hpp"
#include "sim/stop.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>

namespace pvsim {

void CpuThread::start(simgrid::s4u::Host* host, CoreLoad* load, EventQueue& events)
{
  load_   = load;
  events_ = &events;
  if (load_ != nullptr and load_->preemption.rate_hz > 0) {
    preempt_rng_  = Rng(load_->preemption.seed, name_ + "/preemption");
    preempt_in_s_ = preempt_rng_.exponential(1.0 / load_->preemption.rate_hz);
  }
  wake_ = simgrid::s4u::Semaphore::create(0);
  // Not a daemon: SimGrid ends a simulation when only daemons are left, and these threads may be all there is. The
  // run stops at the scenario's duration with the threads waiting for work (Simulation ends them).
  simgrid::s4u::Actor::create(name_, host, [this] { run(); });
}

void CpuThread::post(double cost_s, EventTarget* target, int kind, Request* r)
{
  work_.push_back(Work{cost_s, target, r, kind});
  schedule();
}

void CpuThread::post_next(double cost_s, EventTarget* target, int kind, Request* r)
{
  if (not in_continuations_)
    return post(cost_s, target, kind, r);
  work_.insert(work_.begin() + static_cast<std::ptrdiff_t>(next_inserts_++), Work{cost_s, target, r, kind});
  schedule();
}

void CpuThread::schedule()
{
  if (mode_ == Mode::undecided)
    mode_ = (load_ != nullptr and load_->threads <= load_->cores) ? Mode::direct : Mode::actor;
  if (mode_ == Mode::direct) {
    if (not busy_)
      start_direct_batch();
    return;
  }
  if (not awake_ and not wake_pending_) {
    wake_pending_ = true;
    wake_->release();
  }
}

double CpuThread::take_batch()
{
  double cost = 0;
  batch_.clear();
  while (not work_.empty() and (batch_.empty() or cost + work_.front().cost_s <= quantum_s_)) {
    cost += work_.front().cost_s;
    batch_.push_back(work_.front());
    work_.pop_front();
  }
  return cost;
}

double CpuThread::preempted_during(double cost_s)
{
  if (load_ == nullptr or load_->preemption.rate_hz <= 0)
    return 0;
  const Preemption& p = load_->preemption;
  double lost         = 0;
  while (cost_s >= preempt_in_s_) {
    cost_s -= preempt_in_s_;
    lost += p.duration.sample(preempt_rng_);
    ++preemptions_;
    preempt_in_s_ = preempt_rng_.exponential(1.0 / p.rate_hz);
  }
  preempt_in_s_ -= cost_s;
  preempted_s_ += lost;
  return lost;
}

void CpuThread::finish_batch(double cost, double t0)
{
  running_s_ += events_->now() - t0;
  cpu_s_ += cost;
  items_ += batch_.size();
  ++batches_;
  in_continuations_ = true;
  next_inserts_     = 0;
  for (const Work& w : batch_)
    if (w.target != nullptr)
      w.target->on_event(w.kind, w.r);
  in_continuations_ = false;
}

void CpuThread::start_direct_batch()
{
  busy_        = true;
  batch_cost_  = take_batch();
  batch_t0_    = events_->now();
  double speed = load_ != nullptr ? load_->speed_factor : 1.0;
  events_->schedule_in(batch_cost_ / speed + preempted_during(batch_cost_), this, 0);
}

void CpuThread::on_event(int, Request*)
{
  finish_batch(batch_cost_, batch_t0_); // continuations that post here only queue: busy_ is still set
  busy_ = false;
  if (not work_.empty())
    start_direct_batch();
}

void CpuThread::run()
{
  while (true) {
    wake_->acquire();
    wake_pending_ = false;
    awake_        = true;
    events_->thread_awake();
    bool woken = true;
    while (not work_.empty()) {
      if (stop_requested()) { // the run is being stopped (sim/stop.hpp): drop the rest
        work_.clear();
        break;
      }
      double cost = take_batch();
      double t0   = simgrid::s4u::Engine::get_clock();
      if (load_ != nullptr) {
        bool slice_over = since_switch_s_ >= load_->timeslice_s;
        if ((woken or slice_over) and load_->running >= load_->cores and load_->switch_cost_s > 0) {
          cost += load_->switch_cost_s;
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
