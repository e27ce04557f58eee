/* pvsim: telling the VMM from a trace's guest description or a bundle (see vmm_detect.hpp). */
#include "analysis/calibration/vmm_detect.hpp"

#include "analysis/calibration/bundle.hpp"
#include "analysis/readers/text_file.hpp"

#include "sim/input_error.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace pvsim::calibration {

namespace {

using readers::GuestBlockDevice;
using readers::GuestFacts;
namespace bit = readers::virtio_bit;

const std::vector<std::string> kvm_vmms = {"firecracker", "qemu", "cloud-hypervisor"};

std::string display(const std::string& vmm)
{
  static const std::map<std::string, std::string> names = {
      {"firecracker", "Firecracker"}, {"qemu", "QEMU"}, {"cloud-hypervisor", "Cloud Hypervisor"}, {"xen", "Xen"}};
  auto it = names.find(vmm);
  return it != names.end() ? it->second : vmm;
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ")
{
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : sep) + s;
  return out;
}

bool contains(const std::string& text, const std::string& part)
{
  return text.find(part) != std::string::npos;
}

/** The evidence collected, once per fact. */
class Evidence {
public:
  void add(const std::string& fact, std::vector<std::string> points_to, const std::string& source, int weight)
  {
    for (const auto& e : list_)
      if (e.fact == fact)
        return;
    list_.push_back({fact, std::move(points_to), source, weight});
  }
  void transport(const std::string& fact, const std::string& transport, const std::string& source, int weight)
  {
    add(fact, {"transport:" + transport}, source, weight);
  }
  void source(const std::string& file)
  {
    if (not file.empty() and std::find(sources_.begin(), sources_.end(), file) == sources_.end())
      sources_.push_back(file);
  }
  std::vector<VmmEvidence> list_;
  std::vector<std::string> sources_;
  std::vector<std::string> patched_; // block features no Firecracker release offers, when the device has them
};

void virtio_device_evidence(const GuestFacts& f, const GuestBlockDevice& d, Evidence& ev)
{
  const std::string src = f.file;
  const std::string dev = d.name.empty() ? "the virtio disk" : d.name;
  int tags              = d.queues.empty() ? 0 : d.queues.front().nr_tags;
  std::optional<bool> indirect;
  if (d.features) {
    const auto& ft = *d.features;
    indirect       = ft.has(bit::indirect_desc);
    if (not *indirect and ft.has(bit::event_idx))
      ev.add(dev + " negotiates EVENT_IDX without INDIRECT_DESC: Firecracker's feature set (QEMU and Cloud "
                   "Hypervisor offer INDIRECT_DESC)",
             {"firecracker"}, src + " (virtio features)", 2);
    if (*indirect)
      ev.add(dev + " negotiates INDIRECT_DESC, which Firecracker never offers", {"qemu", "cloud-hypervisor"},
             src + " (virtio features)", 1);
    if (ft.has(bit::config_wce))
      ev.add(dev + " negotiates CONFIG_WCE, which Firecracker never offers", {"qemu", "cloud-hypervisor"},
             src + " (virtio features)", 1);
    if (ft.has(bit::mq))
      ev.add(dev + " negotiates MQ (several queues), which Firecracker never offers", {"qemu", "cloud-hypervisor"},
             src + " (virtio features)", 1);
    if (ft.has(bit::ring_packed))
      ev.add(dev + " uses the packed ring, which Firecracker does not implement", {"qemu"}, src + " (virtio features)",
             1);
    if (ft.has(bit::flush) and not ft.has(bit::config_wce))
      ev.add(dev + " negotiates FLUSH without CONFIG_WCE" +
                 (d.write_cache.empty() ? std::string() : " (write_cache: " + d.write_cache + ")") +
                 ": Firecracker's cache_type Writeback",
             {"firecracker"}, src + " (virtio features)", 1);
    for (int b :
         {bit::size_max, bit::seg_max, bit::geometry, bit::blk_size, bit::topology, bit::discard, bit::write_zeroes})
      if (ft.has(b))
        ev.patched_.push_back(bit::name(b));
    if (not ev.patched_.empty())
      ev.add(dev + " negotiates " + join(ev.patched_) + ", which no Firecracker release offers (VirtioBlock::new())",
             {"qemu", "cloud-hypervisor"}, src + " (virtio features)", 1);
  } else if (d.max_segments and *d.max_segments > 1) {
    ev.add(dev + " has max_segments " + std::to_string(*d.max_segments) +
               ": the device offered SEG_MAX, which no Firecracker release offers (max_segments would be 1)",
           {"qemu", "cloud-hypervisor"}, src + " (queue attrs)", 1);
    ev.patched_.push_back("SEG_MAX");
  }
  // Queues: Firecracker has one; QEMU >= 5.2 gives one per vCPU by default [M]; Cloud Hypervisor defaults to 1.
  if (d.hw_queues and f.vcpus and *f.vcpus > 1) {
    if (*d.hw_queues == 1)
      ev.add(dev + " has one hardware queue for " + std::to_string(*f.vcpus) +
                 " vCPUs: Firecracker's single queue (or Cloud Hypervisor's default; QEMU >= 5.2 gives one per vCPU)",
             {"firecracker", "cloud-hypervisor"}, src + " (mq)", 1);
    else if (*d.hw_queues == *f.vcpus)
      ev.add(dev + " has one hardware queue per vCPU (" + std::to_string(*d.hw_queues) +
                 "): QEMU's default num-queues since 5.2; Firecracker has one queue",
             {"qemu"}, src + " (mq)", 1);
  }
  // Tags: virtblk_probe() uses the ring's free descriptors, halved without INDIRECT_DESC.
  if (tags == 128) {
    if (indirect == false)
      ev.add(dev + " has nr_tags 128 without INDIRECT_DESC: a 256-entry ring halved by virtblk_probe(), "
                   "Firecracker's queue size",
             {"firecracker"}, src + " (mq)", 2);
    else if (indirect == true)
      ev.add(dev + " has nr_tags 128 with INDIRECT_DESC: a 128-entry ring, Cloud Hypervisor's default queue size",
             {"cloud-hypervisor"}, src + " (mq)", 1);
    else
      ev.add(dev + " has nr_tags 128: a 256-entry ring halved without indirect descriptors (Firecracker) or a "
                   "128-entry ring (Cloud Hypervisor's default)",
             {"firecracker", "cloud-hypervisor"}, src + " (mq)", 1);
  } else if (tags == 256) {
    ev.add(dev + " has nr_tags 256: a 256-entry ring with indirect descriptors (QEMU's default queue-size); "
                 "Firecracker's 256-entry ring without them gives 128",
           {"qemu"}, src + " (mq)", indirect == false ? 1 : 2);
  }
}

void facts_evidence(const GuestFacts& f, Evidence& ev)
{
  const std::string src = f.file;
  ev.source(f.file);
  if (f.kernel_vmm_hint() == "firecracker")
    ev.add("kernel " + f.kernel + " is named -fc (Firecracker guest kernels are often so named)", {"firecracker"},
           src + " (uname)", 2);
  if (f.hypervisor_vendor == "Xen")
    ev.add("lscpu: Hypervisor vendor Xen", {"xen"}, src + " (lscpu)", 3);
  else if (f.hypervisor_vendor == "KVM")
    ev.add("lscpu: Hypervisor vendor KVM (Firecracker, QEMU/KVM and Cloud Hypervisor all run on KVM)", kvm_vmms,
           src + " (lscpu)", 0);
  if (f.dmi_captured) {
    const std::string& v = f.dmi_sys_vendor;
    std::string what     = "DMI sys_vendor \"" + v + "\", product_name \"" + f.dmi_product_name + "\"";
    if (v.empty())
      ev.add("no DMI/SMBIOS tables (Firecracker provides none; Xen PV guests have none)", {"firecracker", "xen"},
             src + " (dmi)", 1);
    else if (v == "QEMU")
      ev.add(what + ": QEMU's SMBIOS", {"qemu"}, src + " (dmi)", 3);
    else if (contains(v, "Cloud Hypervisor"))
      ev.add(what + ": Cloud Hypervisor's SMBIOS", {"cloud-hypervisor"}, src + " (dmi)", 3);
    else if (contains(v, "Xen"))
      ev.add(what + ": Xen HVM", {"xen"}, src + " (dmi)", 3);
    else
      ev.add(what + ": not a VMM this detection knows", {}, src + " (dmi)", 0);
  }
  for (const auto& t : f.acpi_tables) {
    static const std::map<std::string, std::string> oem = {
        {"FIRECK", "firecracker"}, {"BOCHS", "qemu"}, {"BXPC", "qemu"}, {"CLOUDH", "cloud-hypervisor"}, {"Xen", "xen"}};
    auto it = oem.find(t.oem_id);
    if (it != oem.end())
      ev.add("ACPI tables with OEM ID " + t.oem_id + " (" + t.name + " first)", {it->second}, src + " (acpi tables)",
             3);
  }
  if (f.cmdline) {
    if (contains(*f.cmdline, "virtio_mmio.device=")) {
      ev.add("kernel command line lists virtio_mmio.device=...: how Firecracker declares its MMIO devices",
             {"firecracker"}, src + " (cmdline)", 2);
      ev.transport("kernel command line lists virtio_mmio.device=...", "mmio", src + " (cmdline)", 3);
    }
    std::istringstream words(*f.cmdline);
    bool pci_off = false;
    for (std::string w; words >> w;)
      pci_off = pci_off or w == "pci=off";
    if (pci_off) {
      ev.add("kernel command line has pci=off (Firecracker's default boot arguments)", {"firecracker"},
             src + " (cmdline)", 1);
      ev.transport("kernel command line has pci=off", "mmio", src + " (cmdline)", 2);
    }
  }
  if (f.interrupts) {
    bool pci_virtio = false, line_virtio = false, xen = false;
    // "virtio<N>" or "virtio<N>-<vq name>" (std::regex would recurse per character of a long name).
    auto virtio_name = [](const std::string& a) {
      std::size_t i = 6;
      while (i < a.size() and std::isdigit(static_cast<unsigned char>(a[i])))
        ++i;
      return a.rfind("virtio", 0) == 0 and i > 6 and (i == a.size() or a[i] == '-');
    };
    for (const auto& l : f.interrupts->lines) {
      if (contains(l.chip, "xen-dyn") or contains(l.chip, "xen-percpu") or l.action == "blkif")
        xen = true;
      if (virtio_name(l.action)) {
        if (contains(l.chip, "PCI-MSI"))
          pci_virtio = true;
        else if (l.action.find('-') == std::string::npos)
          line_virtio = true;
      }
    }
    if (xen) {
      ev.add("event-channel interrupts (xen-dyn/xen-percpu, blkif) in /proc/interrupts", {"xen"}, src + " (interrupts)",
             3);
      ev.transport("event-channel interrupts", "xen", src + " (interrupts)", 3);
    }
    if (pci_virtio)
      ev.transport("virtio interrupts are PCI MSI/MSI-X vectors (virtioN-req.Q): virtio-pci", "pci",
                   src + " (interrupts)", 3);
    else if (line_virtio)
      ev.transport("virtio devices interrupt on one non-MSI line each (virtio-mmio, or PCI INTx)", "mmio",
                   src + " (interrupts)", 1);
  }
  const GuestBlockDevice* d = f.main_device();
  if (d == nullptr)
    return;
  if (d->name.rfind("xvd", 0) == 0 or d->driver == "vbd") {
    ev.add("block device " + d->name + (d->driver.empty() ? "" : " (driver " + d->driver + ")") + ": xen-blkfront",
           {"xen"}, src + " (mq)", 3);
    ev.transport("xen-blkfront disk", "xen", src + " (mq)", 3);
  }
  std::string path = d->device_path;
  if (path.empty())
    for (const auto& v : f.virtio_devices)
      if (v.driver == "virtio_blk")
        path = v.path;
  if (contains(path, "virtio_mmio") or contains(path, "LNRO0005"))
    ev.transport("the disk sits on the virtio-mmio bus (" + path + ")", "mmio", src + " (block devices)", 3);
  else if (contains(path, "/pci"))
    ev.transport("the disk sits on the PCI bus (" + path + ")", "pci", src + " (block devices)", 3);
  if (d->virtio())
    virtio_device_evidence(f, *d, ev);
}

void xenstore_evidence(const std::string& file, Evidence& ev)
{
  if (file.empty())
    return;
  ev.source(file);
  std::string text = readers::read_text_file(file, "xenstore-ls -f dump", 64 * MiB);
  if (contains(text, "/backend/vb") or contains(text, "/device/vb") or contains(text, "/device/vif")) {
    ev.add("a XenStore dump with vbd/vif keys", {"xen"}, file, 3);
    ev.transport("XenStore vbd/vif keys", "xen", file, 3);
  }
}

VmmGuess decide(Evidence& ev, const std::string& kernel)
{
  VmmGuess g;
  g.kernel   = kernel;
  g.evidence = ev.list_;
  g.sources  = ev.sources_;
  std::map<std::string, int> score, transport;
  for (const auto& e : ev.list_)
    for (const auto& p : e.points_to)
      if (p.rfind("transport:", 0) == 0)
        transport[p.substr(10)] += e.weight;
      else
        score[p] += e.weight;
  std::string best, second;
  for (const char* v : vmm_names) {
    g.scores.emplace_back(v, score[v]);
    if (best.empty() or score[v] > score[best]) {
      second = best;
      best   = v;
    } else if (second.empty() or score[v] > score[second]) {
      second = v;
    }
  }
  std::string where = g.sources.empty() ? "nothing" : join(g.sources);
  if (score[best] == 0) {
    g.summary = "no evidence of the VMM in " + where + ": the VMM is unknown";
    return g;
  }
  if (score[best] == score[second]) {
    g.summary = "evidence is even between " + display(best) + " and " + display(second) + " (" +
                std::to_string(score[best]) + " points each) in " + where + ": the VMM is unknown";
    return g;
  }
  g.vmm = best;
  std::string best_transport;
  for (const auto& [t, s] : transport)
    if (best_transport.empty() or s > transport[best_transport])
      best_transport = t;
  g.transport = g.vmm == "xen" ? "xen" : best_transport == "xen" ? "" : best_transport;
  for (const auto& e : ev.list_) {
    if (e.weight == 0 or e.points_to.empty())
      continue;
    bool is_transport = e.points_to.front().rfind("transport:", 0) == 0;
    bool agrees       = is_transport ? e.points_to.front() == "transport:" + g.transport
                                     : std::find(e.points_to.begin(), e.points_to.end(), g.vmm) != e.points_to.end();
    if (not agrees) {
      std::vector<std::string> to;
      for (const auto& p : e.points_to)
        to.push_back(is_transport ? p.substr(10) : display(p));
      g.conflicts.push_back(e.fact + " (points to " + join(to, " or ") + ")");
    }
  }
  std::string name = display(g.vmm);
  if (g.vmm == "firecracker" and not ev.patched_.empty()) {
    g.variant = "patched block features";
    name      = "Firecracker-like";
  }
  g.summary = name + " guest";
  if (not g.transport.empty() and g.vmm != "xen")
    g.summary += " over " + std::string(g.transport == "pci" ? "PCI" : "MMIO");
  if (not g.variant.empty())
    g.summary += ", " + g.variant + " (" + join(ev.patched_) + ": no Firecracker release offers them)";
  g.summary += ": " + std::to_string(score[best]) + " points, " +
               (score[second] == 0 ? std::string("none for another VMM")
                                   : std::to_string(score[second]) + " for " + display(second) + " next");
  if (g.vmm == "firecracker" and g.transport == "pci")
    g.summary += "; PCI means Firecracker >= 1.13 started with --enable-pci";
  if (g.vmm == "firecracker" and g.transport.empty())
    g.summary += "; transport not told (Firecracker's default is MMIO)";
  if (not g.conflicts.empty())
    g.summary += "; " + std::to_string(g.conflicts.size()) + " conflicting fact" + (g.conflicts.size() > 1 ? "s" : "");
  return g;
}

/** A bundle's devices as a guest description's (when it carries no description of its own). */
void fill_from_bundle(GuestFacts& f, const bundle::Bundle& b)
{
  if (f.kernel.empty())
    f.kernel = b.kernel;
  if (not f.vcpus and b.vcpus > 0)
    f.vcpus = b.vcpus;
  if (f.devices.empty())
    for (const auto& d : b.devices) {
      GuestBlockDevice g;
      g.name      = d.name;
      g.hw_queues = d.hw_queues;
      g.scheduler = d.scheduler;
      if (d.nr_requests)
        g.nr_requests = *d.nr_requests;
      for (const auto& q : d.queues)
        g.queues.push_back({q.index, q.cpu_list, {}, q.nr_tags, std::nullopt});
      f.devices.push_back(g);
    }
  if (not f.interrupts) {
    std::string irq = not b.interrupts_after.empty() ? b.interrupts_after : b.interrupts_before;
    for (const auto& r : b.runs)
      if (irq.empty())
        irq = not r.interrupts_after.empty() ? r.interrupts_after : r.interrupts_before;
    if (not irq.empty())
      f.interrupts = readers::read_proc_interrupts(irq);
  }
}

void bundle_evidence(const bundle::Bundle& b, Evidence& ev)
{
  const std::string src = b.manifest_file;
  ev.source(src);
  if (b.role == "xen-domU" or b.role == "xen-dom0")
    ev.add("bundle role " + b.role, {"xen"}, src + " (system.role)", 3);
  std::string virt = b.manifest.contains("system") and b.manifest["system"].is_object()
                         ? b.manifest["system"].value("virtualization", std::string())
                         : "";
  if (virt == "xen")
    ev.add("systemd-detect-virt: xen", {"xen"}, src + " (system.virtualization)", 2);
  else if (virt == "qemu")
    ev.add("systemd-detect-virt: qemu (QEMU without KVM)", {"qemu"}, src + " (system.virtualization)", 2);
  if ((b.lab_variant == "virtio" and b.qemu.present) or (b.lab_variant.empty() and b.qemu.present))
    ev.add("QEMU virtio-blk settings in the manifest (aio " + (b.qemu.aio.empty() ? "?" : b.qemu.aio) +
               ", num-queues " + std::to_string(b.qemu.num_queues) + ")",
           {"qemu"}, src + " (qemu)", 3);
  if (b.lab_variant == "xen-blk" or b.lab_variant == "xen-net")
    ev.add("Xen lab bundle (" + b.lab_variant + ")", {"xen"}, src + " (lab.variant)", 3);
  if (b.manifest.contains("qemu") and b.manifest["qemu"].is_object() and b.manifest["qemu"].contains("cmdline_file"))
    ev.add("a QEMU command line was captured", {"qemu"}, src + " (qemu.cmdline_file)", 2);
  if (b.host.accel == "tcg")
    ev.add("host accel tcg: software emulation exists only in QEMU", {"qemu"}, src + " (host.accel)", 2);
  for (const auto& d : b.devices)
    if (not d.xen_nodename.empty())
      ev.add("device " + d.name + " has a XenStore node (" + d.xen_nodename + ")", {"xen"}, src + " (devices)", 3);
  xenstore_evidence(b.xenstore_file, ev);
}

/** The bundle's guest description: manifest "guest_facts": {"file"}, else device.txt / guest-info.txt in it. */
std::optional<std::string> bundle_facts_file(const bundle::Bundle& b)
{
  const json& m = b.manifest;
  if (m.contains("guest_facts") and m["guest_facts"].is_object() and m["guest_facts"].contains("file") and
      m["guest_facts"]["file"].is_string()) {
    fs::path p = fs::path(b.dir) / m["guest_facts"]["file"].get<std::string>();
    std::error_code ec; // a name the file system refuses (too long, say) does not exist either
    if (not fs::is_regular_file(p, ec))
      throw InputError(b.manifest_file, "/guest_facts/file", "the file \"" + p.string() + "\" does not exist");
    return p.string();
  }
  for (const char* name : {"device.txt", "guest-info.txt"}) {
    std::error_code ec;
    if (fs::is_regular_file(fs::path(b.dir) / name, ec))
      return (fs::path(b.dir) / name).string();
  }
  return std::nullopt;
}

} // namespace

