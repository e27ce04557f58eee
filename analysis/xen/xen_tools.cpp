#include "analysis/xen/xen_tools.hpp"

#include "models/xen/blk/blkif_negotiation.hpp"
#include "models/xen/blk/xen_blkfront.hpp"
#include "models/xen/net/netif_negotiation.hpp"
#include "models/xen/net/xen_netfront.hpp"
#include "models/xen/xenstore_dump.hpp"

#include <cstdio>
#include <optional>
#include <sstream>

namespace pvsim {

namespace {
/** The tree of one device (both ends' directories) and its xenbus timeline, after a header line. */
void print_device(std::ostringstream& out, const std::string& header, const xen::XenStore& store,
                  const std::string& backend_path, const std::string& frontend_path,
                  const std::vector<std::pair<double, std::string>>& transitions)
{
  out << header << "\n";
  out << store.ls_f(backend_path.substr(0, backend_path.rfind('/')));
  out << store.ls_f(frontend_path.substr(0, frontend_path.rfind('/')));
  out << "# xenbus state transitions (simulated time)\n";
  for (const auto& [t, what] : transitions) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%10.6f s  ", t);
    out << buf << what << "\n";
  }
  out << "\n";
}
} // namespace

std::string xenstore_report(const Simulation& sim)
{
  std::ostringstream out;
  bool any = false;
  for (const auto& c : sim.components()) {
    if (const auto* front = dynamic_cast<const xen::XenBlkfront*>(c.get())) {
      any                = true;
      const auto& n      = front->negotiation();
      std::string header = "# " + front->name() + " (xen.blkfront) <-> " + front->port("backend")->name() +
                           " (xen.blkback): " + std::to_string(n.num_queues) +
                           (n.num_queues == 1 ? " queue" : " queues") + ", ring-page-order " +
                           std::to_string(n.ring_page_order) + " (" + std::to_string(n.ring_slots) +
                           " slots), persistent grants " + (n.persistent_grants ? "on" : "off") +
                           ", indirect segments " + std::to_string(n.max_indirect_segments);
      print_device(out, header, front->xenstore(), n.backend_path, n.frontend_path, front->transitions());
    } else if (const auto* vif = dynamic_cast<const xen::XenNetfront*>(c.get())) {
      any                = true;
      const auto& n      = vif->negotiation();
      std::string header = "# " + vif->name() + " (xen.netfront) <-> " + vif->port("backend")->name() +
                           " (xen.netback): " + std::to_string(n.num_queues) +
                           (n.num_queues == 1 ? " queue" : " queues") + ", event channels " +
                           (n.split_event_channels ? "split (tx and rx)" : "shared") + ", control ring " +
                           (n.ctrl_ring ? "on" : "off");
      print_device(out, header, vif->xenstore(), n.backend_path, n.frontend_path, vif->transitions());
    }
  }
  if (not any)
    out << "# no Xen device (xen.blkfront or xen.netfront) in this scenario\n";
  return out.str();
}

namespace {
unsigned domid_of(const std::string& frontend_path)
{
  // /local/domain/<domid>/device/...
  std::size_t a = std::string("/local/domain/").size();
  return static_cast<unsigned>(std::stoul(frontend_path.substr(a, frontend_path.find('/', a) - a)));
}
} // namespace

json from_xenstore(const std::string& dump_file, std::optional<unsigned> domid)
{
  xen::XenStoreDump dump = xen::read_xenstore_ls_f_file(dump_file);
  json devices           = json::array();
  json comps             = json::object();
  json notes             = json::array();
  for (const auto& w : dump.warnings)
    notes.push_back("line " + std::to_string(w.line) + ": " + w.what);
  // A device of the domain asked for (any without --domid) joins `devices`, with its kind and domain, and its notes
  // join `notes`; its components are named after it: "d<domid>_<device id>".
  auto add_device = [&](const auto& n, const char* kind) -> std::optional<std::string> {
    unsigned d = domid_of(n.frontend_path);
    if (domid and d != *domid)
      return std::nullopt;
    json dev     = xen::to_json(n);
    dev["kind"]  = kind;
    dev["domid"] = d;
    devices.push_back(dev);
    for (const auto& note : n.notes)
      notes.push_back(n.frontend_path + ": " + note);
    std::string tag = std::to_string(d);
    tag.insert(0, 1, 'd');
    tag.append(1, '_');
    tag.append(n.frontend_path, n.frontend_path.rfind('/') + 1); // (built in steps: GCC 12 warns falsely otherwise)
    return tag;
  };
  for (const auto& n : xen::extract_all_blkif(dump.tree, xen::ExtractMode::strict, dump_file)) {
    auto tag = add_device(n, "vbd");
    if (not tag)
      continue;
    // What each end offered, as pvsim parameters (the negotiated outcome follows from them).
    const auto& t             = dump.tree;
    json back                 = {{"type", "xen.blkback"},
                                 {"max_queues", t.read_unsigned(n.backend_path + "/multi-queue-max-queues", 1)},
                                 {"max_ring_page_order", t.read_unsigned(n.backend_path + "/max-ring-page-order", 0)},
                                 {"max_indirect_segments", t.read_unsigned(n.backend_path + "/feature-max-indirect-segments", 0)},
                                 {"feature_persistent", t.read_unsigned(n.backend_path + "/feature-persistent", 0) == 1}};
    json front                = {{"type", "xen.blkfront"},
                                 {"max_queues", n.num_queues},
                                 {"max_ring_page_order", n.ring_page_order},
                                 {"feature_persistent", t.read_unsigned(n.frontend_path + "/feature-persistent", 0) == 1}};
    comps["blkfront_" + *tag] = front;
    comps["blkback_" + *tag]  = back;
  }
  for (const auto& n : xen::extract_all_netif(dump.tree, xen::ExtractMode::strict, dump_file)) {
    auto tag = add_device(n, "vif");
    if (not tag)
      continue;
    const auto& t = dump.tree;
    // What each end offered (xen-netback: multi-queue-max-queues, feature-split-event-channels; xen-netfront: the
    // queues it asked for, the control ring it requested), as pvsim parameters.
    json back                 = {{"type", "xen.netback"},
                                 {"max_queues", t.read_unsigned(n.backend_path + "/multi-queue-max-queues", 1)},
                                 {"split_event_channels", t.read_unsigned(n.backend_path + "/feature-split-event-channels", 0) == 1}};
    json front                = {{"type", "xen.netfront"}, {"max_queues", n.num_queues}, {"control_ring", n.ctrl_ring}};
    comps["netfront_" + *tag] = front;
    comps["netback_" + *tag]  = back;
  }
  if (devices.empty())
    notes.push_back(domid ? "no vbd or vif of domain " + std::to_string(*domid) + " in the dump"
                          : "no vbd or vif frontend in the dump");
  notes.push_back("fill in each component's vm/cpus/backend/target references to use the fragment in a scenario");
  return {{"source", dump_file}, {"devices", devices}, {"components", comps}, {"notes", notes}};
}

} // namespace pvsim
