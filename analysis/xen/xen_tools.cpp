#include "analysis/xen/xen_tools.hpp"

#include "models/xen/blk/blkif_negotiation.hpp"
#include "models/xen/blk/xen_blkfront.hpp"
#include "models/xen/net/netif_negotiation.hpp"
#include "models/xen/xenstore_dump.hpp"

#include <cstdio>
#include <optional>
#include <sstream>

namespace pvsim {

std::string xenstore_report(const Simulation& sim)
{
  std::ostringstream out;
  bool any = false;
  for (const auto& c : sim.components()) {
    const auto* front = dynamic_cast<const xen::XenBlkfront*>(c.get());
    if (front == nullptr)
      continue;
    any           = true;
    const auto& n = front->negotiation();
    out << "# " << front->name() << " (xen.blkfront) <-> " << front->port("backend")->name()
        << " (xen.blkback): " << n.num_queues << (n.num_queues == 1 ? " queue" : " queues") << ", ring-page-order "
        << n.ring_page_order << " (" << n.ring_slots << " slots), persistent grants "
        << (n.persistent_grants ? "on" : "off") << ", indirect segments " << n.max_indirect_segments << "\n";
    out << front->xenstore().ls_f(n.backend_path.substr(0, n.backend_path.rfind('/')));
    out << front->xenstore().ls_f(n.frontend_path.substr(0, n.frontend_path.rfind('/')));
    out << "# xenbus state transitions (simulated time)\n";
    for (const auto& [t, what] : front->transitions()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%10.6f s  ", t);
      out << buf << what << "\n";
    }
    out << "\n";
  }
  if (not any)
    out << "# no Xen device (xen.blkfront) in this scenario\n";
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
  // A device of the domain asked for (any without --domid) joins `devices`, with its kind and domain.
  auto add_device = [&](const auto& n, const char* kind) -> std::optional<unsigned> {
    unsigned d = domid_of(n.frontend_path);
    if (domid and d != *domid)
      return std::nullopt;
    json dev     = xen::to_json(n);
    dev["kind"]  = kind;
    dev["domid"] = d;
    devices.push_back(dev);
    return d;
  };
  for (const auto& n : xen::extract_all_blkif(dump.tree, xen::ExtractMode::strict, dump_file)) {
    auto domain = add_device(n, "vbd");
    if (not domain)
      continue;
    unsigned d      = *domain;
    std::string tag = std::to_string(d);
    tag.insert(0, 1, 'd');
    tag.append(1, '_');
    tag.append(n.frontend_path, n.frontend_path.rfind('/') + 1); // (built in steps: GCC 12 warns falsely otherwise)
    // What each end offered, as pvsim parameters (the negotiated outcome follows from them).
    const auto& t            = dump.tree;
    json back                = {{"type", "xen.blkback"},
                                {"max_queues", t.read_unsigned(n.backend_path + "/multi-queue-max-queues", 1)},
                                {"max_ring_page_order", t.read_unsigned(n.backend_path + "/max-ring-page-order", 0)},
                                {"max_indirect_segments", t.read_unsigned(n.backend_path + "/feature-max-indirect-segments", 0)},
                                {"feature_persistent", t.read_unsigned(n.backend_path + "/feature-persistent", 0) == 1}};
    json front               = {{"type", "xen.blkfront"},
                                {"max_queues", n.num_queues},
                                {"max_ring_page_order", n.ring_page_order},
                                {"feature_persistent", t.read_unsigned(n.frontend_path + "/feature-persistent", 0) == 1}};
    comps["blkfront_" + tag] = front;
    comps["blkback_" + tag]  = back;
    for (const auto& note : n.notes)
      notes.push_back(n.frontend_path + ": " + note);
  }
  for (const auto& n : xen::extract_all_netif(dump.tree, xen::ExtractMode::strict, dump_file)) {
    if (not add_device(n, "vif"))
      continue;
    notes.push_back(n.frontend_path +
                    ": network devices are reported, not emitted in the fragment: give xen.netfront/xen.netback "
                    "their max_queues by hand");
  }
  if (devices.empty())
    notes.push_back(domid ? "no vbd or vif of domain " + std::to_string(*domid) + " in the dump"
                          : "no vbd or vif frontend in the dump");
  notes.push_back("fill in each component's vm/cpus/backend/target references to use the fragment in a scenario");
  return {{"source", dump_file}, {"devices", devices}, {"components", comps}, {"notes", notes}};
}

} // namespace pvsim
