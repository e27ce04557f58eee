/* Stacked layers (issue 12, point 2): every stack of block layers that `pvsim check` accepts also runs, with every
 * request accounted for. The stacks are generated from a small grammar of what can sit below what on real hosts:
 *
 *   backing(level) := device | blk_mq(vm of level) over driver(level)
 *   driver(level)  := null_blk
 *                   | xen.blkfront(vm of level) -> xen.blkback(cpus of level+1) -> backing(level+1)
 *                   | virtio.blk(vm of level) + qemu.iothread(cpus of level+1) -> backing(level+1)
 *   device         := device.null_blk | device.parallel | station.fifo
 *
 * Level 0 is the guest where the job runs; level 1 is the domain or host that serves its disk (dom0, the KVM host),
 * level 2 the one below that (nested virtualisation), each with its own CPUs and its own guest.vm. Each stack is one
 * test, one pvsim process, as a user's scenario would run. Stacks up to two drivers deep: every layer sits on every
 * kind of layer below it at least once, including a blk_mq under xen-blkback and a virtio-blk over a host blk_mq. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace pvsim::test;
using nlohmann::json;

namespace {

struct Stack {
  std::string name;  // readable: "blk_mq/xen.blkfront/xen.blkback/blk_mq/device.null_blk"
  json components;   // everything below the job, levels' CPUs and VMs included
  std::string top;   // the component the job targets
  bool top_needs_vm; // a blk_mq on level 0: the job is a job.fio on vm0
};

std::string lvl(const std::string& what, int level)
{
  return what + std::to_string(level);
}

/** Adds level `level`'s CPUs and VM (idempotent). */
void add_level(json& c, int level)
{
  c[lvl("cpus", level)] = {{"type", "cpu.host"}, {"cores", 4}};
  c[lvl("vm", level)]   = {{"type", "guest.vm"}, {"vcpus", 4}, {"pcpus", lvl("cpus", level)}};
}

json device(const std::string& type)
{
  if (type == "device.null_blk")
    return {{"type", type}, {"completion_latency", "10us"}, {"hw_queue_depth", 64}, {"submit_queues", 2}};
  if (type == "device.parallel")
    return {{"type", type}, {"channels", 8}, {"read_service", {{"dist", "exponential"}, {"mean", "50us"}}}};
  return {{"type", type}, {"servers", 2}, {"service", {{"dist", "exponential"}, {"mean", "20us"}}}};
}

std::vector<Stack> backings(int level, int drivers_left);

/** Drivers on `level` (below a blk_mq of that level), each with what serves it. */
std::vector<Stack> drivers(int level, int drivers_left)
{
  std::vector<Stack> out;
  std::string p = "l"; // built in steps: GCC 12 warns falsely on "l" + std::to_string() (-Wrestrict, PR 105329)
  p += std::to_string(level) + "_";
  {
    Stack s{"device.null_blk", json::object(), p + "nullb", false};
    s.components[s.top] = device("device.null_blk");
    out.push_back(s);
  }
  if (drivers_left == 0)
    return out;
  for (const Stack& below : backings(level + 1, drivers_left - 1)) {
    Stack xen{"xen.blkfront/xen.blkback/" + below.name, below.components, p + "xvda", false};
    add_level(xen.components, level);
    add_level(xen.components, level + 1);
    xen.components[p + "xvda"] = {
        {"type", "xen.blkfront"}, {"vm", lvl("vm", level)}, {"backend", p + "vbd"}, {"max_queues", 2}};
    xen.components[p + "vbd"] = {{"type", "xen.blkback"}, {"cpus", lvl("cpus", level + 1)}, {"target", below.top}};
    out.push_back(xen);

    Stack vio{"virtio.blk/" + below.name, below.components, p + "vda", false};
    add_level(vio.components, level);
    add_level(vio.components, level + 1);
    vio.components[p + "iot"] = {{"type", "qemu.iothread"}, {"cpus", lvl("cpus", level + 1)}, {"aio", "io_uring"}};
    vio.components[p + "vda"] = {{"type", "virtio.blk"},
                                 {"vm", lvl("vm", level)},
                                 {"target", below.top},
                                 {"num_queues", 2},
                                 {"iothread", p + "iot"}};
    out.push_back(vio);
  }
  return out;
}

