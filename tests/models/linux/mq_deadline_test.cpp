/* mq-deadline's queues (models/linux/mq_deadline.hpp): the order it dispatches in, as block/mq-deadline.c does. */
#include "models/linux/mq_deadline.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

using namespace pvsim;

namespace {

constexpr std::uint64_t MiB = 1 << 20;

/** Requests of one hardware queue, each with its own scheduler tag. */
class Requests {
public:
  Request* make(Op op, std::uint64_t offset_mib)
  {
    pool_.emplace_back();
    Request* r    = &pool_.back();
    r->id         = next_id_++;
    r->op         = op;
    r->offset     = offset_mib * MiB;
    r->size_bytes = 4096;
    r->queue      = 0;
    r->tag        = static_cast<int>(pool_.size()) - 1;
    return r;
  }

private:
  std::deque<Request> pool_;
  std::uint64_t next_id_ = 1;
};

/** The offsets (MiB) of everything dispatched at time `now`, in order. */
std::vector<std::uint64_t> drain(MqDeadline& dd, double now)
{
  std::vector<std::uint64_t> out;
  while (Request* r = dd.dispatch(now))
    out.push_back(r->offset / MiB);
  return out;
}

} // namespace

TEST(MqDeadline, ReadsGoInAscendingSectorOrder)
{
  MqDeadline dd({}, 1, 64);
  Requests rq;
  for (std::uint64_t at : {50, 10, 30, 20})
    dd.insert(rq.make(Op::read, at), 0.0);
  EXPECT_EQ(dd.queued(), 4u);
  EXPECT_EQ(drain(dd, 0.001), (std::vector<std::uint64_t>{10, 20, 30, 50}));
  EXPECT_EQ(dd.queued(), 0u);
}

TEST(MqDeadline, TheSweepGoesOnFromWhereTheLastRequestEndedThenStartsAgainFromTheOldest)
{
  // deadline_next_request(): the first request at or after latest_pos; none above it: the FIFO's oldest.
  MqDeadline dd({}, 1, 64);
  Requests rq;
  dd.insert(rq.make(Op::read, 40), 0.0);
  dd.insert(rq.make(Op::read, 10), 0.0);
  ASSERT_EQ(dd.dispatch(0.0)->offset / MiB, 10u); // the sweep starts at sector 0
  dd.insert(rq.make(Op::read, 5), 0.001);         // behind the sweep: waits for the next one
  dd.insert(rq.make(Op::read, 70), 0.001);
  EXPECT_EQ(drain(dd, 0.002), (std::vector<std::uint64_t>{40, 70, 5}));
}

TEST(MqDeadline, AReadPastItsDeadlineIsServedBeforeTheSweep)
{
  // read_expire 500 ms: once the oldest read's deadline has passed, a new batch starts from it (deadline_check_fifo).
  MqDeadlineTunables t;
  t.fifo_batch = 1; // every dispatch is a new batch, so the FIFO is looked at each time
  MqDeadline dd(t, 1, 64);
  Requests rq;
  dd.insert(rq.make(Op::read, 90), 0.0);
  dd.insert(rq.make(Op::read, 10), 0.4);
  dd.insert(rq.make(Op::read, 20), 0.4);
  EXPECT_EQ(dd.dispatch(0.45)->offset / MiB, 10u); // nothing expired: sector order
  EXPECT_EQ(dd.expired(), 0u);
  EXPECT_EQ(dd.dispatch(0.6)->offset / MiB, 90u); // the read queued at 0 expired at 0.5: it goes first
  EXPECT_EQ(dd.expired(), 1u);
  EXPECT_EQ(dd.dispatch(0.6)->offset / MiB, 20u);
}

TEST(MqDeadline, WritesWaitForWritesStarvedReadBatchesThenGetOne)
{
  // writes_starved 2, batches of one request: a write that arrives while reads are queued waits for two reads.
  MqDeadlineTunables t;
  t.fifo_batch = 1;
  MqDeadline dd(t, 1, 64);
  Requests rq;
  for (std::uint64_t at : {10, 20, 30, 40})
    dd.insert(rq.make(Op::read, at), 0.0);
  std::vector<Op> order{dd.dispatch(0.001)->op};
  dd.insert(rq.make(Op::write, 1), 0.001);
  while (Request* r = dd.dispatch(0.002))
    order.push_back(r->op);
  EXPECT_EQ(order, (std::vector<Op>{Op::read, Op::read, Op::read, Op::write, Op::read}));
}

TEST(MqDeadline, ABatchKeepsItsDirectionUpToFifoBatchRequests)
{
  // dd_init_sched() starts with last_dir = DD_WRITE: the first batch is the writes', 4 long (fifo_batch), in sector
  // order; then the reads (writes have not starved yet), then the rest of the writes.
  MqDeadlineTunables t;
  t.fifo_batch = 4;
  MqDeadline dd(t, 1, 64);
  Requests rq;
  for (std::uint64_t at : {1, 2, 3, 4, 5, 6})
    dd.insert(rq.make(Op::write, at), 0.0);
  dd.insert(rq.make(Op::read, 100), 0.0);
  dd.insert(rq.make(Op::read, 200), 0.0);
  EXPECT_EQ(drain(dd, 0.001), (std::vector<std::uint64_t>{1, 2, 3, 4, 100, 200, 5, 6}));
}

TEST(MqDeadline, TheSortTreeSearchVisitsAboutLog2OfItsNodes)
{
  MqDeadline dd({}, 1, 256);
  Requests rq;
  EXPECT_EQ(dd.search_depth(Op::read), 0);
  for (int i = 0; i < 255; ++i)
    dd.insert(rq.make(Op::read, static_cast<std::uint64_t>(i)), 0.0);
  EXPECT_EQ(dd.search_depth(Op::read), 8); // 255 nodes: a balanced tree of 8 levels
  EXPECT_EQ(dd.search_depth(Op::write), 0);
}
