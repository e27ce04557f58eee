/* Specification of group_cpus_evenly() (lib/group_cpus.c) beyond the maps built on it (blk_mq_map_test.cpp), and of
 * the heapsort tie order it inherits from lib/sort.c. */
#include "models/linux/group_cpus.hpp"

#include <gtest/gtest.h>

using namespace pvsim;

TEST(GroupCpusEvenly, ReportsOnlyTheNonEmptyGroups)
{
  CpuGroups g = group_cpus_evenly(CpuTopology::flat(3), 5);
  EXPECT_EQ(g.nummasks, 3);
  EXPECT_EQ(g.groups.size(), 5u);
  EXPECT_TRUE(g.groups[3].empty() and g.groups[4].empty());
}

TEST(LinuxSort, SortsByCountSmallestFirst)
{
  EXPECT_EQ(linux_sort_order({5, 3, 9, 1}), (std::vector<int>{3, 1, 0, 2}));
}

TEST(LinuxSort, LeavesEqualCountsInHeapsortOrderNotInputOrder)
{
  EXPECT_EQ(linux_sort_order({4, 4}), (std::vector<int>{1, 0}));
  EXPECT_EQ(linux_sort_order({1, 1, 1, 1}), (std::vector<int>{1, 3, 2, 0}));
}
