/* pvsim: blk_mq_map_queues() as each kernel era wrote it (block/blk-mq-cpumap.c), as named queue-map policies, so
 * that a scenario can say which kernel's map its guest runs (issue 18). Sources, read in the kernel's history:
 *
 *   linux-2015  blk_mq_update_queue_map() / blk_mq_map_queues() up to 4.12 (read in v4.5 and v4.10): queue indices
 *               handed out in CPU order, cpu_to_queue_index(nr, Q, i) = i * Q / nr, so contiguous blocks of CPUs
 *               share a queue. Without SMT siblings (or with Q >= CPUs) i counts the CPUs; with siblings it counts
 *               only the first CPU of each core, over nr = the number of cores, and a sibling takes its first
 *               sibling's queue. The kernels of the xen-blkfront multi-queue conversion (2015) map this way. (The
 *               very first version, 3.13, divided by ceil(nr / Q) instead; not offered.)
 *   legacy      4.13 to 5.3 (fe631457ff3e "blk-mq: map all HWQ also in hyperthreaded system"): cpu % Q for the first
 *               Q CPUs, then cpu % Q for a first sibling and the first sibling's queue for the others (in
 *               blk_mq_map.cpp).
 *   linux-6.1   5.4 to 6.2 ("blk-mq: balance mapping between present CPUs and queues"): a counter q hands out
 *               q % Q to the first Q CPUs, then to each later first sibling (q++), the other siblings following their
 *               first sibling. Without SMT the same map as legacy; with SMT, unlike legacy, the queues after the
 *               first Q keep rotating.
 *   linux-6.3   6.3 and later (6a6dcae8f486 "blk-mq: Build default queue map via group_cpus_evenly()"): queue q
 *               takes the CPUs of group q of group_cpus_evenly(Q), contiguous groups by NUMA node and core, the first
 *               groups one CPU larger; without the L2-cluster step that later kernels add (policy "default" with
 *               clusters: true).
 * Also here, the kernel's other maps: "default" (today's blk_mq_map_queues(), group_cpus_evenly() with the optional
 * L2-cluster step) and "legacy" (4.x, as 4.19 has it).
 * Leaves out, as blk_mq_map.hpp says: CPU hotplug (every CPU present and online), several maps per tag set. */
#include "models/linux/blk_mq_map.hpp"
#include "models/linux/group_cpus.hpp"

#include "sim/input_error.hpp"

