/* The kernel eras of blk_mq_map_queues() (models/linux/blk_mq_map_eras.cpp). Every expected map below is derived by
 * hand from the kernel source of that era (the comments show the arithmetic), not from the implementation. A map is
 * written as the queue of CPU 0, 1, 2, ... */
#include "models/linux/blk_mq_map.hpp"

#include <gtest/gtest.h>

using namespace pvsim;

namespace {
std::vector<int> map_of(const std::string& policy, const CpuTopology& topo, int queues)
{
  return make_queue_map_policy(policy)->map(topo, queues);
}
CpuTopology smt2(int cpus) // siblings (0,1), (2,3), ...: QEMU's numbering with threads=2
{
  return CpuTopology::from_spec(1, cpus / 2, 2);
}
using V = std::vector<int>;
} // namespace

// linux-2015 (<= 4.12): no SMT, map[i] = i * Q / N.
TEST(BlkMqMapLinux2015, WithoutSmtContiguousBlocksOfCpus)
{
  EXPECT_EQ(map_of("linux-2015", CpuTopology::flat(4), 2), (V{0, 0, 1, 1}));             // i*2/4
  EXPECT_EQ(map_of("linux-2015", CpuTopology::flat(6), 4), (V{0, 0, 1, 2, 2, 3}));       // i*4/6
  EXPECT_EQ(map_of("linux-2015", CpuTopology::flat(8), 3), (V{0, 0, 0, 1, 1, 1, 2, 2})); // i*3/8
  EXPECT_EQ(map_of("linux-2015", CpuTopology::flat(16), 4),
            (V{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}));      // i*4/16
  EXPECT_EQ(map_of("linux-2015", CpuTopology::flat(2), 4), (V{0, 2})); // Q >= N: i*4/2
  EXPECT_EQ(map_of("linux-2015", CpuTopology::flat(1), 1), (V{0}));
}

TEST(BlkMqMapLinux2015, WithSmtCoresInBlocksAndSiblingsTogether)
{
  // 2 cores of 2 threads, Q = 2: nr_uniq = 2; CPU 0 -> 0*2/2 = 0, CPU 2 -> 1*2/2 = 1; CPUs 1, 3 follow.
  EXPECT_EQ(map_of("linux-2015", smt2(4), 2), (V{0, 0, 1, 1}));
  // 4 cores, Q = 2: first threads get 0*2/4, 1*2/4, 2*2/4, 3*2/4 = 0, 0, 1, 1.
  EXPECT_EQ(map_of("linux-2015", smt2(8), 2), (V{0, 0, 0, 0, 1, 1, 1, 1}));
  // Q >= CPUs: the plain i * Q / N branch even with siblings (4 CPUs, 4 queues).
  EXPECT_EQ(map_of("linux-2015", smt2(4), 4), (V{0, 1, 2, 3}));
}

TEST(BlkMqMapLinux2015, TheXenBlkMqJobsUseFourRings)
{
  // scenarios/xen-blk-mq.json: 16 vCPUs, 4 rings, fio on vCPUs 0, 4, 8, 12: four different queues.
  auto m = map_of("linux-2015", CpuTopology::flat(16), 4);
  EXPECT_EQ((V{m[0], m[4], m[8], m[12]}), (V{0, 1, 2, 3}));
}

// linux-6.1 (5.4 to 6.2): q++ % Q for the first Q CPUs, then for each first sibling.
TEST(BlkMqMapLinux61, WithoutSmtQueuesInTurn)
{
  EXPECT_EQ(map_of("linux-6.1", CpuTopology::flat(4), 2), (V{0, 1, 0, 1})); // the issue's {0,2} {1,3}
  EXPECT_EQ(map_of("linux-6.1", CpuTopology::flat(6), 4), (V{0, 1, 2, 3, 0, 1}));
  EXPECT_EQ(map_of("linux-6.1", CpuTopology::flat(8), 3), (V{0, 1, 2, 0, 1, 2, 0, 1}));
  EXPECT_EQ(map_of("linux-6.1", CpuTopology::flat(2), 4), (V{0, 1}));
}

