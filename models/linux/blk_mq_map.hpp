/* pvsim: how blk-mq maps CPUs to hardware queues (the mq_map of a struct blk_mq_queue_map), as interchangeable
 * policies: a submitting CPU uses the hardware queue (hctx) its entry names.
 *
 * Models: the CPU topology blk-mq looks at (NUMA node, SMT siblings, L2 cluster of every CPU); Linux's
 * blk_mq_map_queues() as it is today (group_cpus_evenly(): NUMA nodes first, then L2 clusters, SMT siblings kept
 * together), the 4.x version of it, and simpler policies a driver or an experiment may want (one queue per core,
 * per node, round robin, single queue, a given table); the /sys/block/<dev>/mq/<n>/cpu_list view.
 * Leaves out: CPU hotplug (every CPU is possible, present and online, so group_cpus_evenly's second stage for
 * non-present CPUs never runs), isolcpus=io_queue housekeeping masks, several queue maps per tag set (read/poll
 * maps and their queue_offset), and maps taken from interrupt affinity (blk_mq_map_hw_queues(): for a PCI device
 * that affinity comes from the same group_cpus_evenly() spread over its queue vectors, so with no more queues than
 * CPUs, which virtio-blk and xen-blkfront enforce, "default" gives the same map). */
#pragma once

#include "models/host/kernel_version.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

/** A way to map CPUs to hardware queues. map() returns, for every CPU of the topology, the index of its hardware
 * queue in [0, nr_hw_queues). A queue may get no CPU (blk-mq then leaves that hctx inactive). map() throws
 * std::invalid_argument for an invalid topology or nr_hw_queues < 1, and InputError when the policy's options do
 * not fit this topology. */
class QueueMapPolicy {
public:
  virtual ~QueueMapPolicy();
  virtual std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const = 0;
  virtual std::string name() const                                              = 0;
};

/** Where a policy's options came from, for error messages: the file and the JSON pointer of the options object. */
struct QueueMapOrigin {
  std::string file;
  std::string where;
};

struct QueueMapPolicyInfo {
  std::string name;
  std::string summary;
  /** The option keys the policy understands (anything else is an InputError). */
  std::vector<std::string> options;
  std::function<std::unique_ptr<QueueMapPolicy>(const nlohmann::json& options, const QueueMapOrigin& origin)> make;
};

/** Adds a policy to the registry (PVSIM_REGISTER_QUEUE_MAP_POLICY does it at static initialisation). */
void register_queue_map_policy(QueueMapPolicyInfo info);

/** The policy registered as `name`, built with `options` (a JSON object, or null for none). Throws InputError for
 * an unknown name (with a "did you mean"), an unknown option key, or an invalid option value. */
std::unique_ptr<QueueMapPolicy> make_queue_map_policy(const std::string& name,
                                                      const nlohmann::json& options = nlohmann::json::object(),
                                                      const QueueMapOrigin& origin  = {});

/** For a policy's map(): std::invalid_argument unless nr_hw_queues >= 1. */
void check_queues(int nr_hw_queues);

/** The policy blk_mq_map_queues() is in Linux major.minor (models/linux/blk_mq_map_eras.cpp). */
std::string kernel_queue_map_policy(const KernelVersion& kernel);

/** Registered policy names, sorted. */
std::vector<std::string> queue_map_policy_names();
/** One line on what the policy does, or "" for an unknown name. */
std::string queue_map_policy_summary(const std::string& name);

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

/** For each hardware queue, its CPUs in ascending order: what /sys/block/<dev>/mq/<n>/cpu_list lists. */
std::vector<std::vector<int>> cpus_of_queue(const std::vector<int>& map, int nr_hw_queues);

/** The CPU each queue's managed interrupt lands on, queues in order: irq_matrix_alloc_managed()
 * (kernel/irq/matrix.c, matrix_find_best_cpu_managed()) takes the CPU of the queue's mask with the fewest managed
 * vectors so far, the last one on a tie. `queue_cpus` as cpus_of_queue() gives them; `cpus` CPUs in all. */
std::vector<int> managed_irq_cpus(const std::vector<std::vector<int>>& queue_cpus, int cpus);

/** A CPU list in Linux's cpulist format ("%*pbl", /sys/devices/system/cpu/online): ranges, "0-3,8". */
std::string format_cpu_list(const std::vector<int>& cpus);
/** A CPU list as blk-mq's cpu_list attribute prints it (blk_mq_hw_sysfs_cpus_show()): "0, 1, 2, 3". */
std::string format_mq_cpu_list(const std::vector<int>& cpus);
/** Reads either format (and mixes: "0-2, 5"); nullopt when the text is not a CPU list. Sorted, duplicates removed. */
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

template <class P>
struct QueueMapPolicyRegistrar {
  QueueMapPolicyRegistrar()
  {
    register_queue_map_policy(
        {P::policy_name, P::summary, P::option_keys(), [](const nlohmann::json& options, const QueueMapOrigin& origin) {
           return std::unique_ptr<QueueMapPolicy>(std::make_unique<P>(options, origin));
         }});
  }
};

} // namespace pvsim

/** Registers policy class P (static constexpr const char* policy_name, summary; static std::vector<std::string>
 * option_keys(); P(const nlohmann::json& options, const QueueMapOrigin& origin)) from its own .cpp. */
#define PVSIM_REGISTER_QUEUE_MAP_POLICY(P)                                                                             \
  static const ::pvsim::QueueMapPolicyRegistrar<P> pvsim_queue_map_registrar_##P
