/* SpinLock with CpuThreads: N threads, each thinking (Z, without the lock) then holding the lock (h), forever. The
 * closed forms: the machine-repairman queue (finite source, exponential think and hold) when the lock word is free to
 * move; saturation at 1 / (h + c) for a queued lock and 1 / (h + N/2 c) for a ticket lock (N - 1 spinning at each
 * release, the handover (N - 1 + 1) / 2 transfers of c); processor sharing of the spinners when threads outnumber the
 * cores. Each check prints the expected value, the simulated one and the tolerance. */
#include "sim/cpu_thread.hpp"
#include "sim/platform.hpp"
#include "sim/spin_lock.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>
#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include <cmath>
#include <memory>
#include <random>

using namespace pvsim;
using pvsim::test::expect_close;

namespace {

simgrid::s4u::Host* make_host(int cores)
{
  xbt_log_control_set("root.thresh:warning");
  static int argc     = 1;
  static char name[]  = "test";
  static char* argv[] = {name, nullptr};
  new simgrid::s4u::Engine(&argc, argv);
  auto* z = simgrid::s4u::create_full_zone("z");
  auto* h = z->create_host("h", Platform::reference_flops);
  h->set_core_count(cores);
  z->seal();
  return h;
}

struct LockLoop {
  int threads         = 4;
  int cores           = 4; // threads > cores: actor mode
  int sockets         = 1; // threads split evenly over them
  double think_s      = 0; // mean
  double hold_s       = 1e-6;
  bool exponential    = false; // think and hold drawn exponential (else deterministic)
  SpinLock::Kind kind = SpinLock::Kind::qspinlock;
  LineCost cost       = {0, 0};
  int data_lines      = 0;
  PvSpin pv;
  Preemption preemption; // of the threads' cores by outside work
  double duration_s = 0.05;
  bool second_item  = false; // the critical section goes on in a second item its continuation posts (h/2 each)
};

struct Outcome {
  double acquisitions_per_s;
  double wait_per_acquisition_s;
  std::uint64_t acquisitions;
  std::uint64_t contended;
  std::uint64_t transfers;
  double cpu_s;  // all threads
  double work_s; // think + hold posted and run
  double wait_s;
  std::uint64_t overlaps; // a holder found the lock's critical section already running: must stay 0
};

struct Worker : EventTarget {
  enum { thought = 0, held = 1, held_more = 2 };
  CpuThread* thread       = nullptr;
  SpinLock* lock          = nullptr;
  const LockLoop* s       = nullptr;
  std::mt19937_64* rng    = nullptr;
  EventQueue* q           = nullptr;
  double* last_end        = nullptr; // when the last critical section ended (any thread)
  std::uint64_t* overlaps = nullptr;
  double* work_s          = nullptr;
  double draw(double mean)
  {
    if (not s->exponential or mean == 0)
      return mean;
    return std::exponential_distribution<double>(1.0 / mean)(*rng);
  }
  /** With deterministic holds, two critical sections that end less than h apart overlapped. */
  void section_ended()
  {
    double now = q->now();
    if (not s->exponential and now - *last_end < s->hold_s * (1 - 1e-9))
      ++*overlaps;
    *last_end = now;
  }
  void think()
  {
    double z = draw(s->think_s);
    *work_s += z;
    thread->post(z, this, thought);
  }
  void on_event(int kind, Request*) override
  {
    switch (kind) {
    case thought: {
      double h = draw(s->hold_s);
      *work_s += h;
      thread->post_next_locked(lock, s->second_item ? h / 2 : h, this, held);
      break;
    }
    case held:
      if (s->second_item) {
        thread->post_next_locked(lock, s->hold_s / 2, this, held_more);
        break;
      }
      section_ended();
      think();
      break;
    case held_more:
      section_ended();
      think();
      break;
    }
  }
};

Outcome run(const LockLoop& s)
{
  auto* host = make_host(s.cores);
  EventQueue q;
  CoreLoad load;
  load.cores      = s.cores;
  load.threads    = s.threads;
  load.preemption = s.preemption;
  SpinLock lock("lock", s.kind, s.cost, s.data_lines);
  lock.set_paravirt(s.pv);
  StatSet stats;
  lock.track_stats(stats, "/lock");
  std::mt19937_64 rng(42);
  double last_end        = -1;
  std::uint64_t overlaps = 0;
  double work_s          = 0;
  std::vector<std::unique_ptr<CpuThread>> threads;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < s.threads; ++i) {
    std::string name = std::to_string(i); // the thread's name: its number
    threads.push_back(std::make_unique<CpuThread>(name, 20e-6));
    threads.back()->set_place({i, i * s.sockets / s.threads});
    threads.back()->start(host, &load, q);
    auto w      = std::make_unique<Worker>();
    w->thread   = threads.back().get();
    w->lock     = &lock;
    w->s        = &s;
    w->rng      = &rng;
    w->q        = &q;
    w->last_end = &last_end;
    w->overlaps = &overlaps;
    w->work_s   = &work_s;
    workers.push_back(std::move(w));
  }
  for (auto& w : workers)
    w->think();
  auto* e = simgrid::s4u::Engine::get_instance();
  e->run_until(s.duration_s);
  Outcome o{};
  o.acquisitions           = lock.acquisitions();
  o.contended              = lock.contended();
  o.transfers              = lock.transfers();
  o.acquisitions_per_s     = static_cast<double>(o.acquisitions) / s.duration_s;
  o.wait_s                 = lock.wait_s();
  o.wait_per_acquisition_s = o.acquisitions > 0 ? lock.wait_s() / static_cast<double>(o.acquisitions) : 0;
  for (auto& t : threads)
    o.cpu_s += t->cpu_s();
  o.work_s   = work_s;
  o.overlaps = overlaps;
  for (auto& actor : e->get_all_actors())
    actor->kill();
  e->run_until(s.duration_s);
  return o;
}

