#include "sim/event_heap.hpp"

#include "sim/rng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

using namespace pvsim;

// The radix heap must take events in exactly the order of a binary heap keyed by (time, sequence number): runs stay
// byte-identical whichever holds the events.

TEST(EventHeap, TakesEventsInTimeOrderAndTiesInTheOrderPushed)
{
  EventHeap<int> h;
  h.push(3e-6, 30);
  h.push(1e-6, 10);
  h.push(2e-6, 20);
  h.push(2e-6, 21);
  h.push(0.5, 50);
  h.push(2e-6, 22);
  std::vector<std::pair<double, int>> got;
  while (not h.empty()) {
    int p;
    double t = h.pop(p);
    got.emplace_back(t, p);
  }
  std::vector<std::pair<double, int>> want{{1e-6, 10}, {2e-6, 20}, {2e-6, 21}, {2e-6, 22}, {3e-6, 30}, {0.5, 50}};
  EXPECT_EQ(got, want);
}

TEST(EventHeap, MatchesATimeThenSequenceOrderUnderRandomInterleavedPushesAndPops)
{
  // A simulation's pattern: pop the earliest, push a few events at now + a delay drawn from a wide range, including
  // zero delays and delays that land on times already pending (ties).
  EventHeap<std::uint64_t> h;
  using Ev = std::tuple<double, std::uint64_t>; // (time, sequence): the reference order
  std::vector<Ev> ref;
  Rng rng(7, "event-heap");
  std::uint64_t seq   = 0;
  double now          = 0;
  const double grid[] = {0.0, 1e-6, 2.5e-6, 1e-3, 0.1};
  for (int i = 0; i < 200; ++i) {
    double t = now + rng.exponential(1e-5);
    h.push(t, seq);
    ref.emplace_back(t, seq++);
  }
  std::size_t taken = 0;
  while (not h.empty()) {
    auto it = std::min_element(ref.begin(), ref.end());
    ASSERT_DOUBLE_EQ(h.min_time(), std::get<0>(*it));
    std::uint64_t p;
    double t = h.pop(p);
    ASSERT_EQ(t, std::get<0>(*it)) << "event " << taken;
    ASSERT_EQ(p, std::get<1>(*it)) << "event " << taken << ": ties must come out in the order pushed";
    ref.erase(it);
    now = t;
    ++taken;
    if (taken < 100000) {
      int n = ref.size() < 100 ? 2 : static_cast<int>(rng.uniform() * 3); // 0, 1 or 2 new events, about 100 pending
      for (int k = 0; k < n; ++k) {
        double u  = rng.uniform();
        double dt = u < 0.3 ? grid[static_cast<int>(rng.uniform() * 5)] : rng.exponential(u < 0.9 ? 1e-5 : 1e-2);
        h.push(now + dt, seq);
        ref.emplace_back(now + dt, seq++);
      }
    }
    ASSERT_EQ(h.size(), ref.size());
  }
  EXPECT_GT(taken, 100000u);
}

TEST(EventHeap, AnEventPushedBeforeTheLastTimeTakenIsRaisedToIt)
{
  EventHeap<int> h;
  h.push(1.0, 1);
  int p;
  h.pop(p);
  h.push(0.5, 2); // the queue never does this (it schedules at max(when, now)); the heap keeps its invariant anyway
  EXPECT_EQ(h.min_time(), 1.0);
  EXPECT_EQ(h.pop(p), 1.0);
  EXPECT_EQ(p, 2);
}

TEST(EventHeap, ClearForgetsEveryEvent)
{
  EventHeap<int> h;
  for (int i = 0; i < 10; ++i)
    h.push(i * 1e-3, i);
  h.clear();
  EXPECT_TRUE(h.empty());
  h.push(5e-3, 7);
  int p;
  EXPECT_EQ(h.pop(p), 5e-3);
  EXPECT_EQ(p, 7);
}

TEST(EventHeap, EventsScheduledAmongTheNextFewRunInOrderAndTiesAfterTheirEquals)
{
  // A few events are taken together into the heap's sorted front; events scheduled among them are inserted there,
  // and past the front's limit the front goes back to the buckets: the order must not depend on which happens.
  EventHeap<int> h;
  using Ev = std::pair<double, int>; // (time, sequence)
  std::vector<Ev> ref;
  int seq = 0;
  for (int i = 0; i < 8; ++i) {
    h.push(1e-3 + i * 1e-6, seq);
    ref.emplace_back(1e-3 + i * 1e-6, seq++);
  }
  int p;
  double now = h.pop(p);
  ASSERT_EQ(p, 0);
  ref.erase(ref.begin());
  for (int i = 0; i < 40; ++i) { // inside the 7 left, on their times and between them, then past the limit
    double t = now + (i % 8) * 1e-6 + (i % 3 == 0 ? 0.0 : 0.4e-6);
    h.push(t, seq);
    ref.emplace_back(t, seq++);
  }
  std::sort(ref.begin(), ref.end());
  for (const Ev& e : ref) {
    double t = h.pop(p);
    ASSERT_EQ(t, e.first);
    ASSERT_EQ(p, e.second) << "ties come out in the order pushed";
  }
  EXPECT_TRUE(h.empty());
}
