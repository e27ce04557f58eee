/* CpuThread: the order in which a thread runs the work posted to it, on a host with a core per thread (direct mode),
 * and its preemption. */
#include "sim/cpu_thread.hpp"

#include <gtest/gtest.h>
#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include <vector>

using namespace pvsim;

namespace {
simgrid::s4u::Host* make_engine()
{
  xbt_log_control_set("root.thresh:warning");
  static int argc     = 1;
  static char name[]  = "test";
  static char* argv[] = {name, nullptr};
  new simgrid::s4u::Engine(&argc, argv);
  auto* z = simgrid::s4u::create_full_zone("z");
  auto* h = z->create_host("h", 1e9);
  z->seal();
  return h;
}

/** Runs the simulation to `end_s`, then ends the threads' actors (waiting for work) while their semaphores exist. */
void run_and_end(double end_s)
{
  auto* e = simgrid::s4u::Engine::get_instance();
  e->run_until(end_s);
  for (auto& actor : e->get_all_actors())
    actor->kill();
  e->run_until(end_s);
}

/** Kind k: a syscall entry that goes on into the driver (kind k + 100) when `chain` is set. Records what ran when. */
struct Path : EventTarget {
  CpuThread* thread = nullptr;
  EventQueue* q     = nullptr;
  bool next         = true;
  std::vector<std::pair<int, double>> ran;
  void on_event(int kind, Request*) override
  {
    ran.emplace_back(kind, q->now());
    if (kind < 100) {
      if (next)
        thread->post_next(1e-6, this, kind + 100);
      else
        thread->post(1e-6, this, kind + 100);
    }
  }
};

/** Three 10 us submissions posted at once (a job refilling after a batch of completions), each going on into 1 us of
 * driver work; the thread's quantum is 5 us, so each submission is its own batch. */
std::vector<std::pair<int, double>> run_three_submissions(bool next)
{
  auto* host = make_engine();
  EventQueue q;
  CoreLoad load;
  load.cores   = 1;
  load.threads = 1;
  CpuThread t("vcpu0", 5e-6);
  t.start(host, &load, q);
  Path p;
  p.thread = &t;
  p.q      = &q;
  p.next   = next;
  for (int k = 1; k <= 3; ++k)
    t.post(10e-6, &p, k);
  run_and_end(1.0);
  return p.ran;
}

std::vector<int> kinds_of(const std::vector<std::pair<int, double>>& ran)
{
  std::vector<int> kinds;
  for (auto& [k, t] : ran)
    kinds.push_back(k);
  return kinds;
}
} // namespace

TEST(CpuThread, PostNextRunsTheRestOfTheCodePathBeforeWorkQueuedEarlier)
{
  auto ran = run_three_submissions(true);
  EXPECT_EQ(kinds_of(ran), (std::vector<int>{1, 101, 2, 102, 3, 103}));
  EXPECT_NEAR(ran[1].second, 11e-6, 1e-12); // the first request reaches the driver's ring after 11 us, not 31 us
}

TEST(CpuThread, PostQueuesBehindWorkQueuedEarlier)
{
  auto ran = run_three_submissions(false);
  EXPECT_EQ(kinds_of(ran), (std::vector<int>{1, 2, 3, 101, 102, 103}));
  EXPECT_NEAR(ran[3].second, 33e-6, 1e-12); // after the three submissions, the three driver steps as one batch
}

TEST(CpuThread, PreemptionDrawsAreTheSameForTheSameSeedAndName)
{
  auto* host = make_engine();
  EventQueue q;
  CoreLoad load;
  load.preemption = Preemption{1e4, Distribution::deterministic(1e-4), 7};
  CpuThread a("a", 1.0), b("a", 1.0);
  a.start(host, &load, q);
  b.start(host, &load, q);
  Path pa, pb;
  pa.thread = &a;
  pa.q      = &q;
  pb.thread = &b;
  pb.q      = &q;
  for (int i = 0; i < 50; ++i) {
    a.post(20e-6, nullptr, 0);
    b.post(20e-6, nullptr, 0);
  }
  run_and_end(1.0);
  EXPECT_GT(a.preemptions(), 0u);
  EXPECT_EQ(a.preemptions(), b.preemptions());
  EXPECT_DOUBLE_EQ(a.preempted_s(), 1e-4 * static_cast<double>(a.preemptions()));
}

