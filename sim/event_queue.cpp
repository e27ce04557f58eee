#include "sim/event_queue.hpp"

#include "sim/stop.hpp"

#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u/Engine.hpp>

#include <algorithm>

namespace pvsim {

EventQueue::~EventQueue()
{
  if (armed_ and simgrid::s4u::Engine::has_instance())
    armed_->remove();
}

double EventQueue::simgrid_now() const
{
  // Alone, the queue's clock leads SimGrid's while it runs; once SimGrid has run on to the end, SimGrid's is later.
  return alone_ ? std::max(now_s_, simgrid::s4u::Engine::get_clock()) : simgrid::s4u::Engine::get_clock();
}

void EventQueue::schedule_at(double when_s, EventTarget* target, int kind, Request* r)
{
  if (stop_requested()) {
    note_stop();
    return; // the run is being stopped (sim/stop.hpp): nothing more happens
  }
  double t = std::max(when_s, now());
  heap_.emplace(t, target, r, kind);
  if (dispatching_)
    return; // fire() re-arms once it has drained what is due
  if (armed_ == nullptr or t < armed_when_)
    arm(t);
}

void EventQueue::note_stop()
{
  if (stopped_at_s_ < 0)
    stopped_at_s_ = now();
}

void EventQueue::arm(double when)
{
  if (armed_)
    armed_->remove();
  armed_when_ = when;
  armed_      = simgrid::kernel::timer::Timer::set(when, [this] { fire(); });
}

void EventQueue::fire()
{
  armed_       = nullptr; // SimGrid deletes the timer that just fired
  dispatching_ = true;
  if (alone_)
    now_s_ = std::max(now_s_, simgrid::s4u::Engine::get_clock());
  const double t = alone_ ? until_s_ : now();
  Event ev;
  double when;
  while (heap_.pop_due(t, ev, when)) {
    if (stop_requested()) {
      note_stop();
      heap_.clear();
      break;
    }
    if (const Event* next = heap_.peek_next_in_line()) { // what the next event touches, fetched meanwhile
      __builtin_prefetch(next->target);
      __builtin_prefetch(next->req);
    }
    events_run_++;
    if (alone_)
      now_s_ = when;
    ev.target->on_event(ev.kind, ev.req);
  }
  last_activity_s_ = alone_ ? now_s_ : t; // the last instant run here
  dispatching_     = false;
  if (not heap_.empty())
    arm(heap_.min_time());
}

} // namespace pvsim
