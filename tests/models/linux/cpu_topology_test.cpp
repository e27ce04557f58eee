/* Specification of the CPU topology blk-mq reads: node, SMT core and L2 cluster of each CPU, numbered as QEMU and
 * Firecracker number vCPUs. */
#include "models/linux/cpu_topology.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace pvsim;

TEST(CpuTopology, FlatIsOneNodeWithEveryCpuItsOwnCore)
{
  CpuTopology t = CpuTopology::flat(3);
  EXPECT_EQ(t.cpus, 3);
  EXPECT_EQ(t.node_of_cpu, (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(t.siblings(1), (std::vector<int>{1}));
}

TEST(CpuTopology, FromSpecNumbersCpusNodeByNodeWithTheThreadsOfACoreAdjacent)
{
  CpuTopology t = CpuTopology::from_spec(2, 2, 2);
  EXPECT_EQ(t.node_of_cpu, (std::vector<int>{0, 0, 0, 0, 1, 1, 1, 1}));
  EXPECT_EQ(t.siblings(5), (std::vector<int>{4, 5}));
  EXPECT_EQ(t.first_sibling(7), 6);
}

TEST(CpuTopology, FromSpecPutsConsecutiveCoresOfANodeInOneCluster)
{
  CpuTopology t = CpuTopology::from_spec(1, 3, 2, 2);
  EXPECT_EQ(t.cluster_of_cpu, (std::vector<int>{0, 0, 0, 0, 4, 4}));
}

TEST(CpuTopology, VectorsOfTheWrongLengthAreInvalid)
{
  CpuTopology t = CpuTopology::flat(4);
  t.node_of_cpu.push_back(0);
  EXPECT_THROW(t.validate(), std::invalid_argument);
}
