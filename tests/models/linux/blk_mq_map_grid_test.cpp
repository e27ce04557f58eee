/* Every kernel era's blk-mq map over the grid issue 18 asks for: 1, 2, 4, 6, 8 and 16 CPUs x 1 to 16 queues, without
 * SMT and with two threads per core (siblings (0,1), (2,3), ...: QEMU's numbering). The expected queue of each CPU
 * is a closed form worked out by hand from each era's source (the comment above each one gives the reasoning), not
 * from pvsim's implementation; the worked examples are in blk_mq_map_eras_test.cpp. */
#include "models/linux/blk_mq_map.hpp"

#include <gtest/gtest.h>

#include <functional>

using namespace pvsim;

namespace {
const int cpu_counts[] = {1, 2, 4, 6, 8, 16};

/** Expected queue of `cpu` among `n` CPUs and `q` queues, with or without SMT siblings. */
using Rule = std::function<int(int cpu, int n, int q, bool smt)>;

void check_grid(const std::string& policy, const Rule& expected, bool queues_up_to_cpus = false)
{
  for (int n : cpu_counts)
    for (bool smt : {false, true}) {
      if (smt and n % 2 != 0)
        continue;
      CpuTopology topo = smt ? CpuTopology::from_spec(1, n / 2, 2) : CpuTopology::flat(n);
      for (int q = 1; q <= (queues_up_to_cpus ? n : 16); ++q) {
        std::vector<int> got = make_queue_map_policy(policy)->map(topo, q);
        for (int cpu = 0; cpu < n; ++cpu)
          ASSERT_EQ(got[static_cast<std::size_t>(cpu)], expected(cpu, n, q, smt))
              << policy << ": " << n << " CPUs" << (smt ? " (SMT)" : "") << ", " << q << " queues, CPU " << cpu;
      }
    }
}

/** group_cpus_evenly() on one node: min(q, n) groups of consecutive CPUs, the first n % groups one larger; taking
 * the lowest free CPU and then its sibling keeps the blocks consecutive with SMT too (siblings are adjacent). */
int block_of(int cpu, int n, int q)
{
  int groups = q < n ? q : n, base = n / groups, extra = n % groups;
  int big = extra * (base + 1); // CPUs in the larger groups
  return cpu < big ? cpu / (base + 1) : extra + (cpu - big) / base;
}
} // namespace

// <= 4.12, blk_mq_update_queue_map()/blk_mq_map_queues(): with q >= n or no SMT, CPU i -> i * q / n; otherwise the
// first sibling of core k -> k * q / cores and the other thread follows it.
TEST(BlkMqMapGrid, Linux2015)
{
  check_grid("linux-2015", [](int cpu, int n, int q, bool smt) {
    if (not smt or q >= n)
      return cpu * q / n;
    return (cpu / 2) * q / (n / 2);
  });
}

// 4.13-5.3, cpu_to_queue_index() = cpu % q: CPUs below q, and first siblings, take cpu % q; the other thread follows
// its first sibling.
TEST(BlkMqMapGrid, Legacy)
{
  check_grid("legacy", [](int cpu, int, int q, bool smt) {
    if (not smt or cpu < q or cpu % 2 == 0)
      return cpu % q;
    return (cpu - 1) % q;
  });
}

// 5.4-6.2, the counter: CPUs 0..q-1 take 0..q-1; after that each first sibling takes the counter (q, q+1, ...) mod q
// and the other thread follows it. Without SMT that is cpu % q; with SMT the counter advances once per core.
TEST(BlkMqMapGrid, Linux61)
{
  check_grid("linux-6.1", [](int cpu, int, int q, bool smt) {
    if (cpu < q or not smt)
      return cpu % q;
    int first = cpu % 2 == 0 ? cpu : cpu - 1; // this core's first sibling
    if (first < q)                            // the first sibling was below q: the counter gave it its own index
      return first % q;
    int first_even = q % 2 == 0 ? q : q + 1; // first siblings at or above q: q or q+1, then every other CPU
    return (q + (first - first_even) / 2) % q;
  });
}

// 6.3 and later: queue k takes group k (group_cpus_evenly(q)). pvsim caps the grid at q <= n: beyond, the kernels
// differ (6.3's empty masks leave CPU i on queue i; later ones wrap masks[k % nr_masks]), see the eras test.
TEST(BlkMqMapGrid, Linux63)
{
  check_grid(
      "linux-6.3", [](int cpu, int n, int q, bool) { return block_of(cpu, n, q); }, true);
}

// The managed MSI-X affinity spread (virtio-blk over PCI from 4.11): the same blocks, in every era that has it.
TEST(BlkMqMapGrid, IrqAffinity)
{
  check_grid(
      "irq-affinity", [](int cpu, int n, int q, bool) { return block_of(cpu, n, q); }, true);
}

// The policies no kernel has, on the same grid (one NUMA node): round-robin cpu % q; per-node, on one node, the
// node's CPUs round robin over its queues, so cpu % q too; per-core the core's index % q, siblings together; single 0.
TEST(BlkMqMapGrid, RoundRobin)
{
  check_grid("round-robin", [](int cpu, int, int q, bool) { return cpu % q; });
}

TEST(BlkMqMapGrid, PerNodeOnOneNode)
{
  check_grid("per-node", [](int cpu, int, int q, bool) { return cpu % q; });
}

TEST(BlkMqMapGrid, PerCore)
{
  check_grid("per-core", [](int cpu, int, int q, bool smt) { return (smt ? cpu / 2 : cpu) % q; });
}

TEST(BlkMqMapGrid, Single)
{
  check_grid("single", [](int, int, int, bool) { return 0; });
}
