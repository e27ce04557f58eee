#include "sim/event_queue.hpp"

#include <gtest/gtest.h>
#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include <vector>

using namespace pvsim;

namespace {
struct Recorder : EventTarget {
  EventQueue* q = nullptr;
  std::vector<std::pair<double, int>> seen;
  void on_event(int kind, Request*) override
  {
    seen.emplace_back(q->now(), kind);
    if (kind == 1) // an event scheduled for "now" from inside a handler runs at the same instant, after this one
      q->schedule_in(0, this, 2);
  }
};

simgrid::s4u::Engine* make_engine()
{
  xbt_log_control_set("root.thresh:warning");
  static int argc     = 1;
  static char name[]  = "test";
  static char* argv[] = {name, nullptr};
  auto* e             = new simgrid::s4u::Engine(&argc, argv);
  auto* z             = simgrid::s4u::create_full_zone("z");
  z->create_host("h", 1e9);
  z->seal();
  return e;
}
} // namespace

TEST(EventQueue, EventsRunInTimeOrderAndTiesInTheOrderScheduled)
{
  auto* e = make_engine();
  EventQueue q;
  Recorder r;
  r.q = &q;
  q.schedule_at(3e-6, &r, 30);
  q.schedule_at(1e-6, &r, 10);
  q.schedule_at(2e-6, &r, 20);
  q.schedule_at(2e-6, &r, 21);
  q.schedule_at(2e-6, &r, 22);
  e->run_until(1.0);
  std::vector<std::pair<double, int>> want{{1e-6, 10}, {2e-6, 20}, {2e-6, 21}, {2e-6, 22}, {3e-6, 30}};
  EXPECT_EQ(r.seen, want);
}

TEST(EventQueue, AnEarlierEventScheduledLaterStillRunsFirst)
{
  auto* e = make_engine();
  EventQueue q;
  Recorder r;
  r.q = &q;
  q.schedule_at(5e-6, &r, 5);
  q.schedule_at(1e-6, &r, 1); // re-arms the SimGrid timer earlier; the handler adds a same-time event (kind 2)
  e->run_until(1.0);
  std::vector<std::pair<double, int>> want{{1e-6, 1}, {1e-6, 2}, {5e-6, 5}};
  EXPECT_EQ(r.seen, want);
  EXPECT_EQ(q.events_run(), 3u);
}

TEST(EventQueue, TheClockIsSimGridsAndEventsAfterTheEndDoNotRun)
{
  auto* e = make_engine();
  EventQueue q;
  Recorder r;
  r.q = &q;
  q.schedule_at(0.5, &r, 7);
  q.schedule_at(2.0, &r, 8);
  e->run_until(1.0);
  EXPECT_DOUBLE_EQ(simgrid::s4u::Engine::get_clock(), 1.0);
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(q.pending(), 1u);
}
