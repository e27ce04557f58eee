#include "sim/ring_queue.hpp"

#include <gtest/gtest.h>

#include <deque>

using namespace pvsim;

namespace {
template <class Q>
std::vector<int> drain(Q& q)
{
  std::vector<int> out;
  while (not q.empty()) {
    out.push_back(q.front());
    q.pop_front();
  }
  return out;
}
} // namespace

TEST(RingQueue, IsFirstInFirstOutAcrossGrowthAndWrapAround)
{
  RingQueue<int> q;
  std::deque<int> ref;
  int next = 0;
  for (int round = 0; round < 50; ++round) { // the head walks around the buffer while it doubles
    for (int k = 0; k < round % 7 + 1; ++k) {
      q.push_back(next);
      ref.push_back(next++);
    }
    for (int k = 0; k < round % 5 and not ref.empty(); ++k) {
      ASSERT_EQ(q.front(), ref.front());
      q.pop_front();
      ref.pop_front();
    }
    ASSERT_EQ(q.size(), ref.size());
  }
  EXPECT_EQ(drain(q), std::vector<int>(ref.begin(), ref.end()));
}

TEST(RingQueue, InsertAtPutsAnItemThatManyPlacesBehindTheFront)
{
  RingQueue<int> q;
  for (int v : {10, 11, 12, 13, 14, 15, 16}) // 7 of 8 slots, then past the end of the buffer
    q.push_back(v);
  q.pop_front();
  q.pop_front();
  q.insert_at(0, 1);
  q.insert_at(1, 2);
  q.insert_at(7, 99); // at the back
  q.push_front(0);
  EXPECT_EQ(drain(q), (std::vector<int>{0, 1, 2, 12, 13, 14, 15, 16, 99}));
}
