/* pvsim: the event queue that carries request stages, on SimGrid's clock.
 *
 * Latencies, service completions and arrivals are plain events {time, target, kind, request} in a radix heap
 * (sim/event_heap.hpp): no actor, no mailbox, no allocation per event, a cost per event that does not grow with the
 * number pending. SimGrid stays the master of time: one kernel Timer is armed at
 * the earliest pending event, and when it fires every event due at that instant runs, in the order scheduled
 * (so runs are reproducible). Actors (vCPUs, backend threads) and SimGrid
 * activities interleave with these events on the same clock.
 * Events run in SimGrid's scheduler context: handlers may release semaphores and schedule events, never block. */
#pragma once

#include "sim/event_heap.hpp"

#include <cstdint>

namespace simgrid::kernel::timer {
class Timer;
}

namespace pvsim {

class Request;

/** Anything that receives events. */
class EventTarget {
public:
  virtual ~EventTarget()                      = default;
  virtual void on_event(int kind, Request* r) = 0;
};

class EventQueue {
public:
  EventQueue()                             = default;
  EventQueue(const EventQueue&)            = delete;
  EventQueue& operator=(const EventQueue&) = delete;
  ~EventQueue();

  /** Current simulated time in seconds. */
  double now() const
  {
    return alone_ and dispatching_ ? now_s_ : simgrid_now(); // alone, running its events: its own clock
  }
  void schedule_in(double delay_s, EventTarget* target, int kind, Request* r = nullptr)
  {
    schedule_at(now() + delay_s, target, kind, r);
  }
  void schedule_at(double when_s, EventTarget* target, int kind, Request* r = nullptr);

  /** Nothing but this queue needs SimGrid's main loop (no actor shares cores, no communication crosses a link): from
   * now on fire() runs every event up to `until_s` in one turn, the queue's clock leading SimGrid's. Each instant
   * still runs its events in the order scheduled; only SimGrid's turns between instants (its timers, its actions'
   * bookkeeping, which nothing would use) are saved. */
  void run_alone_until(double until_s)
  {
    alone_   = true;
    until_s_ = until_s;
  }
  bool alone() const { return alone_; }
  std::uint64_t events_run() const { return events_run_; }
  std::size_t pending() const { return heap_.size(); }
  /** CPU threads running as actors say when they wake up and when they go back to sleep, so that the engine knows
   * whether anything is left to happen when the event heap is empty (sim/cpu_thread.cpp). */
  void thread_awake() { ++awake_threads_; }
  void thread_asleep()
  {
    --awake_threads_;
    last_activity_s_ = now();
  }
  int awake_threads() const { return awake_threads_; }
  /** The last time an event ran or a thread finished its work. */
  double last_activity_s() const { return last_activity_s_; }
  /** When the queue first saw a stop request (sim/stop.hpp), or a negative value. */
  double stopped_at_s() const { return stopped_at_s_; }

private:
  void note_stop();
  double simgrid_now() const;
  double stopped_at_s_    = -1;
  int awake_threads_      = 0;
  double last_activity_s_ = 0;
  struct Event {
    EventTarget* target;
    Request* req;
    int kind;
  };
  void arm(double when);
  void fire();

  EventHeap<Event> heap_;
  std::uint64_t events_run_             = 0;
  simgrid::kernel::timer::Timer* armed_ = nullptr;
  double armed_when_                    = 0;
  bool dispatching_                     = false;
  bool alone_                           = false;
  double until_s_                       = 0;
  double now_s_                         = 0; // alone: the instant being run
};

} // namespace pvsim
