/* pvsim: how blk-mq maps CPUs to hardware queues (the mq_map of a struct blk_mq_queue_map), as interchangeable
 * policies: a submitting CPU uses the hardware queue (hctx) its entry names.
 *
 * This header: the policy interface, its registry (a scenario names a policy by its "type"), and views of a map
 * (the /sys/block/<dev>/mq/<n>/cpu_list lists, where managed interrupts land). The policies live beside it:
 * Linux's blk_mq_map_queues() as it is today (group_cpus_evenly(), group_cpus.hpp) and simpler policies a driver or
 * an experiment may want (one queue per core, per node, round robin, single queue, a given table) in
 * blk_mq_map_policies.cpp; the kernel's earlier maps, era by era, in blk_mq_map_eras.cpp.
 * Leaves out: CPU hotplug (every CPU is possible, present and online, so group_cpus_evenly's second stage for
 * non-present CPUs never runs), isolcpus=io_queue housekeeping masks, several queue maps per tag set (read/poll
 * maps and their queue_offset), and maps taken from interrupt affinity (blk_mq_map_hw_queues(): for a PCI device
 * that affinity comes from the same group_cpus_evenly() spread over its queue vectors, so with no more queues than
 * CPUs, which virtio-blk and xen-blkfront enforce, "default" gives the same map). */
#pragma once

#include "models/host/kernel_version.hpp"
#include "models/linux/cpu_list.hpp"
#include "models/linux/cpu_topology.hpp"
#include "models/linux/group_cpus.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim {

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
  /** The pointer of option `key` inside the options object. */
  std::string at(const std::string& key) const;
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

/** For each hardware queue, its CPUs in ascending order: what /sys/block/<dev>/mq/<n>/cpu_list lists. */
std::vector<std::vector<int>> cpus_of_queue(const std::vector<int>& map, int nr_hw_queues);

/** The CPU each queue's managed interrupt lands on, queues in order: irq_matrix_alloc_managed()
 * (kernel/irq/matrix.c, matrix_find_best_cpu_managed()) takes the CPU of the queue's mask with the fewest managed
 * vectors so far, the last one on a tie. `queue_cpus` as cpus_of_queue() gives them; `cpus` CPUs in all. */
std::vector<int> managed_irq_cpus(const std::vector<std::vector<int>>& queue_cpus, int cpus);

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
