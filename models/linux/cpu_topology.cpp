#include "models/linux/cpu_topology.hpp"

#include <algorithm>
#include <stdexcept>

namespace pvsim {

/* ---------------------------------------------------------------------------------------------------------------
 * Topology */

CpuTopology CpuTopology::flat(int cpus)
{
  if (cpus < 1)
    throw std::invalid_argument("CpuTopology::flat: need at least one CPU, got " + std::to_string(cpus));
  CpuTopology t;
  t.cpus = cpus;
  t.node_of_cpu.assign(cpus, 0);
  for (int c = 0; c < cpus; ++c)
    t.core_of_cpu.push_back(c);
  t.cluster_of_cpu = t.core_of_cpu;
  return t;
}

CpuTopology CpuTopology::from_spec(int nodes, int cores_per_node, int threads_per_core, int cores_per_cluster)
{
  if (nodes < 1 or cores_per_node < 1 or threads_per_core < 1 or cores_per_cluster < 1)
    throw std::invalid_argument("CpuTopology::from_spec: nodes, cores per node, threads per core and cores per "
                                "cluster must all be at least 1");
  CpuTopology t;
  t.cpus = nodes * cores_per_node * threads_per_core;
  t.node_of_cpu.resize(t.cpus);
  t.core_of_cpu.resize(t.cpus);
  t.cluster_of_cpu.resize(t.cpus);
  for (int node = 0; node < nodes; ++node)
    for (int core = 0; core < cores_per_node; ++core)
      for (int thread = 0; thread < threads_per_core; ++thread) {
        int first_of_core = (node * cores_per_node + core) * threads_per_core;
        int first_of_cluster =
            (node * cores_per_node + core / cores_per_cluster * cores_per_cluster) * threads_per_core;
        int cpu               = first_of_core + thread;
        t.node_of_cpu[cpu]    = node;
        t.core_of_cpu[cpu]    = first_of_core;
        t.cluster_of_cpu[cpu] = first_of_cluster;
      }
  return t;
}

void CpuTopology::validate() const
{
  auto fail = [](const std::string& what) { throw std::invalid_argument("CpuTopology: " + what); };
  if (cpus < 1)
    fail("need at least one CPU, got " + std::to_string(cpus));
  if (node_of_cpu.size() != static_cast<std::size_t>(cpus) or core_of_cpu.size() != static_cast<std::size_t>(cpus))
    fail("node_of_cpu and core_of_cpu need one entry per CPU (" + std::to_string(cpus) + ")");
  if (not cluster_of_cpu.empty() and cluster_of_cpu.size() != static_cast<std::size_t>(cpus))
    fail("cluster_of_cpu needs one entry per CPU (" + std::to_string(cpus) + ") or none");
  auto negative = [](const std::vector<int>& v) {
    return std::any_of(v.begin(), v.end(), [](int x) { return x < 0; });
  };
  if (negative(node_of_cpu) or negative(core_of_cpu) or negative(cluster_of_cpu))
    fail("node, core and cluster ids must be non-negative");
}

std::vector<int> CpuTopology::siblings(int cpu) const
{
  std::vector<int> out;
  for (int c = 0; c < cpus; ++c)
    if (core_of_cpu[c] == core_of_cpu[cpu])
      out.push_back(c);
  return out;
}

int CpuTopology::first_sibling(int cpu) const
{
  return siblings(cpu).front();
}

} // namespace pvsim
