#include "models/linux/group_cpus.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

namespace pvsim {

/* ---------------------------------------------------------------------------------------------------------------
 * Linux's sort() (lib/sort.c, __sort_r()), on element indices instead of byte offsets: a bottom-up heapsort that
 * pops two elements per round while more than three remain (the "double pop" form lib/sort.c has had since 2024). Its
 * tie order is the point: group_cpus.c sorts nodes and clusters by CPU count, then hands out groups in the sorted
 * order, so which of two equal nodes gets group 0 is whatever this heapsort leaves first. */

namespace {

struct Counted {
  unsigned id;
  unsigned count; // CPUs before alloc_groups(), groups after (group_cpus.c keeps both in one union)
};

constexpr unsigned no_cpus = UINT_MAX; // group_cpus.c marks a node without CPUs in the mask with UINT_MAX

/** ncpus_cmp_func(): the unsigned difference read as an int. A no_cpus entry therefore compares below any real
 * count (UINT_MAX - k wraps to a negative int), as in the kernel. */
int compare_counts(const Counted& l, const Counted& r)
{
  return static_cast<int>(l.count - r.count);
}

std::size_t heap_parent(std::size_t i)
{
  return (i - 1) / 2;
}

void linux_sort(std::vector<Counted>& v)
{
  std::size_t n     = v.size();
  std::size_t a     = v.size() / 2;
  std::size_t shift = 0;
  if (a == 0)
    return;
  auto cmp = [&v](std::size_t i, std::size_t j) { return compare_counts(v[i], v[j]); };
  for (;;) {
    if (a != 0) {
      a -= std::size_t{1} << shift; // building the heap, or back to the root after a double pop
    } else if (n > 3) {
      // Move the root behind the heap, then the larger of its two children.
      --n;
      std::swap(v[0], v[n]);
      shift = cmp(1, 2) <= 0 ? 1 : 0;
      a     = std::size_t{1} << shift;
      --n;
      std::swap(v[a], v[n]);
    } else {
      break;
    }
    // Sift v[a] down: follow the larger child to a leaf (the right one on ties), climb back to where v[a] fits,
    // then rotate the path.
    std::size_t b = a;
    std::size_t c;
    std::size_t d;
    for (;;) {
      c = 2 * b + 1;
      d = c + 1;
      if (d >= n)
        break;
      b = cmp(c, d) > 0 ? c : d;
    }
    if (d == n)
      b = c;
    while (b != a and cmp(a, b) >= 0)
      b = heap_parent(b);
    c = b;
    while (b != a) {
      b = heap_parent(b);
      std::swap(v[b], v[c]);
    }
  }
  // Two or three left: move the root last and order the remaining two.
  --n;
  std::swap(v[0], v[n]);
  if (n == 2 and cmp(0, 1) > 0)
    std::swap(v[0], v[1]);
}

} // namespace

std::vector<int> linux_sort_order(const std::vector<unsigned>& counts)
{
  std::vector<Counted> v;
  for (std::size_t i = 0; i < counts.size(); ++i)
    v.push_back({static_cast<unsigned>(i), counts[i]});
  linux_sort(v);
  std::vector<int> order;
  for (const auto& e : v)
    order.push_back(static_cast<int>(e.id));
  return order;
}

/* ---------------------------------------------------------------------------------------------------------------
 * group_cpus_evenly() (lib/group_cpus.c), for a machine whose CPUs are all present. Structure and names follow the
 * kernel so that the two can be read side by side:
 *
 *  1. Nodes: if there are no more groups than NUMA nodes holding CPUs, each node's CPUs go whole into one group,
 *     nodes in id order, wrapping over the groups (__group_cpus_evenly()).
 *  2. Otherwise alloc_nodes_groups()/alloc_groups_to_nodes(): numgrps = min(numgrps, CPUs); nodes sorted by CPU
 *     count with sort() (smallest first, ties in heapsort order); walking that order, a node gets
 *     max(1, numgrps * its CPUs / CPUs not yet served) groups, and both totals shrink.
 *  3. Walking the nodes in the same sorted order, groups are numbered consecutively from 0:
 *     - cluster step (__try_group_cluster_cpus(), since commit 89802ca36c96 "lib/group_cpus: make group CPU cluster
 *       aware"): the node's L2 clusters, in order of their lowest CPU, are counted; if there are no more clusters
 *       than the node's groups, the node's groups are shared among its clusters exactly as in step 2 (same sort,
 *       same formula) and each cluster is split as below, cluster by cluster in sorted order;
 *     - otherwise the node itself is split (assign_cpus_to_groups()): g groups over c CPUs, c / g each, the first
 *       c % g groups one more; each group is filled by grp_spread_init_one(): take the lowest CPU left, then its
 *       SMT siblings still left (ascending), and repeat until the group is full.
 *  4. The result has min(numgrps, CPUs) non-empty groups (nummasks); blk_mq_map_queues() (block/blk-mq-cpumap.c)
 *     then gives queue q the CPUs of group q % nummasks, so with more queues than CPUs a CPU ends up on the last
 *     queue that reuses its group, and the lowest queues get none. */

namespace {

using Mask = std::vector<bool>;

int first_of(const Mask& m)
{
  auto it = std::find(m.begin(), m.end(), true);
  return it == m.end() ? -1 : static_cast<int>(it - m.begin());
}

unsigned weight(const Mask& m)
{
  return static_cast<unsigned>(std::count(m.begin(), m.end(), true));
}

Mask and_of(const Mask& a, const Mask& b)
{
  Mask out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    out[i] = a[i] and b[i];
  return out;
}

class Grouper {
public:
  Grouper(const CpuTopology& topo, unsigned numgrps, bool clusters)
      : topo_(topo), clusters_(clusters), masks_(numgrps, Mask(topo.cpus, false))
  {
  }

