/* The discrete CPU schedulers (sim/core_scheduler.hpp with models/host/sched_credit2.cpp and sched_cfs.cpp): shares
 * by weight, caps, slice lengths, wake-up preemption and lock-holder preemption, each against its closed form. */
#include "sim/core_scheduler.hpp"
#include "sim/cpu_thread.hpp"

#include <gtest/gtest.h>
#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include <memory>
#include <vector>

using namespace pvsim;

namespace {

/** One simulation: `cores` cores shared by the threads the test adds, under `policy`. */
struct Pool {
  simgrid::s4u::Host* host = nullptr;
  EventQueue q;
  CoreLoad load;
  SchedStats stats;
  std::unique_ptr<CoreScheduler> sched;
  std::vector<std::unique_ptr<CpuThread>> threads;

  Pool(int cores, const std::string& policy, SchedTunables t = {})
  {
    xbt_log_control_set("root.thresh:warning");
    static int argc     = 1;
    static char name[]  = "test";
    static char* argv[] = {name, nullptr};
    new simgrid::s4u::Engine(&argc, argv);
    auto* z = simgrid::s4u::create_full_zone("z");
    host    = z->create_host("h", 1e9);
    host->set_core_count(cores);
    z->seal();
    load.cores         = cores;
    load.switch_cost_s = 0;
    sched =
        std::make_unique<CoreScheduler>(cores, sched_policies().get(policy).make(cores, t), q, 0, load.switches, stats);
    load.scheduler = sched.get();
  }
  CpuThread& add(const std::string& name, double weight = 0, int group = 0)
  {
    threads.push_back(std::make_unique<CpuThread>(name, 20e-6));
    CpuThread& t = *threads.back();
    t.set_sched_entity(sched->add(&t, name, weight, group));
    load.threads++;
    return t;
  }
  void start()
  {
    for (auto& t : threads)
      t->start(host, &load, q);
  }
  void run(double end_s)
  {
    auto* e = simgrid::s4u::Engine::get_instance();
    e->run_until(end_s);
    for (auto& actor : e->get_all_actors())
      actor->kill();
    e->run_until(end_s);
  }
};

/** A thread that always has work: `chunk_s` of CPU, posted again when done (a CPU hog). */
struct Hog : EventTarget {
  CpuThread* t   = nullptr;
  double chunk_s = 100e-6;
  void on_event(int, Request*) override { t->post(chunk_s, this, 0); }
  void go(CpuThread& thread)
  {
    t = &thread;
    t->post(chunk_s, this, 0);
  }
};

/** A thread woken every `period_s` for `work_s` of CPU: records how long each wake-up took to be served. */
struct Ticker : EventTarget {
  CpuThread* t    = nullptr;
  EventQueue* q   = nullptr;
  double period_s = 5e-3, work_s = 10e-6, posted_s = 0;
  std::vector<double> response_s;
  void on_event(int kind, Request*) override
  {
    if (kind == 1) { // the timer: post the work
      posted_s = q->now();
      t->post(work_s, this, 2);
      q->schedule_in(period_s, this, 1);
    } else {
      response_s.push_back(q->now() - posted_s);
    }
  }
};

double mean(const std::vector<double>& v)
{
  double s = 0;
  for (double x : v)
    s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

void expect_share(double got, double expected, double tol, const char* what)
{
  std::printf("%s: %.4f, expected %.4f +- %.4f\n", what, got, expected, tol);
  EXPECT_NEAR(got, expected, tol) << what;
}

} // namespace

TEST(SchedCredit2, TwoHogsOfEqualWeightShareOneCoreEvenly)
{
  Pool p(1, "credit2");
  Hog a, b;
  CpuThread& ta = p.add("a");
  CpuThread& tb = p.add("b");
  p.start();
  a.go(ta);
  b.go(tb);
  p.run(1.0);
  expect_share(ta.cpu_s(), 0.5, 0.01, "a's CPU in 1 s");
  expect_share(tb.cpu_s(), 0.5, 0.01, "b's CPU in 1 s");
}

TEST(SchedCredit2, WeightsSplitTheCoreInProportion)
{
  Pool p(1, "credit2");
  Hog a, b;
  CpuThread& ta = p.add("a", 512);
  CpuThread& tb = p.add("b", 256);
  p.start();
  a.go(ta);
  b.go(tb);
  p.run(1.0);
  // Credit burns at max_weight / weight: b burns twice as fast, so a runs 2/3 of the time.
  expect_share(ta.cpu_s(), 2.0 / 3, 0.02, "weight 512's CPU in 1 s");
  expect_share(tb.cpu_s(), 1.0 / 3, 0.02, "weight 256's CPU in 1 s");
}

TEST(SchedCredit2, EqualHogsAlternateAtTheRatelimit)
{
  Pool p(1, "credit2");
  Hog a, b;
  CpuThread& ta = p.add("a");
  CpuThread& tb = p.add("b");
  p.start();
  a.go(ta);
  b.go(tb);
  p.run(1.0);
  // Equal credit: csched2_runtime() gives CSCHED2_MIN_TIMER (500 us), raised to the 1 ms ratelimit: a switch per ms.
  double switches = static_cast<double>(p.stats.slice_switches.get());
  expect_share(switches, 1000, 20, "slice switches in 1 s");
}

TEST(SchedCredit2, ACapLimitsALoneHogToItsBudget)
{
  Pool p(1, "credit2");
  Hog a;
  CpuThread& ta = p.add("a", 0, 1);
  p.sched->set_cap(1, 0.25);
  p.start();
  a.go(ta);
  p.run(1.0);
  expect_share(ta.cpu_s(), 0.25, 0.01, "CPU of a hog capped at 25 % in 1 s");
  EXPECT_GT(p.stats.parked_s.get(), 0.7);
}

TEST(SchedCredit2, AWakingThreadWithMoreCreditPreemptsAHogPastTheRatelimit)
{
  Pool p(1, "credit2");
  Hog h;
  Ticker tk;
  CpuThread& th = p.add("hog");
  CpuThread& tt = p.add("ticker");
  p.start();
  h.go(th);
  tk.t = &tt;
  tk.q = &p.q;
  p.q.schedule_in(0.5e-3, &tk, 1);
  p.run(1.0);
  // The ticker barely burns credit: it always has more than the hog, which has run its 1 ms ratelimit most of the
  // time a tick comes (the hog runs 5 ms between ticks), so the tick is served within the ratelimit at worst.
  double m = mean(tk.response_s);
  std::printf("ticker's mean response: %.1f us (work 10 us), bounded by the 1 ms ratelimit; preemptions %llu\n",
              m * 1e6, static_cast<unsigned long long>(p.stats.wakeup_preemptions.get()));
  EXPECT_LT(m, 1e-3);
  EXPECT_GT(p.stats.wakeup_preemptions.get(), 150u);
}

TEST(SchedCfs, TwoHogsShareOneCoreEvenlyInSlicesOfHalfTheLatency)
{
  Pool p(1, "cfs");
  Hog a, b;
  CpuThread& ta = p.add("a");
  CpuThread& tb = p.add("b");
  p.start();
  a.go(ta);
  b.go(tb);
  p.run(1.0);
  expect_share(ta.cpu_s(), 0.5, 0.01, "a's CPU in 1 s");
  // One CPU: factor 1, sched_latency 6 ms, two equal threads: 3 ms slices, 333 switches a second.
  expect_share(static_cast<double>(p.stats.slice_switches.get()), 1.0 / 3e-3, 10, "slice switches in 1 s");
}

TEST(SchedCfs, WeightsSplitTheCoreInProportion)
{
  Pool p(1, "cfs");
  Hog a, b;
  CpuThread& ta = p.add("a", 2048);
  CpuThread& tb = p.add("b", 1024);
  p.start();
  a.go(ta);
  b.go(tb);
  p.run(1.0);
  expect_share(ta.cpu_s(), 2.0 / 3, 0.02, "weight 2048's CPU in 1 s");
}

TEST(SchedCfs, AWakingSleeperPreemptsAHog)
{
  Pool p(1, "cfs");
  Hog h;
  Ticker tk;
  CpuThread& th = p.add("hog");
  CpuThread& tt = p.add("ticker");
  p.start();
  h.go(th);
  tk.t = &tt;
  tk.q = &p.q;
  p.q.schedule_in(0.5e-3, &tk, 1);
  p.run(1.0);
  // place_entity() gives the sleeper min_vruntime - 3 ms: more than the 1 ms wake-up granularity behind the hog.
  double m = mean(tk.response_s);
  std::printf("ticker's mean response: %.1f us (work 10 us); preemptions %llu\n", m * 1e6,
              static_cast<unsigned long long>(p.stats.wakeup_preemptions.get()));
  EXPECT_LT(m, 20e-6);
}

TEST(CoreScheduler, AnOvercommittedPoolMakesWaitersSpinThroughADescheduledHolder)
{
  // Three threads on two cores take one spinlock for 10 us at a time, then work 30 us outside it. Without
  // descheduling, a waiter waits at most for the two others' sections (~20 us); with slices, a holder whose slice
  // ends inside its section keeps the lock while the other runs: waits of a slice (1 ms) appear.
  Pool p(2, "credit2");
  SpinLock lock("l", SpinLock::Kind::qspinlock, LineCost{0, 0});
  struct Locker : EventTarget {
    CpuThread* t = nullptr;
    SpinLock* l  = nullptr;
    void on_event(int kind, Request*) override
    {
      if (kind == 0)
        t->post_locked(l, 10e-6, this, 1);
      else
        t->post(30e-6, this, 0);
    }
  } lk[3];
  for (int i = 0; i < 3; ++i) {
    CpuThread& t = p.add("t" + std::to_string(i));
    lk[i].t      = &t;
    lk[i].l      = &lock;
  }
  p.start();
  for (auto& l : lk)
    l.on_event(0, nullptr);
  p.run(1.0);
  double per = lock.wait_s() / static_cast<double>(std::max<std::uint64_t>(lock.contended(), 1));
  std::printf("mean wait of a contended acquisition: %.1f us (without lock-holder preemption at most ~20 us)\n",
              per * 1e6);
  EXPECT_GT(per, 50e-6);
}
