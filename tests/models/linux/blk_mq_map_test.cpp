/* Specification of blk-mq's CPU -> hardware queue maps.
 *
 * Sources: Linux block/blk-mq-cpumap.c (blk_mq_map_queues()) and lib/group_cpus.c (group_cpus_evenly()) as in
 * torvalds/linux today, lib/sort.c (__sort_r()); the 4.19 blk-mq-cpumap.c for "legacy"; the commit message of
 * 89802ca36c96 ("lib/group_cpus: make group CPU cluster aware") for its 40-CPU example; and the real guests'
 * /sys/block/<dev>/mq/<n>/cpu_list recorded in ../shared/traces. */
#include "models/linux/blk_mq_map.hpp"

#include "sim/input_error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

using namespace pvsim;
using Lists = std::vector<std::vector<int>>;

namespace {

Lists queues_of(const std::string& policy, const CpuTopology& topo, int nr_hw_queues,
                const nlohmann::json& options = nlohmann::json::object())
{
  return cpus_of_queue(make_queue_map_policy(policy, options)->map(topo, nr_hw_queues), nr_hw_queues);
}

std::vector<int> map_of(const std::string& policy, const CpuTopology& topo, int nr_hw_queues,
                        const nlohmann::json& options = nlohmann::json::object())
{
  return make_queue_map_policy(policy, options)->map(topo, nr_hw_queues);
}

std::vector<int> range(int first, int last)
{
  std::vector<int> out;
  for (int c = first; c <= last; ++c)
    out.push_back(c);
  return out;
}

/** What a guest showed: its kernel, CPU count, and each /sys/block/<dev>/mq/<n>/cpu_list as printed. */
struct ObservedQueues {
  std::string kernel;
  int cpus = 0;
  std::vector<std::string> cpu_list_text;
};

std::string shared_trace(const std::string& rel)
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/" + rel;
}

/** Reads guest-info.txt (xen-lab-tcg, qemu-lab-tcg: "kernel=... nproc=N" and "/sys/block/... cpu_list=...
 * nr_tags=...") or device.txt (virtio-vm-1q: uname, lscpu's "CPU(s):" and the same mq lines). */
ObservedQueues read_observed(const std::string& path)
{
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  const std::regex mq_line(R"(^/sys/block/\S+/mq/(\d+) cpu_list=(.*) nr_tags=.*$)");
  const std::regex nproc(R"(kernel=(\S+) nproc=(\d+))");
  const std::regex uname(R"(^Linux \S+ (\S+) )");
  const std::regex lscpu(R"(^CPU\(s\):\s+(\d+)\s*$)");
  ObservedQueues obs;
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, mq_line)) {
      EXPECT_EQ(std::stoul(m[1]), obs.cpu_list_text.size()) << "queues listed out of order in " << path;
      obs.cpu_list_text.push_back(m[2]);
    } else if (std::regex_search(line, m, nproc)) {
      obs.kernel = m[1];
      obs.cpus   = std::stoi(m[2]);
    } else if (std::regex_search(line, m, uname)) {
      obs.kernel = m[1];
    } else if (std::regex_search(line, m, lscpu)) {
      obs.cpus = std::stoi(m[1]);
    }
  }
  return obs;
}

/** The guests in ../shared/traces ran Linux 6.1 and 6.18, from before the cluster step of group_cpus_evenly(). */
const nlohmann::json kernel_before_2026 = {{"clusters", false}};

void expect_default_policy_reproduces(const std::string& rel)
{
  ObservedQueues obs = read_observed(shared_trace(rel));
  ASSERT_GT(obs.cpus, 0) << rel;
  ASSERT_FALSE(obs.cpu_list_text.empty()) << rel;
  ASSERT_EQ(obs.kernel.substr(0, 2), "6.") << rel;
  const int queues = static_cast<int>(obs.cpu_list_text.size());
  Lists simulated  = queues_of("default", CpuTopology::flat(obs.cpus), queues, kernel_before_2026);
  for (int q = 0; q < queues; ++q) {
    EXPECT_EQ(format_mq_cpu_list(simulated[q]), obs.cpu_list_text[q]) << rel << " queue " << q;
    EXPECT_EQ(parse_cpu_list(obs.cpu_list_text[q]), simulated[q]) << rel << " queue " << q;
  }
}

} // namespace

