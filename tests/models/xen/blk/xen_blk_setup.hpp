/* A small Xen block stack for tests: a domU's fio jobs through blk-mq, xen.blkfront and xen.blkback to null_blk. */
#pragma once

#include "tests/support/cli_support.hpp"

namespace pvsim::test {

struct XenSetup {
  int vcpus = 4, dom0_cores = 2, numjobs = 1, iodepth = 1;
  json front = json::object(), back = json::object();
  json host = json::object(), domU = json::object(), fio = json::object(); // extra keys of those components
};

inline json components(const XenSetup& s)
{
  json front = {{"type", "xen.blkfront"}, {"vm", "domU"}, {"backend", "vbd"}};
  front.update(s.front);
  json back = {{"type", "xen.blkback"}, {"cpus", "dom0"}, {"target", "nullb0"}};
  back.update(s.back);
  json host = {{"type", "cpu.host"}, {"cores", s.vcpus}};
  host.update(s.host);
  json dom_u = {{"type", "guest.vm"}, {"vcpus", s.vcpus}, {"pcpus", "host"}};
  dom_u.update(s.domU);
  json fio = {{"type", "job.fio"}, {"vm", "domU"}, {"numjobs", s.numjobs}, {"iodepth", s.iodepth}, {"target", "blkmq"}};
  fio.update(s.fio);
  return {{"host", host},
          {"dom0", {{"type", "cpu.host"}, {"cores", s.dom0_cores}}},
          {"domU", dom_u},
          {"fio", fio},
          {"blkmq", {{"type", "blk_mq"}, {"vm", "domU"}, {"target", "xvda"}}},
          {"xvda", front},
          {"vbd", back},
          {"nullb0", {{"type", "device.null_blk"}, {"completion_latency", "10us"}, {"hw_queue_depth", 1024}}}};
}

inline json run(const XenSetup& s, double duration = 0.02)
{
  json doc = {
      {"name", "xen"}, {"seed", 3}, {"duration_s", duration}, {"warmup_s", 0.002}, {"components", components(s)}};
  Simulation sim(scenario_from_json(doc, "xen"));
  json r = sim.run();
  require_conservation(r);
  return r;
}

} // namespace pvsim::test
