/* pvsim: capture bundles (see bundle.hpp). */
#include "analysis/calibration/bundle.hpp"

#include "analysis/readers/proc_interrupts.hpp"
#include "analysis/xen/xen_tools.hpp"
#include "models/linux/blk_mq_map.hpp"
#include "models/xen/blk/blkif_negotiation.hpp"
#include "models/xen/evtchn_affinity.hpp"
#include "models/xen/net/netif_negotiation.hpp"
#include "models/xen/xenstore.hpp"
#include "sim/input_error.hpp"
#include "sim/scenario.hpp"

#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace pvsim::bundle {

namespace {

JsonNode field(const JsonNode& parent, const std::string& key)
{
  if (not parent.value().contains(key))
    throw InputError(parent.file(), parent.pointer() + "/" + pointer_token(key), "missing (required)");
  return parent.child(key);
}

std::string string_of(const JsonNode& n)
{
  if (not n.value().is_string())
    n.fail("expected a string, got " + JsonNode::describe(n.value()));
  return n.value().get<std::string>();
}

int int_of(const JsonNode& n, int min)
{
  if (not n.value().is_number_integer() or n.value().get<long long>() < min or n.value().get<long long>() > 1 << 30)
    n.fail("expected an integer >= " + std::to_string(min) + ", got " + JsonNode::describe(n.value()));
  return n.value().get<int>();
}

std::string existing_file(const JsonNode& n, const std::string& dir)
{
  std::string rel = string_of(n);
  fs::path p      = fs::path(rel).is_absolute() ? fs::path(rel) : fs::path(dir) / rel;
  if (not fs::is_regular_file(p))
    n.fail("the file \"" + rel + "\" does not exist in the bundle (" + p.string() + ")");
  return p.string();
}

bool bool_of(const JsonNode& n)
{
  if (not n.value().is_boolean())
    n.fail("expected true or false, got " + JsonNode::describe(n.value()));
  return n.value().get<bool>();
}

double number_of(const JsonNode& n, double min)
{
  if (not n.value().is_number() or n.value().get<double>() < min)
    n.fail("expected a number >= " + std::to_string(min) + ", got " + JsonNode::describe(n.value()));
  return n.value().get<double>();
}

bool has(const JsonNode& n, const std::string& key)
{
  return n.value().contains(key) and not n.value()[key].is_null();
}

/** The optional object `key` of `parent` (an error when present and not an object). */
std::optional<JsonNode> object_at(const JsonNode& parent, const std::string& key)
{
  if (not has(parent, key))
    return std::nullopt;
  JsonNode n = parent.child(key);
  n.expect_object();
  return n;
}

/** A run's optional /proc/interrupts files around it (interrupts_before, interrupts_after). */
void read_interrupt_files(const JsonNode& run, const std::string& dir, std::string& before, std::string& after)
{
  if (has(run, "interrupts_before"))
    before = existing_file(run.child("interrupts_before"), dir);
  if (has(run, "interrupts_after"))
    after = existing_file(run.child("interrupts_after"), dir);
}

} // namespace

const Guest* find_guest(const Bundle& b, const std::string& role)
{
  for (const auto& g : b.guests)
    if (g.role == role or g.name == role)
      return &g;
  return nullptr;
}

const Device* Bundle::device(const std::string& name) const
{
  for (const auto& d : devices)
    if (d.name == name)
      return &d;
  return nullptr;
}

const Device* Bundle::device_of(const Run& run) const
{
  if (not run.device.empty())
    return device(run.device);
  return devices.size() == 1 ? &devices.front() : nullptr;
}

