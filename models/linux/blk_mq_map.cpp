#include "models/linux/blk_mq_map.hpp"

#include "sim/input_error.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <map>
#include <stdexcept>

namespace pvsim {

QueueMapPolicy::~QueueMapPolicy() = default;

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

void check_queues(int nr_hw_queues)
{
  if (nr_hw_queues < 1)
    throw std::invalid_argument("blk-mq queue map: need at least one hardware queue, got " +
                                std::to_string(nr_hw_queues));
}

namespace {

std::string child(const std::string& where, const std::string& key)
{
  return where + "/" + pointer_token(key);
}

/* ---------------------------------------------------------------------------------------------------------------
 * The registry: name -> factory, filled by the registrars below before main(). */

std::map<std::string, QueueMapPolicyInfo>& policy_registry()
{
  static std::map<std::string, QueueMapPolicyInfo> registry;
  return registry;
}

} // namespace

void register_queue_map_policy(QueueMapPolicyInfo info)
{
  std::string name = info.name;
  if (not policy_registry().emplace(name, std::move(info)).second)
    throw std::logic_error("queue map policy '" + name + "' registered twice");
}

std::vector<std::string> queue_map_policy_names()
{
  std::vector<std::string> names;
  for (const auto& [name, info] : policy_registry())
    names.push_back(name);
  return names;
}

std::string queue_map_policy_summary(const std::string& name)
{
  auto it = policy_registry().find(name);
  return it == policy_registry().end() ? std::string() : it->second.summary;
}

std::unique_ptr<QueueMapPolicy> make_queue_map_policy(const std::string& name, const nlohmann::json& options,
                                                      const QueueMapOrigin& origin)
{
  auto it = policy_registry().find(name);
  if (it == policy_registry().end()) {
    std::string known;
    for (const auto& n : queue_map_policy_names()) {
      if (not known.empty())
        known += ", ";
      known += n;
    }
    throw InputError(origin.file, origin.where,
                     "unknown queue map policy '" + name + "'" + did_you_mean(name, queue_map_policy_names()) +
                         "; known policies: " + known);
  }
  const QueueMapPolicyInfo& info = it->second;
  nlohmann::json opts            = options.is_null() ? nlohmann::json::object() : options;
  if (not opts.is_object())
    throw InputError(origin.file, origin.where,
                     "expected an object of options for queue map policy '" + name + "', found " + opts.type_name());
  for (const auto& [key, value] : opts.items())
    if (std::find(info.options.begin(), info.options.end(), key) == info.options.end())
      throw InputError(origin.file, child(origin.where, key),
                       "unknown option '" + key + "' for queue map policy '" + name + "'" +
                           (info.options.empty() ? std::string(" (it takes none)") : did_you_mean(key, info.options)));
  return info.make(opts, origin);
}

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
  check_queues(numgrps);
  Grouper grouper(topo, static_cast<unsigned>(numgrps), clusters);
  // First stage: the present CPUs (all of them here). The second stage, possible but not present CPUs starting at
  // the next free group, has nothing to spread in this model.
  unsigned nr_present = grouper.spread(0, Mask(topo.cpus, true));
  CpuGroups out;
  out.groups   = grouper.groups();
  out.nummasks = static_cast<int>(std::min(nr_present, static_cast<unsigned>(numgrps)));
  return out;
}

/* ---------------------------------------------------------------------------------------------------------------
 * The policies. */

namespace {

class DefaultPolicy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "default";
  static constexpr const char* summary =
      "Linux's blk_mq_map_queues(): group_cpus_evenly() by NUMA node and SMT core (L2 clusters: option clusters)";
  static std::vector<std::string> option_keys() { return {"clusters"}; }

  DefaultPolicy(const nlohmann::json& options, const QueueMapOrigin& origin)
  {
    if (options.contains("clusters")) {
      const auto& v = options["clusters"];
      if (not v.is_boolean())
        throw InputError(origin.file, child(origin.where, "clusters"),
                         "expected true or false (the L2 cluster step of group_cpus_evenly), found " + v.dump());
      clusters_ = v.get<bool>();
    }
  }

  /* blk_mq_map_queues() (block/blk-mq-cpumap.c): queue q serves the CPUs of group q % nummasks. */
  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    CpuGroups g = group_cpus_evenly(topo, nr_hw_queues, clusters_);
    std::vector<int> out(topo.cpus, 0);
    for (int q = 0; q < nr_hw_queues; ++q)
      for (int cpu : g.groups[q % g.nummasks])
        out[cpu] = q;
    return out;
  }
  std::string name() const override { return policy_name; }

private:
  bool clusters_ = false; // the kernels of the recorded guests (6.1, 6.18); true: the 2026 L2-cluster step
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(DefaultPolicy);

