/* pvsim: the CPUs of a machine as Linux's block layer sees them (NUMA node, SMT core, L2 cluster of every CPU;
 * topology_sibling_cpumask(), topology_cluster_cpumask(), cpu_to_node()).
 * Leaves out: CPU hotplug (every CPU is possible, present and online). */
#pragma once

#include <vector>

namespace pvsim {

/** The CPUs of a (guest) machine as the block layer sees them. CPUs are numbered 0..cpus-1; the three vectors have
 * one entry per CPU. Two CPUs are SMT siblings when they have the same core id, share an L2 cluster when they have
 * the same cluster id (topology_cluster_cpumask(): on x86 the CPUs behind one L2 cache). Ids are arbitrary
 * non-negative integers; the helpers below use the lowest CPU number of the core or cluster. */
struct CpuTopology {
  int cpus = 0;
  std::vector<int> node_of_cpu;
  std::vector<int> core_of_cpu;
  /** Empty means one cluster per core (x86 with a private L2 per core: QEMU's and Firecracker's default). */
  std::vector<int> cluster_of_cpu;

  /** `cpus` CPUs on one node, no SMT, every CPU its own core and cluster: a typical small VM. */
  static CpuTopology flat(int cpus);
  /** nodes x cores_per_node x threads_per_core CPUs numbered as QEMU and Firecracker number vCPUs: node by node,
   * core by core, the threads of a core adjacent (CPU 2k and 2k+1 are siblings with 2 threads per core).
   * cores_per_cluster consecutive cores of a node share an L2 cluster (the last cluster of a node may be smaller). */
  static CpuTopology from_spec(int nodes, int cores_per_node, int threads_per_core, int cores_per_cluster = 1);

  /** Throws std::invalid_argument when the vectors do not describe `cpus` CPUs. */
  void validate() const;
  /** The SMT siblings of `cpu` (itself included), ascending: topology_sibling_cpumask(). */
  std::vector<int> siblings(int cpu) const;
  /** The lowest-numbered sibling of `cpu`. */
  int first_sibling(int cpu) const;
};

} // namespace pvsim
