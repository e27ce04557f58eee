/* pvsim: capture bundles (see bundle.hpp). */
#include "sim/bundle.hpp"

#include "sim/input_error.hpp"
#include "sim/scenario.hpp"
#include "sim/xen_commands.hpp"

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
  if (not fs::is_regular_file(p))
    n.fail("the file \"" + rel + "\" does not exist in the bundle (" + p.string() + ")");
  return p.string();
}

} // namespace

const Device* Bundle::device(const std::string& name) const
{
  for (const auto& d : devices)
    if (d.name == name)
      return &d;
  return nullptr;
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
  if (not devices.value().is_array())
    devices.fail("expected an array, got " + JsonNode::describe(devices.value()));
  for (std::size_t i = 0; i < devices.value().size(); ++i) {
    JsonNode d = devices.at(i);
    d.expect_object();
    Device dev;
    dev.name        = string_of(field(d, "name"));
    dev.hw_queues   = int_of(field(d, "hw_queues"), 0);
    JsonNode queues = field(d, "queues");
    if (not queues.value().is_array())
      queues.fail("expected an array, got " + JsonNode::describe(queues.value()));
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
    if (not e.value().is_array())
      e.fail("expected an array of fio ioengine names");
    for (std::size_t i = 0; i < e.value().size(); ++i)
      b.engines.push_back(string_of(e.at(i)));
  }

  JsonNode runs = field(root, "fio_runs");
  if (not runs.value().is_array() or runs.value().empty())
    runs.fail("expected a non-empty array of fio runs, got " + JsonNode::describe(runs.value()));
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
    b.runs.push_back(run);
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
  json g = {{"vcpus", b.vcpus},
            {"hw_queues", fallback.value("hw_queues", 1)},
            {"tags", fallback.value("tags", 128)},
            {"estimated", "from the bundle " + b.manifest_file}};
  const Device* dev =
      run.device.empty() ? (b.devices.size() == 1 ? &b.devices.front() : nullptr) : b.device(run.device);
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
  if (b.xenstore_file.empty()) {
    notes.push_back("no XenStore dump in the bundle: the structure was not checked");
    out["notes"] = notes;
    return out;
  }
  json xs;
  try {
    xs = from_xenstore(b.xenstore_file, std::nullopt);
  } catch (const InputError& e) {
    notes.push_back(std::string("the XenStore dump could not be read, structure not checked: ") + e.what());
    out["notes"] = notes;
    return out;
  }
  std::vector<json> vbds;
  for (const auto& d : xs["devices"])
    if (d.value("kind", "") == "vbd")
      vbds.push_back(d);
  for (const auto& d : b.devices) {
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
      notes.push_back(d.name + ": no matching vbd in the XenStore dump (" + std::to_string(vbds.size()) +
                      " vbd(s); give the device's xen_nodename)");
      continue;
    }
    auto add = [&](const std::string& check, const json& xen, const json& sys) {
      bool ok = xen == sys;
      mismatch += ok ? 0 : 1;
      out["checks"].push_back({{"device", d.name},
                               {"vbd", (*vbd)["frontend"]},
                               {"check", check},
                               {"xenstore", xen},
                               {"sysfs", sys},
                               {"ok", ok}});
    };
    add("queues: multi-queue-num-queues vs /sys/block/" + d.name + "/mq directories", (*vbd)["num_queues"],
        d.hw_queues);
    for (const auto& q : d.queues)
      add("ring slots vs mq/" + std::to_string(q.index) + "/nr_tags", (*vbd)["ring_slots"], q.nr_tags);
  }
  for (const auto& n : xs["notes"])
    if (n.get<std::string>().rfind("fill in", 0) != 0) // from-xenstore's advice on its fragment: not relevant here
      notes.push_back("xenstore: " + n.get<std::string>());
  out["mismatches"] = mismatch;
  out["notes"]      = notes;
  return out;
}

} // namespace pvsim::bundle