/* blk_mq_map_queues() of Linux 4.x (block/blk-mq-cpumap.c, as in 4.19, with cpu_to_queue_index() = cpu % queues;
 * some 4.x releases also sent non-present CPUs to queue 0, which cannot happen here): the first nr_queues CPUs take
 * queue cpu % nr_queues, a later CPU takes cpu % nr_queues if it is the first of its SMT siblings, else its first
 * sibling's queue. */
class LegacyPolicy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "legacy";
  static constexpr const char* summary =
      "Linux 4.x blk_mq_map_queues(): cpu % queues, SMT siblings follow their first sibling";
  static std::vector<std::string> option_keys() { return {}; }
  LegacyPolicy(const nlohmann::json&, const QueueMapOrigin&) {}

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    std::vector<int> out(topo.cpus, 0);
    for (int cpu = 0; cpu < topo.cpus; ++cpu) {
      int first = topo.first_sibling(cpu);
      out[cpu]  = (cpu < nr_hw_queues or first == cpu) ? cpu % nr_hw_queues : out[first];
    }
    return out;
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(LegacyPolicy);

/* One queue per physical core: cores numbered in order of their lowest CPU, core k on queue k % nr_hw_queues. */
class PerCorePolicy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "per-core";
  static constexpr const char* summary = "one queue per physical core (SMT siblings share it), wrapping over queues";
  static std::vector<std::string> option_keys() { return {}; }
  PerCorePolicy(const nlohmann::json&, const QueueMapOrigin&) {}

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    std::map<int, int> index_of_core;
    std::vector<int> out(topo.cpus, 0);
    for (int cpu = 0; cpu < topo.cpus; ++cpu) {
      auto [it, added] = index_of_core.emplace(topo.core_of_cpu[cpu], static_cast<int>(index_of_core.size()));
      out[cpu]         = it->second % nr_hw_queues;
    }
    return out;
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(PerCorePolicy);

/* Queues split among the NUMA nodes that have CPUs (ascending ids): with Q >= N nodes, node i owns Q / N
 * consecutive queues, the first Q % N nodes one more, and its CPUs (ascending) take them round robin; with fewer
 * queues than nodes, node i uses queue i % Q. */
class PerNodePolicy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "per-node";
  static constexpr const char* summary     = "queues split among NUMA nodes, round robin within a node";
  static std::vector<std::string> option_keys() { return {}; }
  PerNodePolicy(const nlohmann::json&, const QueueMapOrigin&) {}

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    std::map<int, std::vector<int>> cpus_of_node;
    for (int cpu = 0; cpu < topo.cpus; ++cpu)
      cpus_of_node[topo.node_of_cpu[cpu]].push_back(cpu);
    const int nodes = static_cast<int>(cpus_of_node.size());
    std::vector<int> out(topo.cpus, 0);
    int i     = 0;
    int start = 0;
    for (const auto& [node, cpus] : cpus_of_node) {
      if (nr_hw_queues < nodes) {
        for (int cpu : cpus)
          out[cpu] = i % nr_hw_queues;
      } else {
        int count = nr_hw_queues / nodes + (i < nr_hw_queues % nodes ? 1 : 0);
        for (std::size_t j = 0; j < cpus.size(); ++j)
          out[cpus[j]] = start + static_cast<int>(j) % count;
        start += count;
      }
      ++i;
    }
    return out;
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(PerNodePolicy);

class RoundRobinPolicy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "round-robin";
  static constexpr const char* summary     = "CPU c on queue c % queues, ignoring the topology";
  static std::vector<std::string> option_keys() { return {}; }
  RoundRobinPolicy(const nlohmann::json&, const QueueMapOrigin&) {}

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    std::vector<int> out(topo.cpus);
    for (int cpu = 0; cpu < topo.cpus; ++cpu)
      out[cpu] = cpu % nr_hw_queues;
    return out;
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(RoundRobinPolicy);

class SinglePolicy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "single";
  static constexpr const char* summary     = "every CPU on queue 0";
  static std::vector<std::string> option_keys() { return {}; }
  SinglePolicy(const nlohmann::json&, const QueueMapOrigin&) {}

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    return std::vector<int>(topo.cpus, 0);
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(SinglePolicy);

/* A table given by the user, {"table": [q0, q1, ...]}, one queue per CPU. Entries are checked when the policy is
 * built (non-negative integers), length and range when it maps (they depend on the machine and the device). */
