/* pvsim: capture bundles (see bundle.hpp). */
#include "analysis/calibration/bundle.hpp"

#include "sim/input_error.hpp"
#include "sim/scenario.hpp"

#include <filesystem>

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
  std::error_code ec; // a name the file system refuses (too long, say) is a file that does not exist, not a crash
  if (not fs::is_regular_file(p, ec))
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
  std::error_code ec;
  if (not fs::is_directory(dir, ec))
    throw InputError(dir, "", "not a directory (expected a bundle written by analysis/capture/capture.sh)");
  if (not fs::is_regular_file(b.manifest_file, ec))
    throw InputError(b.manifest_file, "", "missing: a bundle directory holds a manifest.json");
  b.manifest = read_json_file(b.manifest_file, "bundle manifest");
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
    if (sys.value().contains("kernel"))
      b.kernel = string_of(sys.child("kernel"));
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

} // namespace pvsim::bundle