/** What a driver or a job on `level` can have below it: a device, or that level's blk_mq over a driver. */
std::vector<Stack> backings(int level, int drivers_left)
{
  std::vector<Stack> out;
  std::string p = "l"; // built in steps: GCC 12 warns falsely on "l" + std::to_string() (-Wrestrict, PR 105329)
  p += std::to_string(level) + "_";
  for (const char* type : {"device.null_blk", "device.parallel", "station.fifo"}) {
    Stack s{type, json::object(), p + "dev", false};
    s.components[s.top] = device(type);
    out.push_back(s);
  }
  for (const Stack& d : drivers(level, drivers_left)) {
    Stack s{"blk_mq/" + d.name, d.components, p + "blkmq", true};
    add_level(s.components, level);
    s.components[p + "blkmq"] = {{"type", "blk_mq"}, {"vm", lvl("vm", level)}, {"target", d.top}};
    out.push_back(s);
  }
  return out;
}

std::vector<Stack> all_stacks()
{
  return backings(0, 2);
}

json scenario_of(const Stack& s)
{
  json c = s.components;
  if (s.top_needs_vm)
    c["job"] = {{"type", "job.fio"}, {"vm", "vm0"},  {"numjobs", 2},   {"iodepth", 16},
                {"rw", "randread"},  {"bs", "4KiB"}, {"target", s.top}};
  else
    c["job"] = {{"type", "source.closed"}, {"iodepth", 16}, {"rw", "randread"}, {"bs", "4KiB"}, {"target", s.top}};
  return {{"name", "stack"}, {"seed", 1}, {"duration", "6ms"}, {"warmup", "1ms"}, {"components", c}};
}

class GeneratedStack : public ::testing::TestWithParam<int> {};

} // namespace

TEST(GeneratedStacks, CoverEveryLayerOnEveryKindOfLayerBelowIt)
{
  auto stacks = all_stacks();
  auto has    = [&](const std::string& path) {
    for (const auto& s : stacks)
      if (s.name.find(path) != std::string::npos)
        return true;
    return false;
  };
  EXPECT_TRUE(has("xen.blkback/blk_mq/device.null_blk")) << "dom0's blk_mq under xen-blkback (issue 12, bug 1)";
  EXPECT_TRUE(has("virtio.blk/blk_mq/")) << "virtio-blk over the host's blk_mq";
  EXPECT_TRUE(has("xen.blkback/blk_mq/virtio.blk/")) << "Xen on a KVM host (nested)";
  EXPECT_TRUE(has("virtio.blk/blk_mq/xen.blkfront/")) << "KVM in a Xen guest (nested)";
  EXPECT_EQ(stacks.size(), 28u);
}

TEST_P(GeneratedStack, RunsWithEveryRequestAccountedFor)
{
  Stack s = all_stacks().at(static_cast<std::size_t>(GetParam()));
  std::printf("[stack] job/%s\n", s.name.c_str());
  TempDir dir;
  std::string file = dir.write("stack.json", scenario_of(s).dump(2));
  auto check       = run_pvsim("check " + file);
  ASSERT_EQ(check.exit_code, 0) << s.name << "\n" << check.output;
  auto run = run_pvsim("run -q " + file + " -o " + dir.file("o"));
  ASSERT_EQ(run.exit_code, 0) << s.name << "\n" << run.output;
  json res = json::parse(read_file(dir.file("o/results.json")));
  EXPECT_TRUE(res["conservation"]["ok"].get<bool>()) << res["conservation"].dump(2);
  EXPECT_GT(res["jobs"]["job"]["requests"].get<long long>(), 0) << "requests must complete through every layer";
}

INSTANTIATE_TEST_SUITE_P(Stacks, GeneratedStack, ::testing::Range(0, 28), [](const ::testing::TestParamInfo<int>& i) {
  std::string n = "job/" + all_stacks().at(static_cast<std::size_t>(i.param)).name;
  for (char& ch : n)
    if (not std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  return std::to_string(i.param) + "_" + n;
});

TEST(Dom0BlkMqUnderBlkback, RunsWithEveryRequestAccountedFor)
{
  // Issue 12, bug 1: scenarios/xen-blk-mq.json with dom0's own blk_mq between xen-blkback and null_blk aborted
  // (every layer kept its ring index in the one r->queue field, and dom0's blk_mq overwrote blkback's).
  TempDir dir;
  auto run = run_pvsim("run -q " + source_dir() + "/tests/data/stacks/xen-blk-mq-dom0-blk-mq.json -o " + dir.file("o"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  json res = json::parse(read_file(dir.file("o/results.json")));
  EXPECT_TRUE(res["conservation"]["ok"].get<bool>()) << res["conservation"].dump(2);
  EXPECT_GT(res["components"]["dom0_blkmq"]["hw_queues"][0]["dispatched"].get<long long>(), 0);
}