/** Machine repairman (M/M/1//N): N sources thinking Z on average, one server of mean service h. */
double repairman_throughput(int n, double z, double h)
{
  double sum = 0, term = 1;
  for (int k = 0; k <= n; ++k) {
    sum += term;
    term *= static_cast<double>(n - k) * h / z;
  }
  return (1 - 1 / sum) / h;
}

} // namespace

TEST(SpinLock, ClosedLoopThreadsMatchTheMachineRepairmanQueue)
{
  LockLoop s;
  s.threads     = 4;
  s.think_s     = 3e-6;
  s.hold_s      = 1e-6;
  s.exponential = true;
  s.duration_s  = 0.5;
  Outcome o     = run(s);
  double x      = repairman_throughput(4, 3e-6, 1e-6);
  expect_close("lock acquisitions/s, N=4 Z=3us h=1us", o.acquisitions_per_s, x, 0.02);
  // Response time law: each cycle is think + spin + hold, so the spin is N / X - Z - h.
  expect_close("spin per acquisition", o.wait_per_acquisition_s, 4 / x - 3e-6 - 1e-6, 0.03);
}

namespace {
/** N threads always wanting the lock (no think time), on a core each, lines at 45 ns. */
double saturated(int n, SpinLock::Kind kind)
{
  LockLoop s;
  s.threads    = n;
  s.cores      = n;
  s.kind       = kind;
  s.cost       = {45e-9, 120e-9};
  s.duration_s = 0.01;
  Outcome o    = run(s);
  EXPECT_EQ(o.overlaps, 0u) << "two threads held the lock at once";
  return o.acquisitions_per_s;
}
} // namespace

// A queued lock: one transfer per handover whatever the queue, so flat past saturation at 1 / (h + c).
TEST(SpinLock, AQueuedLockOf4ThreadsSaturatesAtOneOverHoldPlusTransfer)
{
  expect_close("qspinlock saturation, N=4", saturated(4, SpinLock::Kind::qspinlock), 1 / (1e-6 + 45e-9), 0.005);
}

TEST(SpinLock, AQueuedLockOf16ThreadsSaturatesAtTheSameRate)
{
  expect_close("qspinlock saturation, N=16", saturated(16, SpinLock::Kind::qspinlock), 1 / (1e-6 + 45e-9), 0.005);
}

// A ticket lock: N - 1 threads spin at each release, the handover takes N/2 transfers: 1 / (h + N/2 c), falling.
TEST(SpinLock, ATicketLockOf4ThreadsHandsOverIn2Transfers)
{
  expect_close("ticket saturation, N=4", saturated(4, SpinLock::Kind::ticket), 1 / (1e-6 + 2 * 45e-9), 0.005);
}

TEST(SpinLock, ATicketLockOf16ThreadsHandsOverIn8TransfersAndIsSlowerThanWith4)
{
  double x16 = saturated(16, SpinLock::Kind::ticket);
  expect_close("ticket saturation, N=16", x16, 1 / (1e-6 + 8 * 45e-9), 0.005);
  EXPECT_LT(x16, 0.95 / (1e-6 + 2 * 45e-9)) << "16 spinning threads must cost more than 4";
}

TEST(SpinLock, TwoAlternatingThreadsMoveTheLockWordOncePerAcquisition)
{
  LockLoop s;
  s.threads    = 2;
  s.cores      = 2;
  s.cost       = {45e-9, 120e-9};
  s.duration_s = 0.01;
  Outcome o    = run(s);
  // Each always wants the lock back at once: they alternate, and every acquisition but the first (no owner before)
  // moves the word.
  EXPECT_EQ(o.transfers + 1, o.acquisitions);
  expect_close("alternating 2 threads", o.acquisitions_per_s, 1 / (1e-6 + 45e-9), 0.005);
}

