/* pvsim: a bundle's structure against pvsim's models (see bundle_structure.hpp). */
#include "analysis/calibration/bundle_structure.hpp"

#include "analysis/readers/proc_interrupts.hpp"
#include "analysis/xen/xen_tools.hpp"
#include "models/linux/blk_mq_map.hpp"
#include "models/xen/blk/blkif_negotiation.hpp"
#include "models/xen/evtchn_affinity.hpp"
#include "models/xen/net/netif_negotiation.hpp"
#include "models/xen/xenstore.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <set>

namespace pvsim::bundle {

namespace {

bool is_xen_device(const Bundle& b, const Device& d)
{
  return not d.xen_nodename.empty() or b.role.rfind("xen", 0) == 0 or d.name.rfind("xvd", 0) == 0;
}

/** The interrupts files that frame the bundle's runs: the session's, else the first run's before and the last
 * run's after. */
std::pair<std::string, std::string> interrupt_files(const Bundle& b)
{
  if (not b.interrupts_after.empty())
    return {b.interrupts_before, b.interrupts_after};
  if (not b.runs.empty() and not b.runs.back().interrupts_after.empty())
    return {b.runs.front().interrupts_before, b.runs.back().interrupts_after};
  if (not b.net_runs.empty() and not b.net_runs.back().interrupts_after.empty())
    return {b.net_runs.front().interrupts_before, b.net_runs.back().interrupts_after};
  return {"", ""};
}

std::vector<readers::QueueIrq> device_irqs(const Bundle& b, const std::string& kind, const std::string& name,
                                           std::vector<std::string>* notes)
{
  auto [before_file, after_file] = interrupt_files(b);
  if (after_file.empty())
    return {};
  try {
    auto after = readers::read_proc_interrupts(after_file);
    std::optional<readers::ProcInterrupts> before;
    if (not before_file.empty())
      before = readers::read_proc_interrupts(before_file);
    bool ambiguous = false;
    auto irqs      = readers::queue_irqs(kind, after, before ? &*before : nullptr, name, &ambiguous);
    if (ambiguous and notes and not irqs.empty()) {
      std::string n = "several " + kind + " devices in " + after_file + ": the one that took the most interrupts (" +
                      irqs.front().action + "...) was taken for " + (name.empty() ? "the device" : name);
      if (std::find(notes->begin(), notes->end(), n) == notes->end())
        notes->push_back(n);
    }
    return irqs;
  } catch (const InputError& e) {
    if (notes)
      notes->push_back(std::string("interrupts not read: ") + e.what());
    return {};
  }
}

/** pvsim's CPU -> hardware queue map for the guest: blk-mq's default (group_cpus_evenly), as mq/N/cpu_list. */
std::vector<std::vector<int>> model_queue_cpus(int vcpus, int queues)
{
  auto policy = make_queue_map_policy("default");
  return cpus_of_queue(policy->map(CpuTopology::flat(vcpus), queues), queues);
}

} // namespace

std::vector<int> observed_irq_vcpus(const Bundle& b, const Device& d, std::vector<std::string>* notes)
{
  std::string kind = is_xen_device(b, d) ? "xen-blkfront" : "virtio-blk";
  auto irqs        = device_irqs(b, kind, is_xen_device(b, d) ? d.name : "", notes);
  if (irqs.size() != static_cast<std::size_t>(d.hw_queues))
    return {};
  std::vector<int> out;
  for (const auto& q : irqs) {
    if (q.bound_cpu < 0 or q.bound_cpu >= b.vcpus)
      return {};
    out.push_back(q.bound_cpu);
  }
  return out;
}

json check_structure(const Bundle& b)
{
  json devices = json::array();
  for (const auto& d : b.devices) {
    json queues = json::array();
    for (const auto& q : d.queues)
      queues.push_back({{"index", q.index}, {"cpu_list", q.cpu_list}, {"nr_tags", q.nr_tags}});
    json dev = {{"name", d.name}, {"hw_queues", d.hw_queues}, {"queues", queues}, {"scheduler", d.scheduler}};
    if (d.nr_requests)
      dev["nr_requests"] = *d.nr_requests;
    devices.push_back(dev);
  }
  json out     = {{"manifest", b.manifest_file}, {"role", b.role},          {"vcpus", b.vcpus},
                  {"devices", devices},          {"checks", json::array()}, {"mismatches", 0}};
  json notes   = json::array();
  int mismatch = 0;
  auto add     = [&](const std::string& device, const std::string& check, const json& expected, const json& observed) {
    bool ok = expected == observed;
    mismatch += ok ? 0 : 1;
    out["checks"].push_back(
            {{"device", device}, {"check", check}, {"expected", expected}, {"observed", observed}, {"ok", ok}});
  };
  std::vector<std::string> note_list;

  // The XenStore dump, when there is one.
  std::optional<json> xs;
  if (not b.xenstore_file.empty()) {
    try {
      xs = from_xenstore(b.xenstore_file, std::nullopt);
    } catch (const InputError& e) {
      note_list.push_back(std::string("the XenStore dump could not be read, its checks are skipped: ") + e.what());
    }
  } else if (b.role.rfind("xen", 0) == 0) {
    note_list.push_back("no XenStore dump in the bundle: the negotiation was not checked");
  }
  std::vector<json> vbds, vifs;
  if (xs)
    for (const auto& d : (*xs)["devices"])
      (d.value("kind", "") == "vbd" ? vbds : vifs).push_back(d);

  for (const auto& d : b.devices) {
    bool xen = is_xen_device(b, d);
    if (xs and xen) {
      // The vbd of this device: by its xen nodename (device/vbd/51712), else the only vbd of the dump.
      const json* vbd = nullptr;
      if (not d.xen_nodename.empty()) {
        std::string tail = "/" + d.xen_nodename;
        for (const auto& v : vbds) {
          std::string fe = v.value("frontend", "");
          if (fe.size() >= tail.size() and fe.compare(fe.size() - tail.size(), tail.size(), tail) == 0)
            vbd = &v;
        }
      } else if (vbds.size() == 1) {
        vbd = &vbds.front();
      }
      if (vbd == nullptr) {
        note_list.push_back(d.name + ": no matching vbd in the XenStore dump (" + std::to_string(vbds.size()) +
                            " vbd(s); give the device's xen_nodename)");
      } else {
        add(d.name, "queues: multi-queue-num-queues (XenStore) vs /sys/block/" + d.name + "/mq directories",
            (*vbd)["num_queues"], d.hw_queues);
        for (const auto& q : d.queues)
          add(d.name, "ring slots: 32 x 2^ring-page-order (XenStore) vs mq/" + std::to_string(q.index) + "/nr_tags",
              (*vbd)["ring_slots"], q.nr_tags);
        std::set<long long> ports;
        for (const auto& r : (*vbd)["rings"])
          ports.insert(r.value("event_channel", -1LL));
        add(d.name, "event channels: distinct queue-N/event-channel ports in XenStore, one per queue", d.hw_queues,
            static_cast<int>(ports.size()));
        // pvsim's own handshake with the lab's module parameters (the backend's from XenStore when not given).
        xen::BlkbackConfig back;
        const json& comps = (*xs)["components"];
        for (auto& [name, c] : comps.items())
          if (c.value("type", "") == "xen.blkback") {
            if (c.contains("max_queues"))
              back.max_queues = c["max_queues"].get<unsigned>();
            else
              back.max_queues = std::nullopt;
            if (c.contains("max_ring_page_order"))
              back.max_ring_page_order = c["max_ring_page_order"].get<unsigned>();
            else
              back.max_ring_page_order = std::nullopt;
            back.feature_persistent = c.value("feature_persistent", true);
          }
        if (b.xen_blk.backend_max_queues > 0)
          back.max_queues = static_cast<unsigned>(b.xen_blk.backend_max_queues);
        if (b.xen_blk.backend_max_ring_page_order >= 0)
          back.max_ring_page_order = static_cast<unsigned>(b.xen_blk.backend_max_ring_page_order);
        if (b.xen_blk.feature_persistent)
          back.feature_persistent = *b.xen_blk.feature_persistent;
        if (b.xen_blk.frontend_max_queues > 0) {
          xen::BlkfrontConfig front;
          front.max_queues  = static_cast<unsigned>(b.xen_blk.frontend_max_queues);
          front.online_cpus = static_cast<unsigned>(b.vcpus);
          if (b.xen_blk.frontend_max_ring_page_order >= 0)
            front.max_ring_page_order = static_cast<unsigned>(b.xen_blk.frontend_max_ring_page_order);
          front.feature_persistent = b.xen_blk.feature_persistent.value_or(true);
          xen::XenStore store;
          xen::BlkifHandshake hs(store, xen::VbdDevice{}, back, front);
          hs.run(0.0, 1e-4);
          if (not hs.errors().empty()) {
            note_list.push_back(d.name + ": pvsim's handshake failed with the lab's settings: " + hs.errors().front());
          } else {
            const auto& n = hs.result();
            add(d.name, "pvsim's blkif handshake (lab's module parameters): queues vs XenStore", n.num_queues,
                (*vbd)["num_queues"]);
            add(d.name, "pvsim's blkif handshake: ring-page-order vs XenStore", n.ring_page_order,
                (*vbd)["ring_page_order"]);
            add(d.name, "pvsim's blkif handshake: persistent grants vs XenStore", n.persistent_grants,
                (*vbd)["persistent_grants"]);
          }
        } else {
          note_list.push_back(d.name + ": the frontend's max_queues is not in the manifest (/frontend/max_queues): "
                                       "pvsim's handshake was not compared");
        }
      }
    }
    // The virtio device QEMU was given.
    if (not xen and b.qemu.present and b.qemu.num_queues > 0)
      add(d.name, "queues: pvsim's virtio.blk, min(QEMU num-queues, vCPUs), vs /sys/block/" + d.name + "/mq",
          std::min(b.qemu.num_queues, b.vcpus), d.hw_queues);
    if (d.hw_queues <= 0 or d.hw_queues > b.vcpus)
      continue;
    // CPU -> queue map.
    auto model = model_queue_cpus(b.vcpus, d.hw_queues);
    for (const auto& q : d.queues) {
      if (q.cpu_list.empty() or q.index < 0 or q.index >= d.hw_queues)
        continue;
      auto seen = parse_cpu_list(q.cpu_list);
      add(d.name, "CPU map: pvsim's blk-mq map (group_cpus_evenly) vs mq/" + std::to_string(q.index) + "/cpu_list",
          format_mq_cpu_list(model[static_cast<std::size_t>(q.index)]),
          seen ? json(format_mq_cpu_list(*seen)) : json(q.cpu_list));
    }
    // Interrupts: one per queue, and where it was bound.
    std::string kind = xen ? "xen-blkfront" : "virtio-blk";
    auto irqs        = device_irqs(b, kind, xen ? d.name : "", &note_list);
    if (interrupt_files(b).second.empty()) {
      note_list.push_back(d.name + ": no /proc/interrupts in the bundle: the interrupt binding was not checked");
      continue;
    }
    add(d.name,
        std::string("interrupts: one ") + (xen ? "blkif event channel" : "virtioN-req.Q vector") +
            " per queue in /proc/interrupts",
        d.hw_queues, static_cast<int>(irqs.size()));
    if (irqs.size() != static_cast<std::size_t>(d.hw_queues))
      continue;
    std::vector<int> expected;
    if (xen) {
      xen::EvtchnAffinity balance(b.vcpus, 2);
      for (int q = 0; q < d.hw_queues; ++q)
        expected.push_back(balance.bind());
    } else {
      expected = managed_irq_cpus(model, b.vcpus);
    }
    for (const auto& q : irqs) {
      if (q.interrupts == 0) {
        note_list.push_back(d.name + ": queue " + std::to_string(q.queue) + "'s interrupt (" + q.irq +
                            ") took none during the runs: its binding was not checked");
        continue;
      }
      std::string policy = xen ? "Linux's select_target_cpu" : "managed affinity";
      add(d.name,
          "interrupt vCPU of queue " + std::to_string(q.queue) + ": pvsim (" + policy + ") vs /proc/interrupts (" +
              q.action + ", irq " + q.irq + ")",
          expected[static_cast<std::size_t>(q.queue)], q.bound_cpu);
      if (q.bound_share < 0.99)
        note_list.push_back(d.name + ": queue " + std::to_string(q.queue) + "'s interrupts were not all on one vCPU (" +
                            std::to_string(static_cast<int>(q.bound_share * 100)) + " % on vCPU " +
                            std::to_string(q.bound_cpu) + ")");
    }
  }

  // Network lab: the vif's negotiated queues and its event channels.
  for (const auto& v : b.vifs) {
    const json* vif = nullptr;
    for (const auto& x : vifs)
      if (v.xen_nodename.empty() or x.value("frontend", "").find("/" + v.xen_nodename) != std::string::npos)
        vif = &x;
    if (vif) {
      add(v.name, "vif queues: multi-queue-num-queues (XenStore) vs the manifest's hw_queues", (*vif)["num_queues"],
          v.hw_queues);
      if (v.frontend_max_queues > 0) {
        xen::NetbackConfig back;
        if (v.backend_max_queues > 0)
          back.max_queues = static_cast<unsigned>(v.backend_max_queues);
        xen::NetfrontConfig front;
        front.max_queues  = static_cast<unsigned>(v.frontend_max_queues);
        front.online_cpus = static_cast<unsigned>(b.vcpus);
        xen::XenStore store;
        xen::NetifHandshake hs(store, xen::VifDevice{}, back, front);
        hs.run(0.0, 1e-4);
        if (hs.errors().empty())
          add(v.name, "pvsim's netif handshake (lab's module parameters): queues vs XenStore", hs.result().num_queues,
              (*vif)["num_queues"]);
      }
    } else if (xs) {
      note_list.push_back(v.name + ": no matching vif in the XenStore dump");
    }
    // netfront names its channels after the vif's handle: device/vif/0 -> "vif0-q0-tx".
    std::string irq_name = "vif";
    auto slash           = v.xen_nodename.find_last_of('/');
    irq_name += slash == std::string::npos ? std::string("0") : v.xen_nodename.substr(slash + 1);
    auto irqs = device_irqs(b, "xen-netfront", irq_name, &note_list);
    if (not irqs.empty()) {
      bool split = irqs.front().direction != "txrx";
      add(v.name,
          std::string("interrupts: ") + (split ? "tx and rx event channels" : "one event channel") +
              " per queue in /proc/interrupts",
          v.hw_queues * (split ? 2 : 1), static_cast<int>(irqs.size()));
    } else {
      note_list.push_back(v.name + ": no netfront interrupts in the bundle: its event channels were not checked");
    }
  }

  if (xs)
    for (const auto& n : (*xs)["notes"]) {
      std::string t = n.get<std::string>();
      if (t.rfind("fill in", 0) != 0 and t.find("not emitted in the fragment") == std::string::npos)
        note_list.push_back("xenstore: " + t);
    }
  for (const auto& n : note_list)
    notes.push_back(n);
  out["mismatches"] = mismatch;
  out["notes"]      = notes;
  return out;
}

} // namespace pvsim::bundle