VmmGuess detect_vmm(const GuestFacts& facts, const std::string& xenstore_file)
{
  Evidence ev;
  facts_evidence(facts, ev);
  xenstore_evidence(xenstore_file, ev);
  return decide(ev, facts.kernel);
}

VmmGuess detect_vmm(const bundle::Bundle& b)
{
  GuestFacts f;
  if (auto file = bundle_facts_file(b))
    f = readers::read_guest_facts(*file);
  else
    f.file = b.manifest_file;
  fill_from_bundle(f, b);
  Evidence ev;
  facts_evidence(f, ev);
  bundle_evidence(b, ev);
  return decide(ev, f.kernel);
}

VmmGuess detect_vmm_at(const std::string& path)
{
  std::error_code ec;
  if (not fs::exists(path, ec))
    throw InputError(path, "", "does not exist (expected a fio trace, a trace directory or a capture bundle)");
  fs::path p   = fs::absolute(path, ec).lexically_normal();
  fs::path dir = fs::is_directory(p, ec) ? p : p.parent_path();
  if (dir.filename().empty())
    dir = dir.parent_path();
  for (const fs::path& d : {dir, dir.parent_path()})
    if (fs::is_regular_file(d / bundle::manifest_name, ec))
      return detect_vmm(bundle::read_bundle(d.string()));
  std::string xenstore;
  for (const fs::path& d : {dir, dir.parent_path()})
    if (xenstore.empty() and fs::is_regular_file(d / "xenstore-ls-f.txt", ec))
      xenstore = (d / "xenstore-ls-f.txt").string();
  auto file = readers::guest_facts_file_for(path);
  if (not file) {
    Evidence ev;
    xenstore_evidence(xenstore, ev);
    VmmGuess g = decide(ev, "");
    if (g.vmm == "unknown")
      g.summary = "no guest description (device.txt or guest-info.txt) beside " + path +
                  ": the VMM cannot be told (analysis/capture/capture.sh records one)";
    return g;
  }
  return detect_vmm(readers::read_guest_facts(*file), xenstore);
}