TEST(SpinLock, TheProtectedDataFollowsTheLockFromCoreToCore)
{
  LockLoop s;
  s.threads    = 2;
  s.cores      = 2;
  s.cost       = {45e-9, 120e-9};
  s.data_lines = 4;
  s.duration_s = 0.01;
  Outcome o    = run(s);
  // Each handover moves the lock word and the 4 lines the critical section writes: 1 / (h + 5 c).
  expect_close("alternating 2 threads, 4 data lines", o.acquisitions_per_s, 1 / (1e-6 + 5 * 45e-9), 0.005);
}

TEST(SpinLock, AParavirtualWaiterPastTheThresholdLeavesTheLockIdleUntilItsVcpuRuns)
{
  // 4 threads always wanting the lock: each waits 3 holds, far past a 0.5 us threshold, so every handover goes to a
  // blocked vCPU: the lock is idle for the 5 us wake-up, 1 / (h + c + wake); the releaser's 1 us kick comes after it
  // lets go, off the lock's path.
  LockLoop s;
  s.threads    = 4;
  s.cost       = {45e-9, 120e-9};
  s.pv         = PvSpin{true, 0.5e-6, 1e-6, 5e-6};
  s.duration_s = 0.01;
  Outcome o    = run(s);
  expect_close("paravirtual handovers", o.acquisitions_per_s, 1 / (1e-6 + 45e-9 + 5e-6), 0.01);
}

TEST(SpinLock, AHolderPreemptedInsideItsCriticalSectionKeepsTheLockWhileOffItsCore)
{
  // Lock-holder preemption: 4 threads always wanting the lock; a running thread loses its core 1000 times per second
  // of CPU for 100 us. Only the holder runs (the others spin, which is not CPU work the preemption draws on here), so
  // each hold of h is stretched by h x 1000/s x 100 us on average, and the waiters spin through it: 1 / (h (1 + 0.1)).
  LockLoop s;
  s.threads    = 4;
  s.preemption = Preemption{1000, Distribution::deterministic(100e-6), 5};
  s.duration_s = 1;
  Outcome o    = run(s);
  expect_close("preempted holders", o.acquisitions_per_s, 1 / (1e-6 * 1.1), 0.02);
}

TEST(SpinLock, AThreadTakingItsOwnLockAgainPaysNoTransfer)
{
  LockLoop s;
  s.threads    = 1;
  s.cores      = 1;
  s.think_s    = 1e-6;
  s.data_lines = 4;
  s.cost       = {45e-9, 120e-9};
  s.duration_s = 0.001;
  Outcome o    = run(s);
  EXPECT_GT(o.acquisitions, 400u);
  EXPECT_EQ(o.contended, 0u);
  EXPECT_EQ(o.transfers, 0u);
  EXPECT_EQ(o.wait_s, 0.0);
}

TEST(SpinLock, AHandoverAcrossSocketsCostsTheRemoteTransfer)
{
  LockLoop s;
  s.threads    = 2;
  s.cores      = 2;
  s.sockets    = 2;
  s.cost       = {45e-9, 120e-9};
  s.duration_s = 0.01;
  Outcome o    = run(s);
  expect_close("alternating across sockets", o.acquisitions_per_s, 1 / (1e-6 + 120e-9), 0.005);
}

TEST(SpinLock, SpinningBurnsTheWaitingThreadsCpu)
{
  LockLoop s;
  s.threads    = 4;
  s.think_s    = 2e-6;
  s.cost       = {45e-9, 120e-9};
  s.duration_s = 0.01;
  Outcome o    = run(s);
  EXPECT_GT(o.contended, 0u);
  // Every thread is always thinking, spinning or holding: its CPU is all three, and the cores are never idle.
  expect_close("CPU = work + spinning (handovers and transfers included)", o.cpu_s, o.work_s + o.wait_s, 0.01);
  expect_close("4 threads busy all the time", o.cpu_s, 4 * s.duration_s, 0.01);
}

TEST(SpinLock, ACriticalSectionGoesOnInTheWorkItsContinuationPostsUnderTheLock)
{
  LockLoop s;
  s.threads     = 4;
  s.second_item = true; // h/2, then h/2 more posted by the first half's continuation
  s.duration_s  = 0.01;
  Outcome o     = run(s);
  EXPECT_EQ(o.overlaps, 0u);
  // One acquisition per critical section of h: saturation at 1 / h, not at 2 / h.
  expect_close("one acquisition per two-item critical section", o.acquisitions_per_s, 1 / 1e-6, 0.005);
}

TEST(SpinLock, SpinnersTakeTheirShareOfTheCoresWhenThreadsOutnumberThem)
{
  LockLoop s;
  s.threads    = 4;
  s.cores      = 2; // 1 holder and 3 spinners share 2 cores: the holder runs at half speed
  s.duration_s = 0.01;
  Outcome o    = run(s);
  expect_close("holder at 2 cores / 4 runnable threads", o.acquisitions_per_s, 0.5 / 1e-6, 0.01);
  EXPECT_EQ(o.overlaps, 0u);
}
