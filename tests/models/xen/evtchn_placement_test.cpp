/* Where a Xen PV frontend's event channels upcall: the policies by name, and the default following the domU's
 * kernel (vCPU 0 up to 5.10, select_target_cpu() from 5.11: models/xen/evtchn_placement.hpp). The expected vCPUs are
 * worked by hand from the rules, not read off the implementation. */
#include "tests/support/cli_support.hpp"

#include "models/xen/evtchn_placement.hpp"

using namespace pvsim;
using pvsim::xen::EvtchnPlacement;

namespace {
std::vector<unsigned> bind_queues(const std::string& policy, const std::string& kernel, int vcpus, int preceding,
                                  unsigned queues)
{
  EvtchnPlacement p(policy, parse_kernel(kernel), vcpus, preceding);
  std::vector<unsigned> out;
  for (unsigned q = 0; q < queues; ++q)
    out.push_back(p.bind(q));
  return out;
}

json blk_run(const std::string& kernel, const json& front = json::object())
{
  json fr = {{"type", "xen.blkfront"}, {"vm", "domU"}, {"backend", "vbd"}, {"max_queues", 4}};
  fr.update(front);
  json c   = {{"host", {{"type", "cpu.host"}, {"cores", 4}}},
              {"dom0", {{"type", "cpu.host"}, {"cores", 4}}},
              {"domU", {{"type", "guest.vm"}, {"vcpus", 4}, {"pcpus", "host"}, {"kernel", kernel}}},
              {"fio", {{"type", "job.fio"}, {"vm", "domU"}, {"numjobs", 4}, {"iodepth", 4}, {"target", "blkmq"}}},
              {"blkmq", {{"type", "blk_mq"}, {"vm", "domU"}, {"target", "xvda"}}},
              {"xvda", fr},
              {"vbd", {{"type", "xen.blkback"}, {"cpus", "dom0"}, {"target", "nullb0"}}},
              {"nullb0", {{"type", "device.null_blk"}, {"completion_latency", "10us"}}}};
  json doc = {{"name", "evtchn"}, {"seed", 3}, {"duration_s", 0.004}, {"warmup_s", 0.001}, {"components", c}};
  Simulation sim(scenario_from_json(doc, "evtchn"));
  json r = sim.run();
  require_conservation(r);
  return r;
}

std::vector<unsigned> ring_vcpus(const json& r)
{
  std::vector<unsigned> out;
  for (const auto& ring : r["components"]["xvda"]["rings"])
    out.push_back(ring["event_channel_vcpu"].get<unsigned>());
  return out;
}
} // namespace

TEST(EvtchnPlacement, DefaultIsVcpuZeroUpTo510AndBalanceFrom511)
{
  for (const char* k : {"3.13", "4.19", "5.4", "5.10"})
    EXPECT_EQ(EvtchnPlacement::resolve("default", parse_kernel(k)), "cpu0") << k;
  for (const char* k : {"5.11", "5.15", "6.1", "6.18"})
    EXPECT_EQ(EvtchnPlacement::resolve("default", parse_kernel(k)), "balance") << k;
  EXPECT_EQ(EvtchnPlacement::resolve("spread", parse_kernel("5.10")), "spread");
}

TEST(EvtchnPlacement, Cpu0PutsEveryChannelOnVcpuZero)
{
  EXPECT_EQ(bind_queues("cpu0", "6.6", 4, 2, 4), (std::vector<unsigned>{0, 0, 0, 0}));
}

TEST(EvtchnPlacement, SpreadPutsQueueQOnVcpuQModuloTheVcpus)
{
  EXPECT_EQ(bind_queues("spread", "6.6", 4, 2, 6), (std::vector<unsigned>{0, 1, 2, 3, 0, 1}));
}