/* ---------------------------------------------------------------------------------------------------------------
 * Topologies (the topology itself: cpu_topology_test.cpp) */

TEST(CpuTopology, VectorsOfTheWrongLengthAreRejected)
{
  CpuTopology t = CpuTopology::flat(4);
  t.core_of_cpu.pop_back();
  EXPECT_THROW(t.validate(), std::invalid_argument);
  EXPECT_THROW(map_of("default", t, 2), std::invalid_argument);
}

/* ---------------------------------------------------------------------------------------------------------------
 * The registry */

TEST(QueueMapRegistry, ListsEveryPolicy)
{
  auto names = queue_map_policy_names();
  for (const char* n : {"default", "legacy", "per-core", "per-node", "round-robin", "single", "explicit"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(queue_map_policy_summary("default"), "");
}

TEST(QueueMapRegistry, APolicyKnowsItsName)
{
  EXPECT_EQ(make_queue_map_policy("per-node")->name(), "per-node");
}

TEST(QueueMapRegistry, AnUnknownNameIsAnInputErrorWithASuggestion)
{
  try {
    make_queue_map_policy("round-robbin", nlohmann::json::object(), {"s.json", "/components/blk/queue_map"});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "s.json");
    EXPECT_EQ(e.where(), "/components/blk/queue_map");
    EXPECT_NE(e.detail().find("did you mean 'round-robin'"), std::string::npos) << e.what();
  }
}

TEST(QueueMapRegistry, AnUnknownOptionIsAnInputErrorAtItsKey)
{
  try {
    make_queue_map_policy("default", {{"cluster", false}}, {"s.json", "/q"});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "/q/cluster");
    EXPECT_NE(e.detail().find("did you mean 'clusters'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_queue_map_policy("single", {{"queues", 2}}), InputError);
  EXPECT_THROW(make_queue_map_policy("default", {{"clusters", "yes"}}), InputError);
  EXPECT_THROW(make_queue_map_policy("default", nlohmann::json::array()), InputError);
}

namespace {

/** A policy defined outside blk_mq_map.cpp: registering it is all it takes. */
class ReversedPolicy : public QueueMapPolicy {
public:
  static constexpr const char* policy_name = "test-reversed";
  static constexpr const char* summary     = "last CPU on queue 0";
  static std::vector<std::string> option_keys() { return {}; }
  ReversedPolicy(const nlohmann::json&, const QueueMapOrigin&) {}
  std::vector<int> map(const CpuTopology& topo, int nr_hw_queues) const override
  {
    std::vector<int> out(topo.cpus);
    for (int c = 0; c < topo.cpus; ++c)
      out[c] = (topo.cpus - 1 - c) % nr_hw_queues;
    return out;
  }
  std::string name() const override { return policy_name; }
};
PVSIM_REGISTER_QUEUE_MAP_POLICY(ReversedPolicy);

} // namespace

TEST(QueueMapRegistry, ANewPolicyNeedsOnlyItsRegistration)
{
  EXPECT_EQ(map_of("test-reversed", CpuTopology::flat(3), 3), (std::vector<int>{2, 1, 0}));
}

TEST(QueueMapRegistry, EveryPolicyMapsEveryCpuToAnExistingQueue)
{
  std::vector<CpuTopology> machines = {CpuTopology::flat(1), CpuTopology::flat(7), CpuTopology::from_spec(1, 4, 2),
                                       CpuTopology::from_spec(2, 3, 2, 3), CpuTopology::from_spec(3, 5, 1)};
  for (const auto& name : queue_map_policy_names()) {
    if (name == "explicit")
      continue;
    for (const auto& topo : machines)
      for (int queues = 1; queues <= topo.cpus + 2; ++queues) {
        std::vector<int> m = map_of(name, topo, queues);
        ASSERT_EQ(m.size(), static_cast<std::size_t>(topo.cpus)) << name;
        for (int q : m)
          ASSERT_TRUE(q >= 0 and q < queues) << name << " " << topo.cpus << " CPUs, " << queues << " queues";
      }
  }
}

/* ---------------------------------------------------------------------------------------------------------------
 * "default": blk_mq_map_queues() over group_cpus_evenly() */

TEST(DefaultQueueMap, SixteenCpusOnFourQueuesGiveEachQueueFourConsecutiveCpus)
{
  EXPECT_EQ(queues_of("default", CpuTopology::flat(16), 4),
            (Lists{range(0, 3), range(4, 7), range(8, 11), range(12, 15)}));
}

TEST(DefaultQueueMap, WhenCpusDoNotDivideTheFirstQueuesTakeOneMore)
{
  EXPECT_EQ(queues_of("default", CpuTopology::flat(10), 4),
            (Lists{range(0, 2), range(3, 5), range(6, 7), range(8, 9)}));
  EXPECT_EQ(queues_of("default", CpuTopology::flat(16), 5),
            (Lists{range(0, 3), range(4, 6), range(7, 9), range(10, 12), range(13, 15)}));
}

TEST(DefaultQueueMap, OneQueueServesEveryCpu)
{
  EXPECT_EQ(queues_of("default", CpuTopology::from_spec(2, 4, 2), 1), (Lists{range(0, 15)}));
}

TEST(DefaultQueueMap, SmtSiblingsShareAQueueEvenWhenNumberedApart)
{
  // Bare-metal numbering: CPU c and c + 4 are the two threads of core c.
  CpuTopology t;
  t.cpus        = 8;
  t.node_of_cpu = std::vector<int>(8, 0);
  t.core_of_cpu = {0, 1, 2, 3, 0, 1, 2, 3};
  EXPECT_EQ(queues_of("default", t, 2), (Lists{{0, 1, 4, 5}, {2, 3, 6, 7}}));
}

TEST(DefaultQueueMap, ByDefaultAsManyQueuesAsCpusIsOneToOneAsInTheRecordedGuests)
{
  EXPECT_EQ(map_of("default", CpuTopology::flat(4), 4), (std::vector<int>{0, 1, 2, 3}));
}

TEST(DefaultQueueMap, WithoutTheClusterStepAsManyQueuesAsCpusIsOneToOne)
{
  EXPECT_EQ(map_of("default", CpuTopology::flat(4), 4, {{"clusters", false}}), (std::vector<int>{0, 1, 2, 3}));
}

TEST(DefaultQueueMap, WithTheClusterStepAsManyQueuesAsCpusFollowsTheHeapsortOrderOfTheClusters)
{
  // Each CPU is its own L2 cluster and there are as many groups as clusters, so group_cpus_evenly() hands out
  // groups in sort() order of four equal counts: clusters 1, 3, 2, 0. Derived from the code, not observed.
  EXPECT_EQ(queues_of("default", CpuTopology::flat(4), 4, {{"clusters", true}}), (Lists{{1}, {3}, {2}, {0}}));
  EXPECT_EQ(queues_of("default", CpuTopology::flat(2), 2, {{"clusters", true}}), (Lists{{1}, {0}}));
}

TEST(DefaultQueueMap, MoreQueuesThanCpusLeaveTheFirstQueuesWithoutCpus)
{
  // Only two groups are non-empty; queue q takes group q % 2, so queues 2 and 3 overwrite queues 0 and 1.
  EXPECT_EQ(queues_of("default", CpuTopology::flat(2), 4, {{"clusters", false}}), (Lists{{}, {}, {0}, {1}}));
  EXPECT_EQ(queues_of("default", CpuTopology::flat(2), 3, {{"clusters", false}}), (Lists{{}, {1}, {0}}));
}

TEST(DefaultQueueMap, AsManyNodesAsQueuesGiveEachNodeItsQueueInNodeOrder)
{
  EXPECT_EQ(queues_of("default", CpuTopology::from_spec(2, 4, 1), 2), (Lists{range(0, 3), range(4, 7)}));
}

TEST(DefaultQueueMap, FewerQueuesThanNodesWrapNodesOverQueues)
{
  EXPECT_EQ(queues_of("default", CpuTopology::from_spec(3, 2, 1), 2), (Lists{{0, 1, 4, 5}, {2, 3}}));
}

TEST(DefaultQueueMap, TwoEqualNodesAreServedSecondNodeFirst)
{
  // sort() leaves two equal node entries swapped, so node 1 takes groups 0 and 1.
  EXPECT_EQ(queues_of("default", CpuTopology::from_spec(2, 4, 1), 4), (Lists{{4, 5}, {6, 7}, {0, 1}, {2, 3}}));
}

TEST(DefaultQueueMap, NodesGetQueuesInProportionToTheirCpusSmallestNodeFirst)
{
  CpuTopology t = CpuTopology::flat(8);
  t.node_of_cpu = {0, 0, 0, 0, 0, 0, 1, 1};
  EXPECT_EQ(queues_of("default", t, 4), (Lists{{6, 7}, {0, 1}, {2, 3}, {4, 5}}));
}

TEST(DefaultQueueMap, ClusterStepKeepsL2ClustersWholeInTheKernelCommitExample)
{
  // 89802ca36c96: 40 CPUs in one node, clusters of 4, 11 groups. Before: 7 groups of 4 then 4 of 3, one of them
  // CPUs 31-33 across two clusters. After: one cluster (CPUs 0-3) split in two, every other group a whole cluster.
  CpuTopology t = CpuTopology::from_spec(1, 40, 1, 4);
  Lists before  = queues_of("default", t, 11, {{"clusters", false}});
  EXPECT_EQ(before[7], range(28, 30));
  EXPECT_EQ(before[8], range(31, 33));
  Lists after = queues_of("default", t, 11, {{"clusters", true}});
  EXPECT_EQ(after[9], (std::vector<int>{0, 1}));
  EXPECT_EQ(after[10], (std::vector<int>{2, 3}));
  for (int q = 0; q < 9; ++q) {
    ASSERT_EQ(after[q].size(), 4u);
    EXPECT_EQ(after[q].front() % 4, 0) << "queue " << q << " straddles two clusters";
  }
}

/* ---------------------------------------------------------------------------------------------------------------
 * "legacy": blk_mq_map_queues() of Linux 4.19 */

TEST(LegacyQueueMap, CpuGoesToCpuModuloQueues)
{
  EXPECT_EQ(map_of("legacy", CpuTopology::flat(6), 4), (std::vector<int>{0, 1, 2, 3, 0, 1}));
}

TEST(LegacyQueueMap, LaterSiblingsFollowTheirFirstSibling)
{
  // Threads adjacent: CPU 3 follows 2 (queue 2), CPU 5 follows 4 (4 % 3 = 1), CPU 7 follows 6 (6 % 3 = 0).
  EXPECT_EQ(queues_of("legacy", CpuTopology::from_spec(1, 4, 2), 3), (Lists{{0, 6, 7}, {1, 4, 5}, {2, 3}}));
}

TEST(LegacyQueueMap, CpusBelowTheQueueCountIgnoreSiblings)
{
  // CPU 1 is CPU 0's sibling but below nr_queues, so it keeps queue 1; every later core starts on an even CPU.
  EXPECT_EQ(map_of("legacy", CpuTopology::from_spec(1, 4, 2), 2), (std::vector<int>{0, 1, 0, 0, 0, 0, 0, 0}));
}

/* ---------------------------------------------------------------------------------------------------------------
 * The simple policies */

TEST(PerCoreQueueMap, SiblingsShareTheirCoresQueueAndCoresWrap)
{
  EXPECT_EQ(queues_of("per-core", CpuTopology::from_spec(1, 4, 2), 2), (Lists{{0, 1, 4, 5}, {2, 3, 6, 7}}));
}

TEST(PerNodeQueueMap, EachNodeRoundRobinsOverItsOwnQueues)
{
  EXPECT_EQ(queues_of("per-node", CpuTopology::from_spec(2, 2, 2), 4), (Lists{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
}

TEST(PerNodeQueueMap, TheFirstNodesTakeTheQueuesThatDoNotDivide)
{
  EXPECT_EQ(queues_of("per-node", CpuTopology::from_spec(2, 4, 1), 3), (Lists{{0, 2}, {1, 3}, range(4, 7)}));
}

TEST(PerNodeQueueMap, WithFewerQueuesThanNodesNodesShareQueues)
{
  EXPECT_EQ(queues_of("per-node", CpuTopology::from_spec(3, 1, 1), 2), (Lists{{0, 2}, {1}}));
}

TEST(RoundRobinQueueMap, CpuGoesToCpuModuloQueues)
{
  EXPECT_EQ(map_of("round-robin", CpuTopology::from_spec(1, 3, 2), 4), (std::vector<int>{0, 1, 2, 3, 0, 1}));
}

TEST(SingleQueueMap, EveryCpuUsesQueueZero)
{
  EXPECT_EQ(map_of("single", CpuTopology::flat(3), 4), (std::vector<int>{0, 0, 0}));
}

TEST(ExplicitQueueMap, UsesTheGivenTable)
{
  EXPECT_EQ(map_of("explicit", CpuTopology::flat(4), 2, {{"table", {1, 1, 0, 0}}}), (std::vector<int>{1, 1, 0, 0}));
}

TEST(ExplicitQueueMap, ATableOfTheWrongLengthIsAnInputError)
{
  auto p = make_queue_map_policy("explicit", {{"table", {0, 1}}}, {"s.json", "/q"});
  try {
    p->map(CpuTopology::flat(4), 2);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "/q/table");
    EXPECT_NE(e.detail().find("2 entries"), std::string::npos) << e.what();
    EXPECT_NE(e.detail().find("4 CPUs"), std::string::npos) << e.what();
  }
}

TEST(ExplicitQueueMap, AQueueBeyondTheDevicesQueuesIsAnInputErrorAtItsEntry)
{
  auto p = make_queue_map_policy("explicit", {{"table", {0, 3}}}, {"s.json", "/q"});
  try {
    p->map(CpuTopology::flat(2), 2);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "/q/table/1");
    EXPECT_NE(e.detail().find("hardware queue 3"), std::string::npos) << e.what();
  }
}

TEST(ExplicitQueueMap, AMissingOrMalformedTableIsAnInputError)
{
  EXPECT_THROW(make_queue_map_policy("explicit"), InputError);
  EXPECT_THROW(make_queue_map_policy("explicit", {{"table", nlohmann::json::array()}}), InputError);
  EXPECT_THROW(make_queue_map_policy("explicit", {{"table", {0, -1}}}), InputError);
  EXPECT_THROW(make_queue_map_policy("explicit", {{"table", {0, 1.5}}}), InputError);
  EXPECT_THROW(make_queue_map_policy("explicit", {{"table", "0,1"}}), InputError);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Views */

TEST(QueueMapViews, CpusOfQueueListsEachQueuesCpusIncludingEmptyQueues)
{
  EXPECT_EQ(cpus_of_queue({2, 0, 2, 0}, 3), (Lists{{1, 3}, {}, {0, 2}}));
  EXPECT_THROW(cpus_of_queue({0, 3}, 3), std::invalid_argument);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Real guests (../shared/traces): "default" configured as their kernels, which predate the cluster step. */

TEST(ObservedQueueMaps, XenGuestWithFourVcpusAndFourQueuesHasOneVcpuPerQueue)
{
  expect_default_policy_reproduces("xen-lab-tcg/blkfront-max-queues-4/guest-info.txt");
}

TEST(ObservedQueueMaps, XenGuestWithFourVcpusAndOneQueuePutsEveryVcpuOnIt)
{
  expect_default_policy_reproduces("xen-lab-tcg/blkfront-max-queues-1/guest-info.txt");
}

TEST(ObservedQueueMaps, QemuVirtioGuestsWithTwoVcpusAndTwoQueuesHaveOneVcpuPerQueue)
{
  for (const char* run : {"native_q2", "native_q2_iot", "iouring_q2", "threads_q2"})
    expect_default_policy_reproduces(std::string("qemu-lab-tcg/") + run + "/guest-info.txt");
}

TEST(ObservedQueueMaps, QemuVirtioGuestWithTwoVcpusAndOneQueuePutsBothOnIt)
{
  expect_default_policy_reproduces("qemu-lab-tcg/native_q1/guest-info.txt");
}

TEST(ObservedQueueMaps, FirecrackerVirtioGuestWithTwoVcpusAndOneQueuePutsBothOnIt)
{
  expect_default_policy_reproduces("virtio-vm-1q/device.txt");
}

TEST(ManagedIrqCpus, EachVectorTakesTheLeastLoadedCpuOfItsMaskTheLastOnATie)
{
  EXPECT_EQ(pvsim::managed_irq_cpus({{0, 1}}, 2), (std::vector<int>{1}));
  EXPECT_EQ(pvsim::managed_irq_cpus({{0, 1}, {0, 1}, {0, 1}}, 2), (std::vector<int>{1, 0, 1}));
  EXPECT_EQ(pvsim::managed_irq_cpus({{0}, {1}, {2, 3}}, 4), (std::vector<int>{0, 1, 3}));
}