  /** __group_cpus_evenly(): spreads the CPUs of cpu_mask over the groups from startgrp; returns the groups used. */
  unsigned spread(unsigned startgrp, const Mask& cpu_mask)
  {
    if (weight(cpu_mask) == 0)
      return 0;
    const auto numgrps  = static_cast<unsigned>(masks_.size());
    const auto last_grp = numgrps;
    unsigned curgrp     = startgrp;

    int nr_node_ids = 1 + *std::max_element(topo_.node_of_cpu.begin(), topo_.node_of_cpu.end());
    std::vector<int> nodes; // the nodes with CPUs in cpu_mask, ascending (nodemsk)
    for (int n = 0; n < nr_node_ids; ++n)
      if (weight(and_of(cpu_mask, node_mask(n))) > 0)
        nodes.push_back(n);

    if (numgrps <= nodes.size()) {
      for (int n : nodes) {
        Mask nmsk = and_of(cpu_mask, node_mask(n));
        for (int c = 0; c < topo_.cpus; ++c)
          if (nmsk[c])
            masks_[curgrp][c] = true;
        if (++curgrp == last_grp)
          curgrp = 0;
      }
      return numgrps;
    }

    // alloc_nodes_groups(): every possible node gets an entry; those without CPUs in the mask stay no_cpus.
    std::vector<Counted> node_groups;
    for (int n = 0; n < nr_node_ids; ++n)
      node_groups.push_back({static_cast<unsigned>(n), no_cpus});
    unsigned numcpus = 0;
    for (int n : nodes) {
      unsigned ncpus = weight(and_of(cpu_mask, node_mask(n)));
      numcpus += ncpus;
      node_groups[n].count = ncpus;
    }
    alloc_groups(std::min(numcpus, numgrps), numcpus, node_groups);

    unsigned done = 0;
    for (const Counted& nv : node_groups) {
      if (nv.count == no_cpus)
        continue;
      Mask nmsk      = and_of(cpu_mask, node_mask(static_cast<int>(nv.id)));
      unsigned ncpus = weight(nmsk);
      if (ncpus == 0)
        continue;
      if (clusters_ and try_clusters(ncpus, nv.count, nmsk, curgrp)) {
        done += nv.count;
        continue;
      }
      assign(ncpus, nmsk, nv.count, curgrp);
      done += nv.count;
    }
    return done;
  }

  std::vector<std::vector<int>> groups() const
  {
    std::vector<std::vector<int>> out;
    for (const Mask& m : masks_) {
      out.emplace_back();
      for (int c = 0; c < topo_.cpus; ++c)
        if (m[c])
          out.back().push_back(c);
    }
    return out;
  }

private:
  Mask node_mask(int node) const
  {
    Mask m(topo_.cpus, false);
    for (int c = 0; c < topo_.cpus; ++c)
      m[c] = topo_.node_of_cpu[c] == node;
    return m;
  }