Bundle read_bundle(const std::string& dir)
{
  Bundle b;
  b.dir           = dir;
  b.manifest_file = (fs::path(dir) / manifest_name).string();
  if (not fs::is_directory(dir))
    throw InputError(dir, "", "not a directory (expected a bundle written by analysis/capture/capture.sh)");
  if (not fs::is_regular_file(b.manifest_file))
    throw InputError(b.manifest_file, "", "missing: a bundle directory holds a manifest.json");
  b.manifest = read_json_file(b.manifest_file);
  JsonNode root(b.manifest, b.manifest_file, "");
  root.expect_object();
  if (string_of(field(root, "format")) != format)
    root.child("format").fail(std::string("expected \"") + format + "\"");
  JsonNode version = field(root, "version");
  if (int_of(version, 0) != format_version)
    version.fail("unknown format version " + version.value().dump() + " (this pvsim reads version " +
                 std::to_string(format_version) + ")");
  b.vcpus = int_of(field(root, "vcpus"), 1);
  if (b.manifest.contains("system")) {
    JsonNode sys = root.child("system");
    sys.expect_object();
    if (sys.value().contains("role"))
      b.role = string_of(sys.child("role"));
  }

  JsonNode devices = field(root, "devices");
  devices.expect_array();
  for (std::size_t i = 0; i < devices.value().size(); ++i) {
    JsonNode d = devices.at(i);
    d.expect_object();
    Device dev;
    dev.name        = string_of(field(d, "name"));
    dev.hw_queues   = int_of(field(d, "hw_queues"), 0);
    JsonNode queues = field(d, "queues");
    queues.expect_array();
    for (std::size_t k = 0; k < queues.value().size(); ++k) {
      JsonNode q = queues.at(k);
      q.expect_object();
      Queue queue;
      queue.index   = q.value().contains("index") ? int_of(q.child("index"), 0) : static_cast<int>(k);
      queue.nr_tags = int_of(field(q, "nr_tags"), 1);
      if (q.value().contains("cpu_list"))
        queue.cpu_list = string_of(q.child("cpu_list"));
      dev.queues.push_back(queue);
    }
    if (static_cast<std::size_t>(dev.hw_queues) != dev.queues.size())
      d.child("hw_queues")
          .fail("says " + std::to_string(dev.hw_queues) + " but \"queues\" lists " + std::to_string(dev.queues.size()));
    if (d.value().contains("scheduler") and not d.value()["scheduler"].is_null())
      dev.scheduler = string_of(d.child("scheduler"));
    if (d.value().contains("nr_requests"))
      dev.nr_requests = int_of(d.child("nr_requests"), 1);
    if (d.value().contains("xen_nodename"))
      dev.xen_nodename = string_of(d.child("xen_nodename"));
    if (b.device(dev.name))
      d.child("name").fail("device \"" + dev.name + "\" listed twice");
    b.devices.push_back(dev);
  }

  if (b.manifest.contains("engines")) {
    JsonNode e = root.child("engines");
    e.expect_array("fio ioengine names");
    for (std::size_t i = 0; i < e.value().size(); ++i)
      b.engines.push_back(string_of(e.at(i)));
  }

  // A network lab's bundle holds iperf3 runs instead of fio runs.
  if (has(root, "net_runs")) {
    JsonNode nr = root.child("net_runs");
    nr.expect_array("iperf3 runs");
    for (std::size_t i = 0; i < nr.value().size(); ++i) {
      JsonNode r = nr.at(i);
      r.expect_object();
      NetRun run;
      run.rel  = string_of(field(r, "file"));
      run.file = existing_file(r.child("file"), dir);
      if (has(r, "streams"))
        run.streams = int_of(r.child("streams"), 1);
      if (has(r, "direction"))
        run.direction = string_of(r.child("direction"));
      if (has(r, "duration_s"))
        run.duration_s = number_of(r.child("duration_s"), 0);
      read_interrupt_files(r, dir, run.interrupts_before, run.interrupts_after);
      b.net_runs.push_back(run);
    }
  }
  if (has(root, "vifs")) {
    JsonNode vs = root.child("vifs");
    vs.expect_array("vifs");
    for (std::size_t i = 0; i < vs.value().size(); ++i) {
      JsonNode v = vs.at(i);
      v.expect_object();
      Vif vif;
      vif.name      = string_of(field(v, "name"));
      vif.hw_queues = int_of(field(v, "hw_queues"), 0);
      if (has(v, "xen_nodename"))
        vif.xen_nodename = string_of(v.child("xen_nodename"));
      if (has(v, "frontend_max_queues"))
        vif.frontend_max_queues = int_of(v.child("frontend_max_queues"), 0);
      if (has(v, "backend_max_queues"))
        vif.backend_max_queues = int_of(v.child("backend_max_queues"), 0);
      b.vifs.push_back(vif);
    }
  }

  JsonNode runs = field(root, "fio_runs");
  if (not runs.value().is_array() or (runs.value().empty() and b.net_runs.empty()))
    runs.fail("expected a non-empty array of fio runs (or iperf3 runs under net_runs), got " +
              JsonNode::describe(runs.value()));
  for (std::size_t i = 0; i < runs.value().size(); ++i) {
    JsonNode r = runs.at(i);
    r.expect_object();
    Run run;
    run.rel      = string_of(field(r, "file"));
    run.file     = existing_file(r.child("file"), dir);
    run.ioengine = string_of(field(r, "ioengine"));
    if (r.value().contains("rw"))
      run.rw = string_of(r.child("rw"));
    if (r.value().contains("iodepth"))
      run.iodepth = int_of(r.child("iodepth"), 1);
    if (r.value().contains("numjobs"))
      run.numjobs = int_of(r.child("numjobs"), 1);
    if (r.value().contains("device")) {
      run.device = string_of(r.child("device"));
      if (not b.device(run.device))
        r.child("device").fail("no device \"" + run.device + "\" in /devices");
    }
    read_interrupt_files(r, dir, run.interrupts_before, run.interrupts_after);
    b.runs.push_back(run);
  }

  if (auto irq = object_at(root, "interrupts")) {
    if (has(*irq, "before"))
      b.interrupts_before = existing_file(irq->child("before"), dir);
    if (has(*irq, "after"))
      b.interrupts_after = existing_file(irq->child("after"), dir);
  }
  if (auto host = object_at(root, "host")) {
    if (has(*host, "physical_cores"))
      b.host.physical_cores = int_of(host->child("physical_cores"), 1);
    if (has(*host, "accel")) {
      b.host.accel = string_of(host->child("accel"));
      if (b.host.accel != "tcg" and b.host.accel != "kvm")
        host->child("accel").fail("expected \"tcg\" or \"kvm\", got \"" + b.host.accel + "\"");
    }
    if (has(*host, "machine_cpus"))
      b.host.machine_cpus = int_of(host->child("machine_cpus"), 1);
  }
  if (has(root, "guests")) {
    JsonNode gs = root.child("guests");
    gs.expect_array("guests");
    for (std::size_t i = 0; i < gs.value().size(); ++i) {
      JsonNode g = gs.at(i);
      g.expect_object();
      Guest guest;
      guest.name  = string_of(field(g, "name"));
      guest.role  = has(g, "role") ? string_of(g.child("role")) : "";
      guest.vcpus = int_of(field(g, "vcpus"), 1);
      b.guests.push_back(guest);
    }
  }
  if (auto lab = object_at(root, "lab"))
    if (has(*lab, "variant"))
      b.lab_variant = string_of(lab->child("variant"));
  if (auto back = object_at(root, "backend")) {
    b.xen_blk.present = true;
    if (has(*back, "max_queues"))
      b.xen_blk.backend_max_queues = int_of(back->child("max_queues"), 0);
    if (has(*back, "max_ring_page_order"))
      b.xen_blk.backend_max_ring_page_order = int_of(back->child("max_ring_page_order"), 0);
    if (has(*back, "feature_persistent"))
      b.xen_blk.feature_persistent = bool_of(back->child("feature_persistent"));
  }
  if (auto front = object_at(root, "frontend")) {
    b.xen_blk.present = true;
    if (has(*front, "max_queues"))
      b.xen_blk.frontend_max_queues = int_of(front->child("max_queues"), 1);
    if (has(*front, "max_ring_page_order"))
      b.xen_blk.frontend_max_ring_page_order = int_of(front->child("max_ring_page_order"), 0);
  }
  if (auto q = object_at(root, "qemu")) {
    if (has(*q, "aio")) {
      b.qemu.aio = string_of(q->child("aio"));
      if (b.qemu.aio != "native" and b.qemu.aio != "io_uring" and b.qemu.aio != "threads")
        q->child("aio").fail("expected \"native\", \"io_uring\" or \"threads\", got \"" + b.qemu.aio + "\"");
    }
    if (has(*q, "num_queues"))
      b.qemu.num_queues = int_of(q->child("num_queues"), 1);
    if (has(*q, "iothreads"))
      b.qemu.iothreads = int_of(q->child("iothreads"), 0);
    b.qemu.present = not b.qemu.aio.empty() or b.qemu.num_queues > 0;
  }

  if (b.manifest.contains("xenstore")) {
    JsonNode x = root.child("xenstore");
    x.expect_object();
    b.xenstore_file = existing_file(field(x, "file"), dir);
  }
  return b;
}