namespace pvsim {

namespace {

/* blk_mq_map_queues() from 6.3 and a PCI driver's map from its vectors' masks: queue q serves the CPUs of group
 * q % nummasks of group_cpus_evenly() (with more queues than masks the later queues take the CPUs again). */
std::vector<int> map_by_groups(const CpuTopology& topo, int nr_hw_queues, bool clusters)
{
  CpuGroups g = group_cpus_evenly(topo, nr_hw_queues, clusters);
  std::vector<int> out(topo.cpus, 0);
  for (int q = 0; q < nr_hw_queues; ++q)
    for (int cpu : g.groups[static_cast<std::size_t>(q % g.nummasks)])
      out[cpu] = q;
  return out;
}

class Linux2015Policy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "linux-2015";
  static constexpr const char* summary =
      "Linux up to 4.12 (2015): contiguous blocks, queue = i * queues / CPUs over cores, siblings together";
  static std::vector<std::string> option_keys() { return {}; }
  Linux2015Policy(const nlohmann::json&, const QueueMapOrigin&) {}

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    int nr_cpus = topo.cpus, nr_uniq = 0;
    for (int cpu = 0; cpu < nr_cpus; ++cpu)
      nr_uniq += topo.first_sibling(cpu) == cpu ? 1 : 0;
    std::vector<int> out(nr_cpus, 0);
    int queue = 0;
    for (int cpu = 0; cpu < nr_cpus; ++cpu) {
      if (nr_hw_queues >= nr_cpus or nr_cpus == nr_uniq) {
        out[cpu] = queue * nr_hw_queues / nr_cpus;
        ++queue;
      } else if (topo.first_sibling(cpu) == cpu) {
        out[cpu] = queue * nr_hw_queues / nr_uniq;
        ++queue;
      } else {
        out[cpu] = out[topo.first_sibling(cpu)];
      }
    }
    return out;
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(Linux2015Policy);

class Linux61Policy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "linux-6.1";
  static constexpr const char* summary =
      "Linux 5.4 to 6.2: queues handed out in turn to the first CPUs, then to each later core's first thread";
  static std::vector<std::string> option_keys() { return {}; }
  Linux61Policy(const nlohmann::json&, const QueueMapOrigin&) {}

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    std::vector<int> out(topo.cpus, -1);
    int q = 0;
    for (int cpu = 0; cpu < topo.cpus and q < nr_hw_queues; ++cpu) // the present CPUs first (all are present here)
      out[cpu] = q++ % nr_hw_queues;
    for (int cpu = 0; cpu < topo.cpus; ++cpu) {
      if (out[cpu] != -1)
        continue;
      if (q < nr_hw_queues or topo.first_sibling(cpu) == cpu)
        out[cpu] = q++ % nr_hw_queues;
      else
        out[cpu] = out[topo.first_sibling(cpu)];
    }
    return out;
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(Linux61Policy);

class Linux63Policy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "linux-6.3";
  static constexpr const char* summary =
      "Linux 6.3 and later: group_cpus_evenly() by NUMA node and core, without the later L2-cluster step";
  static std::vector<std::string> option_keys() { return {}; }
  Linux63Policy(const nlohmann::json&, const QueueMapOrigin&) {}

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    return map_by_groups(topo, nr_hw_queues, false);
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(Linux63Policy);

/* The map a PCI driver with managed MSI-X vectors copies from its queue vectors' affinity masks
 * (blk_mq_pci_map_queues(), blk_mq_virtio_map_queues(), later blk_mq_map_hw_queues()): pci_alloc_irq_vectors_affinity()
 * -> irq_create_affinity_masks() (kernel/irq/affinity.c) spreads the vectors after the pre_vectors (virtio-pci's
 * config vector) with irq_build_affinity_masks() up to 6.2 and group_cpus_evenly() from 6.3 (the same code renamed and
 * moved to lib/group_cpus.c): by NUMA node, then core, each queue a block of consecutive CPUs with SMT siblings
 * together. With every CPU present and no more queues than CPUs (virtio-blk and xen-blkfront cap their queues at the
 * CPUs), the two eras give the same masks. Before 4.17 the spread did not separate present from possible CPUs, which
 * only matters with hotplug (left out). */
class IrqAffinityPolicy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "irq-affinity";
  static constexpr const char* summary =
      "the managed interrupt affinity spread of the queue vectors (irq_create_affinity_masks()), as a PCI driver maps";
  static std::vector<std::string> option_keys() { return {}; }
  IrqAffinityPolicy(const nlohmann::json&, const QueueMapOrigin&) {}

  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    topo.validate();
    check_queues(nr_hw_queues);
    // blk_mq_virtio_map_queues(): for each queue, every CPU of its vector's mask. With more queues than CPUs the
    // later vectors' masks repeat the CPUs (irq_create_affinity_masks() wraps), so the last queue naming a CPU wins.
    return map_by_groups(topo, nr_hw_queues, false);
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(IrqAffinityPolicy);

/* ---------------------------------------------------------------------------------------------------------------
 * Today's map, and the 4.x one. */

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
        throw InputError(origin.file, origin.at("clusters"),
                         "expected true or false (the L2 cluster step of group_cpus_evenly), found " + v.dump());
      clusters_ = v.get<bool>();
    }
  }

  /* blk_mq_map_queues() (block/blk-mq-cpumap.c): queue q serves the CPUs of group q % nummasks. */
  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    return map_by_groups(topo, nr_hw_queues, clusters_);
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

} // namespace

std::string kernel_queue_map_policy(const KernelVersion& kernel)
{
  if (kernel.before(4, 13))
    return Linux2015Policy::policy_name;
  if (kernel.before(5, 4))
    return "legacy";
  if (kernel.before(6, 3))
    return Linux61Policy::policy_name;
  return Linux63Policy::policy_name;
}

} // namespace pvsim