TEST(BlkMqMapLinux61, WithSmtTheLaterCoresKeepRotating)
{
  // 4 CPUs (0,1)(2,3), Q = 2: CPUs 0, 1 take q = 0, 1; CPU 2 (first sibling) q = 2 -> 0; CPU 3 follows CPU 2.
  EXPECT_EQ(map_of("linux-6.1", smt2(4), 2), (V{0, 1, 0, 0}));
  // 8 CPUs, Q = 2: 0 -> 0, 1 -> 1, 2 -> 2%2 = 0, 3 -> 0, 4 -> 3%2 = 1, 5 -> 1, 6 -> 4%2 = 0, 7 -> 0.
  EXPECT_EQ(map_of("linux-6.1", smt2(8), 2), (V{0, 1, 0, 0, 1, 1, 0, 0}));
  // legacy (4.13-5.3) uses cpu % Q instead of the counter: CPU 4 -> 4 % 2 = 0, so queue 1 keeps only CPU 1.
  EXPECT_EQ(map_of("legacy", smt2(8), 2), (V{0, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(BlkMqMapLinux61, TheXenBlkMqJobsAllLandOnOneRing)
{
  // The example: fio on vCPUs 0, 4, 8, 12 of 16 with 4 rings: 0 % 4, 4 % 4, ... all hctx 0.
  auto m = map_of("linux-6.1", CpuTopology::flat(16), 4);
  EXPECT_EQ((V{m[0], m[4], m[8], m[12]}), (V{0, 0, 0, 0}));
}

// linux-6.3 (6.3 and later, no cluster step): group_cpus_evenly(Q), the first groups one CPU larger.
TEST(BlkMqMapLinux63, ContiguousGroupsTheFirstOnesLarger)
{
  EXPECT_EQ(map_of("linux-6.3", CpuTopology::flat(4), 2), (V{0, 0, 1, 1})); // the 6.6 {0,1} {2,3}
  EXPECT_EQ(map_of("linux-6.3", CpuTopology::flat(6), 4), (V{0, 0, 1, 1, 2, 3}));
  EXPECT_EQ(map_of("linux-6.3", CpuTopology::flat(8), 3), (V{0, 0, 0, 1, 1, 1, 2, 2}));
  EXPECT_EQ(map_of("linux-6.3", CpuTopology::flat(16), 4), (V{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}));
  EXPECT_EQ(map_of("linux-6.3", smt2(4), 2), (V{0, 0, 1, 1})); // siblings kept together
}

TEST(BlkMqKernel, TheGuestKernelPicksTheDefaultMap)
{
  // Issue 18's check: a 4-vCPU guest with 2 hardware queues lists hctx CPUs {0,2} {1,3} under 6.1, {0,1} {2,3}
  // under 6.6 (results.json: components.<blk_mq>.hw_queues[].cpu_list).
  EXPECT_EQ(kernel_queue_map_policy({6, 1}), "linux-6.1");
  EXPECT_EQ(kernel_queue_map_policy({6, 6}), "linux-6.3");
  EXPECT_EQ(kernel_queue_map_policy({4, 0}), "linux-2015");
  EXPECT_EQ(kernel_queue_map_policy({4, 12}), "linux-2015");
  EXPECT_EQ(kernel_queue_map_policy({4, 13}), "legacy");
  EXPECT_EQ(kernel_queue_map_policy({5, 3}), "legacy");
  EXPECT_EQ(kernel_queue_map_policy({5, 4}), "linux-6.1");
  EXPECT_EQ(kernel_queue_map_policy({6, 2}), "linux-6.1");
  EXPECT_EQ(kernel_queue_map_policy({6, 3}), "linux-6.3");
}

// irq-affinity: the queue vectors' managed affinity (irq_create_affinity_masks() after the config vector), which
// virtio-blk over PCI copies from 4.11 on. The spread is by core in consecutive blocks, the first blocks one larger,
// in every era that has it (irq_build_affinity_masks() up to 6.2, group_cpus_evenly() from 6.3).
TEST(BlkMqMapIrqAffinity, QueueVectorsSpreadInContiguousBlocksTheFirstOnesLarger)
{
  EXPECT_EQ(map_of("irq-affinity", CpuTopology::flat(1), 1), (V{0}));
  EXPECT_EQ(map_of("irq-affinity", CpuTopology::flat(2), 1), (V{0, 0}));
  EXPECT_EQ(map_of("irq-affinity", CpuTopology::flat(4), 2), (V{0, 0, 1, 1}));             // 4/2: 2, 2
  EXPECT_EQ(map_of("irq-affinity", CpuTopology::flat(6), 4), (V{0, 0, 1, 1, 2, 3}));       // 6/4: 2, 2, 1, 1
  EXPECT_EQ(map_of("irq-affinity", CpuTopology::flat(8), 3), (V{0, 0, 0, 1, 1, 1, 2, 2})); // 8/3: 3, 3, 2
  EXPECT_EQ(map_of("irq-affinity", CpuTopology::flat(8), 8), (V{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(map_of("irq-affinity", CpuTopology::flat(16), 4), (V{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}));
}

TEST(BlkMqMapIrqAffinity, SmtSiblingsShareAVectorWhenTheBlockHasRoom)
{
  // 8 CPUs (0,1)..(6,7), 2 vectors of 4: CPU 0 pulls its sibling 1, then 2 pulls 3.
  EXPECT_EQ(map_of("irq-affinity", smt2(8), 2), (V{0, 0, 0, 0, 1, 1, 1, 1}));
  // 6 CPUs (0,1)(2,3)(4,5), 4 vectors of 2, 2, 1, 1: (0,1), (2,3), then 4 alone and 5 alone.
  EXPECT_EQ(map_of("irq-affinity", smt2(6), 4), (V{0, 0, 1, 1, 2, 3}));
  // As many vectors as CPUs: one CPU each, siblings apart.
  EXPECT_EQ(map_of("irq-affinity", smt2(4), 4), (V{0, 1, 2, 3}));
}

TEST(BlkMqMapIrqAffinity, DiffersFromTheEraMapOfA61Guest)
{
  // Why virtio-pci and virtio-mmio disks of the same 6.1 guest differ: 4 vCPUs, 2 queues.
  EXPECT_EQ(map_of("irq-affinity", CpuTopology::flat(4), 2), (V{0, 0, 1, 1}));
  EXPECT_EQ(map_of("linux-6.1", CpuTopology::flat(4), 2), (V{0, 1, 0, 1}));
}