json guest_for_run(const Bundle& b, const Run& run, const json& fallback, std::vector<std::string>& notes)
{
  json g            = {{"vcpus", b.vcpus},
                       {"hw_queues", fallback.value("hw_queues", 1)},
                       {"tags", fallback.value("tags", 128)},
                       {"estimated", "from the bundle " + b.manifest_file}};
  const Device* dev = b.device_of(run);
  if (dev == nullptr or dev->queues.empty()) {
    notes.push_back(
        run.rel + ": no blk-mq layout of its device in the bundle: " + std::to_string(g["hw_queues"].get<int>()) +
        " hardware queue(s) and " + std::to_string(g["tags"].get<int>()) + " tags taken from the device file");
    g["estimated"] = "vCPUs from the bundle, queues and tags from the device file";
    return g;
  }
  g["hw_queues"] = dev->hw_queues;
  int tags       = dev->queues.front().nr_tags;
  for (const auto& q : dev->queues)
    if (q.nr_tags != tags) {
      notes.push_back(run.rel + ": the queues of " + dev->name + " differ in nr_tags; the model uses queue " +
                      std::to_string(dev->queues.front().index) + "'s " + std::to_string(tags));
      break;
    }
  g["tags"]   = tags;
  g["device"] = dev->name;
  return g;
}

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
