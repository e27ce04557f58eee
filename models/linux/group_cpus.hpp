/* pvsim: Linux's group_cpus_evenly() (lib/group_cpus.c; since 6.3 behind both blk_mq_map_queues() and managed
 * interrupt affinity) and the heapsort it sorts nodes and clusters with (lib/sort.c), whose tie order decides which
 * node gets group 0. Leaves out: CPUs that are possible but not present (its second stage). */
#pragma once

#include "models/linux/cpu_topology.hpp"

#include <vector>

namespace pvsim {

/** The kernel's group_cpus_evenly(numgrps, &nummasks) on this topology with every CPU present: `numgrps` CPU groups
 * (ascending CPU numbers), of which only the first `nummasks` = min(numgrps, cpus) are non-empty. With
 * clusters = false, the algorithm as it was before the cluster step (commit 89802ca36c96, 2026). */
struct CpuGroups {
  std::vector<std::vector<int>> groups;
  int nummasks = 0;
};
CpuGroups group_cpus_evenly(const CpuTopology& topo, int numgrps, bool clusters = true);

/** The order Linux's sort() (lib/sort.c, an unstable bottom-up heapsort) leaves entries in when they are compared
 * by count as group_cpus.c's ncpus_cmp_func() does: the indices of `counts`, smallest count first. Equal counts do
 * not keep their order (two equal entries come out swapped), which decides which node or cluster gets group 0. */
std::vector<int> linux_sort_order(const std::vector<unsigned>& counts);

} // namespace pvsim
