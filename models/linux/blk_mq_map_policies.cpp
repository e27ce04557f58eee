/* The blk-mq queue map policies that are not a kernel's own map (those are in models/linux/blk_mq_map_eras.cpp): one
 * queue per core or per node, round robin, a single queue, a given table; what each one does is
 * in its summary. */
#include "models/linux/blk_mq_map.hpp"
#include "models/linux/group_cpus.hpp"

#include "sim/input_error.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace pvsim {

namespace {

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
    const std::string where = origin.at("table");
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
    const std::string where = origin_.at("table");
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

} // namespace pvsim