json to_json(const VmmGuess& g)
{
  json ev = json::array();
  for (const auto& e : g.evidence)
    ev.push_back({{"fact", e.fact}, {"points_to", e.points_to}, {"source", e.source}, {"weight", e.weight}});
  json scores = json::object();
  for (const auto& [v, s] : g.scores)
    scores[v] = s;
  return {{"vmm", g.vmm},         {"transport", g.transport}, {"kernel", g.kernel},       {"variant", g.variant},
          {"summary", g.summary}, {"evidence", ev},           {"conflicts", g.conflicts}, {"scores", scores},
          {"sources", g.sources}};
}

std::string to_text(const VmmGuess& g)
{
  std::ostringstream out;
  out << "vmm: " << g.vmm;
  if (not g.transport.empty())
    out << " (transport " << g.transport << ")";
  if (not g.kernel.empty())
    out << ", kernel " << g.kernel;
  out << "\n" << g.summary << "\n";
  if (not g.evidence.empty()) {
    out << "evidence (weight: 3 strong, 2 medium, 1 weak, 0 context):\n";
    for (const auto& e : g.evidence) {
      std::vector<std::string> to;
      for (const auto& p : e.points_to)
        to.push_back(p.rfind("transport:", 0) == 0 ? "transport " + p.substr(10) : p);
      out << "  [" << e.weight << "] " << e.fact << " -> " << (to.empty() ? "-" : join(to, " | ")) << "  (" << e.source
          << ")\n";
    }
  }
  if (not g.conflicts.empty()) {
    out << "conflicts:\n";
    for (const auto& c : g.conflicts)
      out << "  - " << c << "\n";
  }
  if (not g.scores.empty()) {
    out << "scores:";
    for (const auto& [v, s] : g.scores)
      out << " " << v << " " << s;
    out << "\n";
  }
  return out.str();
}

int detect_command(const std::string& path, bool as_json)
{
  VmmGuess g = detect_vmm_at(path);
  std::cout << (as_json ? to_json(g).dump(2) + "\n" : to_text(g));
  return 0;
}

} // namespace pvsim::calibration