  /** topology_cluster_cpumask(cpu). */
  Mask cluster_mask(int cpu) const
  {
    const std::vector<int>& id = topo_.cluster_of_cpu.empty() ? topo_.core_of_cpu : topo_.cluster_of_cpu;
    Mask m(topo_.cpus, false);
    for (int c = 0; c < topo_.cpus; ++c)
      m[c] = id[c] == id[cpu];
    return m;
  }

  /** alloc_groups_to_nodes(): sorts `entries` by CPU count and replaces each count by its number of groups. */
  static void alloc_groups(unsigned numgrps, unsigned numcpus, std::vector<Counted>& entries)
  {
    linux_sort(entries);
    unsigned remaining_ncpus = numcpus;
    for (Counted& e : entries) {
      if (e.count == no_cpus)
        continue;
      unsigned ncpus   = e.count;
      unsigned ngroups = std::max(1u, numgrps * ncpus / remaining_ncpus);
      e.count          = ngroups;
      remaining_ncpus -= ncpus;
      numgrps -= ngroups;
    }
  }

  /** __try_group_cluster_cpus() with alloc_cluster_groups(): false when the node has more clusters than groups. */
  bool try_clusters(unsigned ncpus, unsigned ngroups, const Mask& node_cpus, unsigned& curgrp)
  {
    std::vector<Mask> clusters;
    std::vector<Counted> cluster_groups;
    Mask msk = node_cpus;
    for (int cpu = first_of(msk); cpu >= 0; cpu = first_of(msk)) {
      Mask cluster = cluster_mask(cpu);
      cluster_groups.push_back({static_cast<unsigned>(clusters.size()), weight(and_of(cluster, node_cpus))});
      for (int c = 0; c < topo_.cpus; ++c)
        if (cluster[c])
          msk[c] = false;
      clusters.push_back(std::move(cluster));
    }
    if (clusters.empty() or clusters.size() > ngroups)
      return false;
    alloc_groups(ngroups, ncpus, cluster_groups);
    for (const Counted& cv : cluster_groups) {
      Mask pool   = and_of(node_cpus, clusters[cv.id]);
      unsigned nc = weight(pool);
      if (nc == 0)
        continue;
      assign(nc, pool, cv.count, curgrp);
    }
    return true;
  }

  /** assign_cpus_to_groups(): `ngroups` consecutive groups from curgrp (wrapping) take the CPUs of `pool`. */
  void assign(unsigned ncpus, Mask& pool, unsigned ngroups, unsigned& curgrp)
  {
    const auto last_grp = static_cast<unsigned>(masks_.size());
    unsigned extra_grps = ncpus - ngroups * (ncpus / ngroups);
    for (unsigned v = 0; v < ngroups; ++v, ++curgrp) {
      unsigned cpus_per_grp = ncpus / ngroups;
      if (extra_grps > 0) {
        ++cpus_per_grp;
        --extra_grps;
      }
      if (curgrp >= last_grp)
        curgrp = 0;
      spread_one(masks_[curgrp], pool, cpus_per_grp);
    }
  }

  /** grp_spread_init_one(): moves cpus_per_grp CPUs from pool to group, lowest CPU first, its siblings right after. */
  void spread_one(Mask& group, Mask& pool, unsigned cpus_per_grp)
  {
    while (cpus_per_grp > 0) {
      int cpu = first_of(pool);
      if (cpu < 0)
        return;
      pool[cpu]  = false;
      group[cpu] = true;
      --cpus_per_grp;
      for (int sibling : topo_.siblings(cpu)) {
        if (cpus_per_grp == 0)
          break;
        if (not pool[sibling])
          continue;
        pool[sibling]  = false;
        group[sibling] = true;
        --cpus_per_grp;
      }
    }
  }

  const CpuTopology& topo_;
  bool clusters_;
  std::vector<Mask> masks_;
};

} // namespace

CpuGroups group_cpus_evenly(const CpuTopology& topo, int numgrps, bool clusters)
{
  topo.validate();
  if (numgrps < 1)
    throw std::invalid_argument("group_cpus_evenly: need at least one group, got " + std::to_string(numgrps));
  Grouper grouper(topo, static_cast<unsigned>(numgrps), clusters);
  // First stage: the present CPUs (all of them here). The second stage, possible but not present CPUs starting at
  // the next free group, has nothing to spread in this model.
  unsigned nr_present = grouper.spread(0, Mask(topo.cpus, true));
  CpuGroups out;
  out.groups   = grouper.groups();
  out.nummasks = static_cast<int>(std::min(nr_present, static_cast<unsigned>(numgrps)));
  return out;
}

} // namespace pvsim
