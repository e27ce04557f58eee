/* Test helpers for firecracker.vmm: the Firecracker stack as the issue-14 traces show it (one virtio.blk virtqueue of
 * 256 entries without indirect descriptors, served by a firecracker.vmm on its own core), written as a scenario and
 * run through `pvsim run` (each test may compare several runs: one simulation per process). */
#pragma once

#include "sim/scenario.hpp"
#include "tests/support/cli_support.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace pvsim::fctest {

/** One guest (2 vCPUs on 2 cores), one fio job, blk_mq, virtio.blk `vda` served by firecracker.vmm `fc` (on the
 * 1-core cpu.host `vmm_cpus`), backing device `disk` (null_blk, 10 us). The json members are merged into the
 * components (a member with a "type" replaces the component). */
struct FcStack {
  int iodepth     = 1;
  double duration = 0.3;
  double warmup   = 0.05;
  json fc         = json::object();
  json vda        = json::object();
  json disk       = json::object();
  json fio        = json::object();
};

inline void merge(json& component, const json& with)
{
  if (with.contains("type"))
    component = with;
  else
    component.update(with);
}

inline json scenario(const FcStack& s)
{
  json c = {
      {"host", {{"type", "cpu.host"}, {"cores", 2}}},
      {"vmm_cpus", {{"type", "cpu.host"}, {"cores", 1}}},
      {"guest", {{"type", "guest.vm"}, {"vcpus", 2}, {"pcpus", "host"}}},
      {"fio", {{"type", "job.fio"}, {"vm", "guest"}, {"target", "blkmq"}, {"iodepth", s.iodepth}, {"rw", "randread"}}},
      {"blkmq", {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "vda"}}},
      {"vda",
       {{"type", "virtio.blk"},
        {"vm", "guest"},
        {"target", "disk"},
        {"vmm", "fc"},
        {"num_queues", 1},
        {"queue_size", 256},
        {"indirect_desc", false}}},
      {"fc", {{"type", "firecracker.vmm"}, {"cpus", "vmm_cpus"}}},
      {"disk", {{"type", "device.null_blk"}, {"completion_latency", "10us"}, {"hw_queue_depth", 4096}}}};
  merge(c["fc"], s.fc);
  merge(c["vda"], s.vda);
  merge(c["disk"], s.disk);
  merge(c["fio"], s.fio);
  return {{"name", "firecracker"}, {"seed", 1}, {"duration_s", s.duration}, {"warmup_s", s.warmup}, {"components", c}};
}

/** Two drives, vda and vdb, each with its own fio job (iodepth, on vCPU 0 and 1) and interrupt vCPU (2 and 3) of a
 * 4-vCPU guest on 4 cores: served by one firecracker.vmm `fc` (shared) or by `fc_a` and `fc_b`, each on its own
 * 1-core cpu.host. `fc` is merged into every VMM; the backing devices are disk_a and disk_b (null_blk, 10 us)
 * unless given. */
inline json two_drives(bool shared, int iodepth, const json& fc, const json& disk_a = json(),
                       const json& disk_b = json(), double duration = 0.3)
{
  json c                        = {{"host", {{"type", "cpu.host"}, {"cores", 4}}},
                                   {"guest", {{"type", "guest.vm"}, {"vcpus", 4}, {"pcpus", "host"}}}};
  std::vector<std::string> vmms = shared ? std::vector<std::string>{"fc"} : std::vector<std::string>{"fc_a", "fc_b"};
  for (const auto& v : vmms) {
    c[v + "_cpus"] = {{"type", "cpu.host"}, {"cores", 1}};
    c[v]           = {{"type", "firecracker.vmm"}, {"cpus", v + "_cpus"}};
    c[v].update(fc);
  }
  for (int i = 0; i < 2; ++i) {
    std::string x   = i == 0 ? "a" : "b";
    c["fio_" + x]   = {{"type", "job.fio"},  {"vm", "guest"},    {"target", "blkmq_" + x},
                       {"iodepth", iodepth}, {"rw", "randread"}, {"cpus_allowed", std::to_string(i)}};
    c["blkmq_" + x] = {{"type", "blk_mq"}, {"vm", "guest"}, {"target", "vd" + x}};
    c["vd" + x]     = {
            {"type", "virtio.blk"}, {"vm", "guest"},     {"target", "disk_" + x},  {"vmm", shared ? "fc" : "fc_" + x},
            {"num_queues", 1},      {"queue_size", 256}, {"indirect_desc", false}, {"irq_vcpus", json::array({2 + i})}};
    const json& disk = i == 0 ? disk_a : disk_b;
    c["disk_" + x]   = disk.is_object()
                           ? disk
                           : json{{"type", "device.null_blk"}, {"completion_latency", "10us"}, {"hw_queue_depth", 4096}};
  }
  return {{"name", "firecracker-two"}, {"seed", 1}, {"duration_s", duration}, {"warmup_s", 0.05}, {"components", c}};
}

/** A device of `channels` channels serving every read in exactly `service`. */
inline json parallel_device(int channels, const std::string& service)
{
  return {{"type", "device.parallel"}, {"channels", channels}, {"read_service", service}};
}

/** `pvsim run` of `scenario` (written to `name`.json in `dir`, results in `name`/); expects exit 0 and returns
 * results.json. */
inline json run(const test::TempDir& dir, const json& scenario, const std::string& name = "run")
{
  auto file = dir.write(name + ".json", scenario.dump());
  auto r    = test::run_pvsim("run -q " + file + " -o " + dir.file(name));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code != 0)
    return json::object();
  return json::parse(test::read_file(dir.file(name + "/results.json")));
}

inline json run(const FcStack& s, const std::string& name = "run")
{
  test::TempDir dir;
  return run(dir, scenario(s), name);
}

/** The first drive of the VMM `vmm` in `results`, and the first virtqueue of the virtio.blk `disk`. */
inline const json& drive(const json& results, const std::string& vmm = "fc", int d = 0)
{
  return results["components"][vmm]["drives"][static_cast<std::size_t>(d)];
}
inline const json& virtqueue(const json& results, const std::string& disk = "vda")
{
  return results["components"][disk]["virtqueues"][0];
}

/** The passes of a requests_per_pass histogram ({"requests": passes}) that popped at least one request, and the
 * largest pass. */
inline double nonempty_passes(const json& histogram)
{
  double n = 0;
  for (const auto& [k, v] : histogram.items())
    if (std::stoll(k) > 0)
      n += v.get<double>();
  return n;
}
inline long long largest_pass(const json& histogram)
{
  long long m = 0;
  for (const auto& [k, v] : histogram.items())
    m = std::max(m, std::stoll(k));
  return m;
}

} // namespace pvsim::fctest
