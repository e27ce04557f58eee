/* xen.blkfront's ring_lock: which lock the domU's kernel has, what runs inside it (the notify hypercall), who
 * contends on it, and that switching it off removes it. */
#include "tests/models/xen/blk/xen_blk_setup.hpp"

using namespace pvsim;
using namespace pvsim::test;

namespace {
const json& ring0_lock(const json& r)
{
  return r["components"]["xvda"]["rings"][0]["ring_lock"];
}
} // namespace

TEST(RingLock, IsATicketLockUpToLinux4_1)
{
  XenSetup s;
  s.domU = {{"kernel", "4.1"}};
  json r = run(s);
  EXPECT_EQ(r["components"]["xvda"]["ring_lock"], "ticket");
  EXPECT_EQ(ring0_lock(r)["kind"], "ticket");
}

TEST(RingLock, IsAQueuedSpinlockFromLinux4_2)
{
  XenSetup s;
  s.domU = {{"kernel", "4.2"}};
  json r = run(s);
  EXPECT_EQ(ring0_lock(r)["kind"], "qspinlock");
}

TEST(RingLock, HoldsTheNotifyHypercallAndTheInterruptsResponses)
{
  // One request at a time notifies both ways: each request holds the lock for queue_rq + notify (submission) and
  // for its response (blkif_interrupt). Lines move for free here, so the hold is exactly that work.
  XenSetup s;
  s.host           = {{"line_transfer", "0ns"}, {"line_transfer_remote", "0ns"}};
  s.front          = {{"queue_rq_cpu", "1us"}, {"notify_cpu", "10us"}, {"response_cpu", "2us"}, {"copy_cpu", "0us"}};
  json r           = run(s, 0.05);
  double completed = r["jobs"]["fio"]["iops"].get<double>() * r["window_s"].get<double>();
  double per_req   = ring0_lock(r)["hold_s"].get<double>() / completed;
  std::printf("[check] ring_lock held per request: expected 13 us (1 + 10 + 2), simulated %.3f us\n", per_req * 1e6);
  EXPECT_NEAR(per_req, 13e-6, 0.2e-6);
  EXPECT_NEAR(ring0_lock(r)["acquisitions"].get<double>() / completed, 2.0, 0.02);
}

TEST(RingLock, JobsOnSeveralVcpusSharingOneRingSpinOnItsLock)
{
  XenSetup s;
  s.vcpus   = 4;
  s.numjobs = 4;
  s.iodepth = 8;
  s.front   = {{"max_queues", 1}};
  json r    = run(s);
  EXPECT_GT(ring0_lock(r)["contended"].get<int>(), 0);
  EXPECT_GT(ring0_lock(r)["wait_s"].get<double>(), 0.0);
  EXPECT_GT(r["components"]["xvda"]["rings"][0]["header_line_transfers"].get<int>(), 0);
  ASSERT_TRUE(r.contains("contention"));
  EXPECT_EQ(r["contention"]["locks"][0]["lock"], "xvda/rings/0/ring_lock");
}

TEST(RingLock, OffLeavesNoLockAndNoSpinning)
{
  XenSetup s;
  s.vcpus   = 4;
  s.numjobs = 4;
  s.iodepth = 8;
  s.front   = {{"max_queues", 1}, {"ring_lock", "off"}};
  json r    = run(s);
  EXPECT_EQ(r["components"]["xvda"]["ring_lock"], "off");
  EXPECT_FALSE(r["components"]["xvda"]["rings"][0].contains("ring_lock"));
}

TEST(LegacyBlkfront, HasOneRingWhateverMaxQueuesAndAQueueOfNrRequestsInFrontOfIt)
{
  XenSetup s;
  s.vcpus       = 4;
  s.numjobs     = 4;
  s.iodepth     = 64;
  s.front       = {{"driver", "legacy"}, {"max_queues", 4}};
  json r        = run(s);
  const json& x = r["components"]["xvda"];
  EXPECT_EQ(x["rings"].size(), 1u);
  EXPECT_EQ(r["components"]["blkmq"]["hw_queues"][0]["nr_tags"], 128); // BLKDEV_MAX_RQ
  // 256 requests wanted, 128 in the queue, 32 in the ring: the rest of the queue waits for the interrupt to send it.
  EXPECT_GT(x["requests_waited_for_ring"].get<int>(), 0);
  EXPECT_LE(x["rings"][0]["mean_occupancy"].get<double>(), 32.0);
}

TEST(LegacyBlkfront, ItsIoLockAlsoHoldsTheElevatorAndTheEndOfEachRequest)
{
  // One request at a time: the lock is held for the block layer's insert, the ring fill and notify, then for the
  // response and __blk_end_request_all: 3 + 1 + 10 + 2 + 4 us per request.
  XenSetup s;
  s.host  = {{"line_transfer", "0ns"}, {"line_transfer_remote", "0ns"}};
  s.front = {{"driver", "legacy"},    {"elevator_cpu", "3us"},    {"queue_rq_cpu", "1us"}, {"notify_cpu", "10us"},
             {"response_cpu", "2us"}, {"end_request_cpu", "4us"}, {"copy_cpu", "0us"}};
  json r  = run(s, 0.05);
  double completed = r["jobs"]["fio"]["iops"].get<double>() * r["window_s"].get<double>();
  double per_req   = ring0_lock(r)["hold_s"].get<double>() / completed;
  std::printf("[check] io_lock held per request: expected 20 us (3 + 1 + 10 + 2 + 4), simulated %.3f us\n",
              per_req * 1e6);
  EXPECT_NEAR(per_req, 20e-6, 0.3e-6);
}

TEST(RingLock, IsParavirtualInAGuestOfSeveralVcpusUnlessTurnedOff)
{
  XenSetup s;
  s.vcpus   = 4;
  s.numjobs = 4;
  s.iodepth = 64;
  s.front   = {{"driver", "legacy"}, {"elevator_cpu", "20us"}}; // waits far past the 130 us threshold
  json r    = run(s);
  EXPECT_GT(ring0_lock(r)["pv_kicks"].get<int>(), 0);
}

TEST(RingLock, WithoutParavirtualSpinlocksWaitersSpinAndAreNeverKicked)
{
  XenSetup s;
  s.vcpus   = 4;
  s.numjobs = 4;
  s.iodepth = 64;
  s.front   = {{"driver", "legacy"}, {"elevator_cpu", "20us"}};
  s.domU    = {{"pv_spinlocks", false}};
  json r    = run(s);
  EXPECT_GT(ring0_lock(r)["contended"].get<int>(), 0);
  EXPECT_FALSE(ring0_lock(r).contains("pv_kicks"));
}