namespace {
/** Holds `t` from the start, releases it at 50 us; three 10 us items posted at 0 and one more at 20 us (while held).
 * Returns when each ran. `threads` > cores puts the thread in actor mode. */
std::vector<std::pair<int, double>> run_held(int threads)
{
  auto* host = make_engine();
  EventQueue q;
  CoreLoad load;
  load.cores   = 1;
  load.threads = threads;
  CpuThread t("vcpu0", 5e-6);
  t.start(host, &load, q);
  Path p;
  p.thread = &t;
  p.q      = &q;
  p.next   = false;
  struct Timer : EventTarget {
    CpuThread* t;
    Path* p;
    void on_event(int kind, Request*) override
    {
      if (kind == 0)
        t->post(10e-6, p, 200); // posted while held: waits too
      else
        t->release_hold();
    }
  } timer;
  timer.t = &t;
  timer.p = &p;
  t.hold();
  for (int k = 1; k <= 3; ++k)
    t.post(10e-6, &p, k);
  q.schedule_in(20e-6, &timer, 0);
  q.schedule_in(50e-6, &timer, 1);
  run_and_end(1.0);
  EXPECT_FALSE(t.held());
  EXPECT_EQ(t.pending(), 0u);
  return p.ran;
}
} // namespace

TEST(CpuThread, HeldThreadRunsNothingUntilReleasedThenRunsItsWorkInOrder)
{
  auto ran = run_held(1);
  ASSERT_FALSE(ran.empty());
  EXPECT_NEAR(ran.front().second, 60e-6, 1e-12); // the first item starts at the release, 50 us, and takes 10 us
  EXPECT_EQ(kinds_of(ran), (std::vector<int>{1, 2, 3, 200, 101, 102, 103}));
}

TEST(CpuThread, HeldThreadInActorModeRunsNothingUntilReleased)
{
  auto ran = run_held(2); // more threads than cores: the thread is an actor
  ASSERT_FALSE(ran.empty());
  EXPECT_GE(ran.front().second, 60e-6 - 1e-9);
  EXPECT_EQ(ran.size(), 7u);
}

TEST(CpuThread, OwnPreemptionAddsToThePoolsAndIsCountedApart)
{
  // 0.5 s of CPU work; the pool loses the core 2000 times per CPU-second for 10 us, the thread's own source 10000
  // times for 20 us: 5000 own losses expected (Poisson, sd 71), every one counted in both totals.
  auto* host = make_engine();
  EventQueue q;
  CoreLoad load;
  load.preemption = Preemption{2000, Distribution::deterministic(10e-6), 7};
  CpuThread t("vcpu0", 1e-3);
  t.set_own_preemption(Preemption{10000, Distribution::deterministic(20e-6), 9});
  t.start(host, &load, q);
  for (int i = 0; i < 25000; ++i)
    t.post(20e-6, nullptr, 0);
  run_and_end(10.0);
  double own = static_cast<double>(t.own_preemptions()), pool = static_cast<double>(t.preemptions()) - own;
  std::printf("own losses expected 5000 +- 300, got %.0f; pool's expected 1000 +- 150, got %.0f\n", own, pool);
  EXPECT_NEAR(own, 5000, 300);
  EXPECT_NEAR(pool, 1000, 150);
  EXPECT_NEAR(t.own_preempted_s(), own * 20e-6, 1e-9);
  EXPECT_NEAR(t.preempted_s(), own * 20e-6 + pool * 10e-6, 1e-9);
}