class ExplicitPolicy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "explicit";
  static constexpr const char* summary     = "the table given in option \"table\": queue of CPU 0, CPU 1, ...";
  static std::vector<std::string> option_keys() { return {"table"}; }

  ExplicitPolicy(const nlohmann::json& options, const QueueMapOrigin& origin) : origin_(origin)
  {
    const std::string where = child(origin.where, "table");
    if (not options.contains("table"))
      throw InputError(origin.file, where, "missing option 'table': the hardware queue of each CPU, e.g. [0, 0, 1, 1]");
    const auto& table = options["table"];
    if (not table.is_array() or table.empty())
      throw InputError(origin.file, where,
                       "expected a non-empty array with the hardware queue of each CPU, found " + table.dump());
    for (std::size_t i = 0; i < table.size(); ++i) {
      const auto& q = table[i];
      if (not q.is_number_integer() or q.get<long long>() < 0 or q.get<long long>() > INT_MAX)
        throw InputError(origin.file, where + "/" + std::to_string(i),
                         "expected a hardware queue index (an integer >= 0) for CPU " + std::to_string(i) + ", found " +
                             q.dump());
      table_.push_back(q.get<int>());
    }
  }

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    const std::string where = child(origin_.where, "table");
    if (table_.size() != static_cast<std::size_t>(topo.cpus))
      throw InputError(origin_.file, where,
                       "the table has " + std::to_string(table_.size()) + " entries but the machine has " +
                           std::to_string(topo.cpus) + " CPUs: give one hardware queue per CPU");
    for (std::size_t i = 0; i < table_.size(); ++i)
      if (table_[i] >= nr_hw_queues)
        throw InputError(origin_.file, where + "/" + std::to_string(i),
                         "CPU " + std::to_string(i) + " is mapped to hardware queue " + std::to_string(table_[i]) +
                             " but the device has " + std::to_string(nr_hw_queues) + " (0-" +
                             std::to_string(nr_hw_queues - 1) + ")");
    return table_;
  }
  std::string name() const override { return policy_name; }

private:
  QueueMapOrigin origin_;
  std::vector<int> table_;
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(ExplicitPolicy);

} // namespace

/* ---------------------------------------------------------------------------------------------------------------
 * Views of a map. */

std::vector<std::vector<int>> cpus_of_queue(const std::vector<int>& map, int nr_hw_queues)
{
  check_queues(nr_hw_queues);
  std::vector<std::vector<int>> out(nr_hw_queues);
  for (std::size_t cpu = 0; cpu < map.size(); ++cpu) {
    if (map[cpu] < 0 or map[cpu] >= nr_hw_queues)
      throw std::invalid_argument("cpus_of_queue: CPU " + std::to_string(cpu) + " is on queue " +
                                  std::to_string(map[cpu]) + ", outside [0, " + std::to_string(nr_hw_queues) + ")");
    out[map[cpu]].push_back(static_cast<int>(cpu));
  }
  return out;
}

namespace {

std::vector<int> sorted_unique(std::vector<int> cpus)
{
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

} // namespace

std::vector<int> managed_irq_cpus(const std::vector<std::vector<int>>& queue_cpus, int cpus)
{
  std::vector<int> managed(static_cast<std::size_t>(std::max(cpus, 0)), 0), out;
  for (const auto& mask : queue_cpus) {
    int best = -1;
    for (int c : mask)
      if (c >= 0 and c < cpus and
          (best < 0 or managed[static_cast<std::size_t>(c)] <= managed[static_cast<std::size_t>(best)]))
        best = c;
    if (best >= 0)
      managed[static_cast<std::size_t>(best)]++;
    out.push_back(best);
  }
  return out;
}

std::string format_cpu_list(const std::vector<int>& cpus)
{
  std::vector<int> s = sorted_unique(cpus);
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i;
    while (j + 1 < s.size() and s[j + 1] == s[j] + 1)
      ++j;
    if (not out.empty())
      out += ',';
    out += std::to_string(s[i]);
    if (j > i) {
      out += '-';
      out += std::to_string(s[j]);
    }
    i = j + 1;
  }
  return out;
}

std::string format_mq_cpu_list(const std::vector<int>& cpus)
{
  std::string out;
  for (int c : sorted_unique(cpus)) {
    if (not out.empty())
      out += ", ";
    out += std::to_string(c);
  }
  return out;
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view text)
{
  auto trim = [](std::string_view s) {
    while (not s.empty() and std::isspace(static_cast<unsigned char>(s.front())))
      s.remove_prefix(1);
    while (not s.empty() and std::isspace(static_cast<unsigned char>(s.back())))
      s.remove_suffix(1);
    return s;
  };
  auto number = [](std::string_view s) -> std::optional<int> {
    if (s.empty() or s.size() > 9 or
        not std::all_of(s.begin(), s.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
      return std::nullopt;
    return std::stoi(std::string(s));
  };
  std::vector<int> out;
  text = trim(text);
  if (text.empty())
    return out;
  while (true) {
    std::size_t comma     = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    std::size_t dash      = item.find('-');
    auto lo               = number(trim(item.substr(0, dash)));
    auto hi               = dash == std::string_view::npos ? lo : number(trim(item.substr(dash + 1)));
    if (not lo or not hi or *hi < *lo)
      return std::nullopt;
    for (int c = *lo; c <= *hi; ++c)
      out.push_back(c);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return sorted_unique(out);
}

} // namespace pvsim
