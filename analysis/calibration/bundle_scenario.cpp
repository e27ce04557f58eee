/* pvsim: scenarios of bundle runs (see bundle_scenario.hpp). */
#include "analysis/calibration/bundle_scenario.hpp"

#include "analysis/calibration/bundle_structure.hpp"

#include "models/host/kernel_version.hpp"

#include <algorithm>
#include <cstdio>
#include <regex>

namespace pvsim::bundle {

namespace {

void note_once(std::vector<std::string>& notes, const std::string& n)
{
  if (std::find(notes.begin(), notes.end(), n) == notes.end())
    notes.push_back(n);
}

int log2_exact(int v)
{
  int k = 0;
  while ((1 << k) < v)
    ++k;
  return (1 << k) == v ? k : -1;
}

/** Cores shared by every CPU of the guest (and dom0, and QEMU's threads): the machine's physical cores when the
 * bundle says so, else `fallback`. */
int shared_cores(const Bundle& b, int fallback, std::vector<std::string>& notes)
{
  if (b.host.physical_cores > 0) {
    note_once(notes,
              "the guest's vCPUs" + std::string(is_xen_bundle(b) ? ", dom0's ring kthreads" : "") +
                  " and QEMU's event loop share the host's " + std::to_string(b.host.physical_cores) +
                  " physical cores" +
                  (b.host.accel == "tcg" ? " (software emulation: calibrated CPU costs are emulated time)" : ""));
    return b.host.physical_cores;
  }
  return fallback;
}

} // namespace

std::optional<std::string> guest_kernel_of(const Bundle& b)
{
  std::smatch m;
  if (not std::regex_search(b.kernel, m, std::regex(R"(^(\d+)\.(\d+))")))
    return std::nullopt;
  std::string version = m[1].str() + "." + m[2].str();
  const auto& known   = supported_kernels();
  if (std::find(known.begin(), known.end(), version) == known.end())
    return std::nullopt;
  return version;
}

namespace {
/** The recorded guest's kernel on every guest.vm, so that the defaults that follow it (blk-mq's map, event-channel
 * placement) are the recording's. */
void set_guest_kernel(json& comps, const Bundle& b, std::vector<std::string>& notes)
{
  auto version = guest_kernel_of(b);
  if (not version) {
    if (not b.kernel.empty())
      note_once(notes, "the recorded kernel " + b.kernel + " is not one pvsim knows: its defaults follow 6.18");
    return;
  }
  for (auto& [name, c] : comps.items())
    if (c.value("type", std::string()) == "guest.vm")
      c["kernel"] = *version;
}
} // namespace

bool is_xen_bundle(const Bundle& b)
{
  if (b.role.rfind("xen", 0) == 0)
    return true;
  for (const auto& d : b.devices)
    if (not d.xen_nodename.empty())
      return true;
  return false;
}

json scenario_for_bundle_run(const json& device, const Bundle& b, const Run& run, const json& guest,
                             const calibration::RunFacts& facts, double duration_s, double warmup_s, std::uint64_t seed,
                             std::vector<std::string>& notes)
{
  json run_device     = device;
  run_device["guest"] = guest;
  json doc            = calibration::scenario_for_run(run_device, facts, duration_s, warmup_s, seed);
  json& comps         = doc["components"];
  const Device* dev   = b.device_of(run);
  std::vector<std::string> irq_notes;
  std::vector<int> irq_vcpus;
  if (dev) {
    irq_vcpus = observed_irq_vcpus(b, *dev, &irq_notes);
    for (const auto& n : irq_notes)
      note_once(notes, n);
  }
  if (not is_xen_bundle(b)) {
    if (b.host.physical_cores > 0) {
      comps["host"]["cores"] = shared_cores(b, guest["vcpus"].get<int>(), notes);
      comps["iot"]["cpus"]   = "host";
      comps.erase("iothread_cpus");
    }
    if (not b.qemu.aio.empty())
      comps["iot"]["aio"] = b.qemu.aio;
    if (b.qemu.iothreads > 0) // a real IOThread polls (poll-max-ns 32768 by default); the main loop does not
      comps["iot"].erase("poll_max");
    if (b.qemu.present) {
      // QEMU >= 5.0: queue-size 256 with indirect descriptors, so blk-mq's tags are the virtqueue's size.
      comps["vda"]["indirect_desc"] = true;
      comps["vda"]["queue_size"]    = guest["tags"];
    }
    if (not irq_vcpus.empty())
      comps["vda"]["irq_vcpus"] = irq_vcpus;
    set_guest_kernel(comps, b, notes);
    return doc;
  }

  // Xen: replace the virtio path by blkfront/blkback, keeping the calibrated job, device and costs.
  json fio        = comps["fio"];
  json disk       = comps["disk"];
  const json& vda = comps["vda"];
  fio["vm"]       = "domU";
  int vcpus       = guest["vcpus"].get<int>();
  int dom0_vcpus  = 0;
  if (const Guest* d0 = find_guest(b, "xen-dom0"))
    dom0_vcpus = d0->vcpus;
  int cores  = shared_cores(b, vcpus + std::max(dom0_vcpus, 1), notes);
  int queues = guest["hw_queues"].get<int>();
  int tags   = guest["tags"].get<int>();
  int order  = log2_exact(std::max(1, tags / 32));
  json front = {{"type", "xen.blkfront"},
                {"vm", "domU"},
                {"backend", "vbd"},
                {"max_queues", queues},
                {"max_ring_page_order", std::max(0, order)}};
  if (order < 0 or tags % 32 != 0)
    note_once(notes, "nr_tags " + std::to_string(tags) + " is not a blkif ring size (32 x 2^order): ring order 0 used");
  if (b.xen_blk.feature_persistent)
    front["feature_persistent"] = *b.xen_blk.feature_persistent;
  if (vda.contains("irq_cpu"))
    front["irq_cpu"] = vda["irq_cpu"];
  if (vda.contains("kick_cpu"))
    front["notify_cpu"] = vda["kick_cpu"];
  if (not irq_vcpus.empty())
    front["irq_vcpus"] = irq_vcpus;
  json back = {{"type", "xen.blkback"},
               {"cpus", "host"},
               {"target", "disk"},
               {"max_queues", std::max(queues, b.xen_blk.backend_max_queues)},
               {"max_ring_page_order", std::max({0, order, b.xen_blk.backend_max_ring_page_order})}};
  if (b.xen_blk.feature_persistent)
    back["feature_persistent"] = *b.xen_blk.feature_persistent;
  if (vda.contains("request_cpu")) // the thread that serves the ring: blkback's kthread
    back["request_cpu"] = vda["request_cpu"];
  note_once(notes, "Xen stack simulated: xen.blkfront/xen.blkback with the guest's " + std::to_string(queues) +
                       " queue(s) of " + std::to_string(tags) +
                       " slots; the calibrated device stands for dom0's backing disk (its virtio path and QEMU "
                       "included), the calibrated notification cost for the notify hypercall, the virtqueue thread's "
                       "cost per request (when the runs "
                       "show a thread-bound saturation) for blkback's ring kthread");
  json host = {{"type", "cpu.host"}, {"cores", cores}};
  for (const char* key : {"preempt_rate", "preempt_duration"}) // the calibrated preemption of the host's threads
    if (comps["host"].contains(key))
      host[key] = comps["host"][key];
  // blk-mq in the domU, with the calibrated stack's tag sleep costs (folded into the fitted CPU: calibration.cpp).
  json mq = {{"type", "blk_mq"}, {"vm", "domU"}, {"target", "xvda"}};
  for (const char* key : {"tag_sleep_cpu", "tag_wake_cpu"})
    if (comps.contains("blkmq") and comps["blkmq"].contains(key))
      mq[key] = comps["blkmq"][key];
  json domu          = comps["guest"]; // the guest as scenario_for_run made it (its vCPUs, the run's background load)
  comps = {{"host", host}, {"domU", domu}, {"fio", fio}, {"blkmq", mq}, {"xvda", front}, {"vbd", back}, {"disk", disk}};
  doc["description"] = "pvsim validate: the calibrated Xen blkfront/blkback stack running " + facts.rw + " " +
                       facts.engine + " iodepth " + std::to_string(facts.iodepth) + " numjobs " +
                       std::to_string(facts.numjobs);
  set_guest_kernel(comps, b, notes);
  return doc;
}

} // namespace pvsim::bundle