TEST(EvtchnPlacement, BalanceCountsTheChannelsBoundBefore)
{
  // 4 vCPUs: xenbus -> 1, console -> 2 (vCPU 0 counts the new channel itself); then 3; then 0 (all at one, lowest id
  // wins); then 1, 2.
  EXPECT_EQ(bind_queues("balance", "6.6", 4, 2, 4), (std::vector<unsigned>{3, 0, 1, 2}));
  // Nothing before: 1, 2, 3, then 0.
  EXPECT_EQ(bind_queues("balance", "6.6", 4, 0, 4), (std::vector<unsigned>{1, 2, 3, 0}));
}

TEST(EvtchnPlacement, UnknownPolicyIsRefused)
{
  EXPECT_THROW(EvtchnPlacement("irqbalance", parse_kernel("6.6"), 4, 0), std::invalid_argument);
}

TEST(EvtchnPlacement, A510DomUsBlkfrontRingsAllUpcallVcpuZero)
{
  json r = blk_run("5.10");
  EXPECT_EQ(r["components"]["xvda"]["irq_affinity"], "cpu0");
  EXPECT_EQ(ring_vcpus(r), (std::vector<unsigned>{0, 0, 0, 0}));
}

TEST(EvtchnPlacement, A511DomUsBlkfrontRingsGoToTheLeastLoadedVcpus)
{
  json r = blk_run("5.11");
  EXPECT_EQ(r["components"]["xvda"]["irq_affinity"], "balance");
  EXPECT_EQ(ring_vcpus(r), (std::vector<unsigned>{3, 0, 1, 2})); // the xen-lab-tcg domU's /proc/interrupts
}

TEST(EvtchnPlacement, AnExplicitPolicyIgnoresTheKernel)
{
  json r = blk_run("5.10", {{"irq_affinity", "spread"}});
  EXPECT_EQ(ring_vcpus(r), (std::vector<unsigned>{0, 1, 2, 3}));
}

namespace {
double vcpu_utilization(const json& r, int v)
{
  return r["components"]["domU"]["vcpus"][static_cast<std::size_t>(v)]["utilization"].get<double>();
}
} // namespace

// The mechanism behind the placement: blkif_interrupt() runs where the channel is bound. Four jobs, one per vCPU.
TEST(EvtchnPlacement, OnVcpuZeroVcpuZeroDoesEveryRingsCompletionWork)
{
  json r = blk_run("5.10");
  for (int v = 1; v < 4; ++v)
    EXPECT_GT(vcpu_utilization(r, 0), 1.3 * vcpu_utilization(r, v)) << "vCPU " << v;
}

TEST(EvtchnPlacement, BalancedChannelsShareTheCompletionWork)
{
  json r = blk_run("6.6");
  for (int v = 1; v < 4; ++v)
    EXPECT_LT(vcpu_utilization(r, 0), 1.15 * vcpu_utilization(r, v)) << "vCPU " << v;
}

TEST(EvtchnPlacement, FollowQueueBindsEachRingToTheFirstVcpuBlkMqMapsToIt)
{
  // 4 vCPUs, 2 rings (dom0 has 4 CPUs, max_queues 2): a 6.1 guest's map is 0,2 -> hctx 0 and 1,3 -> hctx 1, so the
  // rings' channels go to vCPUs 0 and 1; a 6.6 guest's is 0-1 / 2-3: vCPUs 0 and 2.
  json r = blk_run("6.1", {{"irq_affinity", "follow-queue"}, {"max_queues", 2}});
  EXPECT_EQ(r["components"]["xvda"]["irq_affinity"], "follow-queue");
  EXPECT_EQ(ring_vcpus(r), (std::vector<unsigned>{0, 1}));
}

TEST(EvtchnPlacement, FollowQueueFollowsTheKernelsMap)
{
  json r = blk_run("6.6", {{"irq_affinity", "follow-queue"}, {"max_queues", 2}});
  EXPECT_EQ(ring_vcpus(r), (std::vector<unsigned>{0, 2}));
}
