#include "models/xen/blk/blkif_negotiation.hpp"

#include "models/xen/extract_support.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <iterator>

namespace pvsim::xen {

using detail::child_path;
using detail::Problem;

std::string VbdDevice::frontend_path() const
{
  return detail::device_frontend_path(frontend_domid, "vbd", virtual_device);
}

std::string VbdDevice::backend_path() const
{
  return detail::device_backend_path(backend_domid, "vbd", frontend_domid, virtual_device);
}

unsigned blkfront_effective_max_queues(const BlkfrontConfig& config)
{
  // xlblk_init(): "Invalid max_queues (%d), will use default max: %d." when above num_online_cpus().
  return std::min(config.max_queues, config.online_cpus);
}

unsigned blkfront_effective_max_ring_page_order(const BlkfrontConfig& config)
{
  return std::min(config.max_ring_page_order, xenbus_max_ring_grant_order); // xlblk_init()
}

unsigned blkfront_effective_max_indirect_segments(const BlkfrontConfig& config)
{
  return std::max(config.max_indirect_segments, blkif_max_segments_per_request); // xlblk_init()
}

unsigned BlkifNegotiation::segments_per_request() const
{
  return max_indirect_segments > 0 ? max_indirect_segments : blkif_max_segments_per_request;
}

nlohmann::json to_json(const BlkifNegotiation& n)
{
  nlohmann::json rings = nlohmann::json::array();
  for (auto const& r : n.rings)
    rings.push_back({{"ring_refs", r.ring_refs}, {"event_channel", r.event_channel}});
  return {{"frontend", n.frontend_path},
          {"backend", n.backend_path},
          {"num_queues", n.num_queues},
          {"ring_page_order", n.ring_page_order},
          {"ring_slots", n.ring_slots},
          {"persistent_grants", n.persistent_grants},
          {"max_indirect_segments", n.max_indirect_segments},
          {"segments_per_request", n.segments_per_request()},
          {"flush", n.flush},
          {"fua", n.fua},
          {"discard", n.discard},
          {"sectors", n.sectors},
          {"sector_size", n.sector_size},
          {"physical_sector_size", n.physical_sector_size},
          {"read_only", n.read_only()},
          {"rings", rings},
          {"frontend_state", std::string(to_string(n.frontend_state))},
          {"backend_state", std::string(to_string(n.backend_state))},
          {"fell_back", n.fell_back},
          {"notes", n.notes}};
}

namespace {

/** Reads one ring's keys in `dir` as blkback read_per_ring_refs() does. */
std::optional<Problem> read_ring(const XenStore& store, const std::string& dir, unsigned pages, bool multi_ref,
                                 BlkifRing& ring)
{
  std::optional<Problem> problem;
  auto evtchn = detail::read_number(store, child_path(dir, "event-channel"), problem);
  if (problem)
    return problem;
  if (not evtchn)
    return Problem{child_path(dir, "event-channel"), "missing (blkback: reading event-channel)"};
  ring.event_channel = static_cast<unsigned>(*evtchn);
  ring.ring_refs.clear();
  for (unsigned i = 0; i < pages; ++i) {
    std::string name = multi_ref ? "ring-ref" + std::to_string(i) : std::string("ring-ref");
    auto ref         = detail::read_number(store, child_path(dir, name), problem);
    if (problem)
      return problem;
    if (not ref)
      return Problem{child_path(dir, name),
                     multi_ref ? "missing: ring-page-order asks for " + std::to_string(pages) + " ring pages"
                               : std::string("missing (blkback: reading ring-ref)")};
    ring.ring_refs.push_back(static_cast<unsigned>(*ref));
  }
  return std::nullopt;
}

/** What blkback connect_ring() checks: protocol, queue count, ring page order, every queue's keys. */
std::optional<Problem> read_queues(const XenStore& store, const std::string& fe, const std::string& be,
                                   BlkifNegotiation& n)
{
  std::optional<Problem> problem;
  if (auto protocol = store.read(child_path(fe, "protocol"))) {
    // XEN_IO_PROTO_ABI_X86_32, XEN_IO_PROTO_ABI_X86_64 (and the native one, also x86_64-abi on x86_64).
    if (*protocol != "x86_32-abi" && *protocol != "x86_64-abi" && *protocol != "arm-abi")
      return Problem{child_path(fe, "protocol"), "unknown fe protocol " + *protocol};
  }

  auto count = detail::read_queue_count(store, fe, be, problem);
  if (problem)
    return problem;
  if (count->requested == 0 || count->requested > count->max) // blkback words both cases alike
    return detail::too_many_queues(fe, *count);
  const unsigned num_queues = count->requested;

  auto order = detail::read_number(store, child_path(fe, "ring-page-order"), problem);
  if (problem)
    return problem;
  bool multi_ref = order.has_value();
  if (order) {
    unsigned long long max_order = 0;
    if (not be.empty()) {
      auto m = detail::read_number(store, child_path(be, "max-ring-page-order"), problem);
      if (problem)
        return problem;
      max_order = m.value_or(0);
    } else {
      max_order = xenbus_max_ring_grant_order;
    }
    max_order = std::min<unsigned long long>(max_order, xenbus_max_ring_grant_order);
    if (*order > max_order)
      return Problem{child_path(fe, "ring-page-order"), "requested ring page order " + std::to_string(*order) +
                                                            " exceed max:" + std::to_string(max_order)};
  }
  unsigned ring_order = order ? static_cast<unsigned>(*order) : 0;

  auto read_queue_ring = [&](const std::string& dir, BlkifRing& ring) {
    return read_ring(store, dir, 1u << ring_order, multi_ref, ring);
  };
  std::vector<BlkifRing> rings(num_queues);
  if (auto p = detail::read_each_queue(store, fe, rings, read_queue_ring))
    return p;

  n.num_queues      = num_queues;
  n.ring_page_order = ring_order;
  n.rings           = std::move(rings);

  // Keys the backend will not look at.
  if (num_queues > 1 && (store.exists(child_path(fe, "event-channel")) || store.exists(child_path(fe, "ring-ref"))))
    n.notes.push_back("top-level ring keys are ignored with " + std::to_string(num_queues) + " queues");
  detail::note_unused_queue_directories(store, fe, num_queues, n.notes);
  return std::nullopt;
}

/** Lenient reading of an inconsistent tree: one queue from the top-level keys, else from queue-0, with the
 * frontend's ring page order when the backend allows it, else a single page. */
void fall_back_to_one_queue(const XenStore& store, const std::string& fe, const std::string& be, const Problem& problem,
                            BlkifNegotiation& n)
{
  n.ring_page_order = 0;
  n.rings.clear();
  unsigned order = 0;
  bool multi_ref = false;
  if (auto o = store.scan_unsigned(child_path(fe, "ring-page-order"))) {
    unsigned long long max_order = be.empty() ? 0 : store.read_unsigned(child_path(be, "max-ring-page-order"), 0);
    if (*o <= std::min<unsigned long long>(max_order, xenbus_max_ring_grant_order)) {
      order     = static_cast<unsigned>(*o);
      multi_ref = true;
    }
  }
  detail::fall_back_to_one_queue(fe, problem, n, [&](const std::string& dir) {
    BlkifRing ring;
    for (bool mr : {multi_ref, false}) {
      unsigned pages = mr ? 1u << order : 1u;
      if (not read_ring(store, dir, pages, mr, ring)) {
        n.ring_page_order = mr ? order : 0;
        n.rings.push_back(ring);
        return true;
      }
    }
    return false;
  });
}

} // namespace

BlkifNegotiation extract_blkif(const XenStore& store, std::string_view frontend_path, ExtractMode mode,
                               const std::string& source, const BlkfrontConfig& frontend)
{
  BlkifNegotiation n    = detail::read_ends_and_queues<BlkifNegotiation>(store, frontend_path, "vbd", mode, source,
                                                                      read_queues, fall_back_to_one_queue);
  const std::string& fe = n.frontend_path;
  const std::string& be = n.backend_path;
  n.ring_slots          = blkif_ring_slots(n.ring_page_order);

  auto be_unsigned = [&](const char* key, unsigned long long dflt) {
    return be.empty() ? dflt : store.read_unsigned(child_path(be, key), dflt);
  };
  // blkfront_gather_backend_features() and blkback connect_ring(): each end offers, both must.
  n.persistent_grants =
      store.read_unsigned(child_path(fe, "feature-persistent"), 0) != 0 && be_unsigned("feature-persistent", 0) != 0;
  unsigned long long indirect = be_unsigned("feature-max-indirect-segments", 0);
  unsigned fe_max             = blkfront_effective_max_indirect_segments(frontend);
  if (indirect > fe_max) {
    n.notes.push_back("indirect segments capped by the frontend's max_indirect_segments = " + std::to_string(fe_max) +
                      " (module parameter, not in XenStore)");
    indirect = fe_max;
  }
  n.max_indirect_segments = indirect <= blkif_max_segments_per_request ? 0 : static_cast<unsigned>(indirect);
  if (be_unsigned("feature-barrier", 0) != 0) {
    n.flush = true;
    n.fua   = true;
  }
  if (be_unsigned("feature-flush-cache", 0) != 0) {
    n.flush = true;
    n.fua   = false;
  }
  n.discard              = be_unsigned("feature-discard", 0) != 0;
  n.sectors              = be_unsigned("sectors", 0);
  n.info                 = static_cast<unsigned>(be_unsigned("info", 0));
  n.sector_size          = static_cast<unsigned>(be_unsigned("sector-size", 512));
  n.physical_sector_size = static_cast<unsigned>(be_unsigned("physical-sector-size", n.sector_size));
  detail::note_if_not_connected(n);
  return n;
}

std::vector<BlkifNegotiation> extract_all_blkif(const XenStore& store, ExtractMode mode, const std::string& source,
                                                const BlkfrontConfig& frontend)
{
  return detail::extract_all(store, "vbd", [&](const std::string& frontend_path) {
    return extract_blkif(store, frontend_path, mode, source, frontend);
  });
}

std::string_view to_string(BlkifHandshake::Step step)
{
  static constexpr std::string_view names[] = {
      "toolstack_create", "backend_probe", "hotplug_connected", "frontend_talk", "backend_connect",
      "frontend_connect", "done"};
  const auto i = static_cast<std::size_t>(step);
  return i < std::size(names) ? names[i] : "invalid";
}

BlkifHandshake::BlkifHandshake(XenStore& store, VbdDevice device, BlkbackConfig backend, BlkfrontConfig frontend)
    : XenbusHandshake(store, device.frontend_path(), device.backend_path(),
                      {[this](double t) { toolstack_create(t); }, [this](double t) { backend_probe(t); },
                       [this](double t) { hotplug_connected(t); }, [this](double t) { frontend_talk(t); },
                       [this](double t) { backend_connect(t); }, [this](double t) { frontend_connect(t); }}),
      device_(std::move(device)), back_(std::move(backend)), front_(std::move(frontend))
{
}

void BlkifHandshake::toolstack_create(double time)
{
  // libxl__device_disk_add() through libxl__device_generic_add(), in the order the xen-lab-tcg dumps show.
  const std::string initialising = state_value(XenbusState::Initialising);
  XenStoreEntries front          = {{"backend-id", std::to_string(device_.backend_domid)},
                                    {"state", initialising},
                                    {"virtual-device", std::to_string(device_.virtual_device)},
                                    {"device-type", device_.device_type},
                                    {"trusted", device_.trusted ? "1" : "0"}};
  if (not device_.protocol.empty()) // old PV frontends relied on the toolstack for it (libxl comment)
    front.push_back({"protocol", device_.protocol});
  XenStoreEntries back = {{"params", device_.params},
                          {"script", device_.script},
                          {"frontend-id", std::to_string(device_.frontend_domid)},
                          {"online", "1"},
                          {"removable", device_.removable ? "1" : "0"},
                          {"bootable", device_.bootable ? "1" : "0"},
                          {"state", initialising},
                          {"dev", device_.dev},
                          {"type", device_.type},
                          {"mode", device_.mode},
                          {"device-type", device_.device_type},
                          {"discard-enable", device_.discard_enable ? "1" : "0"}};
  if (not device_.specification.empty())
    back.push_back({"specification", device_.specification});
  toolstack_add(front, back, time);
}

void BlkifHandshake::backend_probe(double time)
{
  // xen_blkbk_probe(): indirect segments, queues, ring order, then InitWait.
  XenStoreEntries features;
  if (back_.max_indirect_segments)
    features.push_back({"feature-max-indirect-segments", std::to_string(*back_.max_indirect_segments)});
  if (back_.max_queues)
    features.push_back({"multi-queue-max-queues", std::to_string(*back_.max_queues)});
  if (back_.max_ring_page_order)
    features.push_back({"max-ring-page-order", std::to_string(*back_.max_ring_page_order)});
  backend_probed(features, time);
}

void BlkifHandshake::hotplug_connected(double /*time*/)
{
  XenStoreEntries entries = {{"physical-device", device_.physical_device}};
  if (not device_.physical_device_path.empty())
    entries.push_back({"physical-device-path", device_.physical_device_path});
  hotplug_script_done(entries);
}

void BlkifHandshake::frontend_talk(double time)
{
  // blkback_changed(InitWait) with the frontend still Initialising -> talk_to_blkback().
  const std::string& fe   = frontend_path();
  const std::string& be   = backend_path();
  unsigned max_page_order = static_cast<unsigned>(store_.read_unsigned(child_path(be, "max-ring-page-order"), 0));
  unsigned order          = std::min(blkfront_effective_max_ring_page_order(front_), max_page_order);
  unsigned pages          = 1u << order;
  // negotiate_mq(): min(backend multi-queue-max-queues (default 1), max_queues), at least one.
  unsigned backend_max = static_cast<unsigned>(store_.read_unsigned(child_path(be, "multi-queue-max-queues"), 1));
  unsigned nr_rings    = std::max(1u, std::min(backend_max, blkfront_effective_max_queues(front_)));

  // setup_blkring() per ring: grant the ring pages, then allocate the event channel.
  std::vector<BlkifRing> rings(nr_rings);
  unsigned gref = front_.first_grant_ref;
  unsigned port = front_.first_event_channel;
  for (auto& r : rings) {
    for (unsigned p = 0; p < pages; ++p)
      r.ring_refs.push_back(gref++);
    r.event_channel = port++;
  }
  if (pages > 1)
    store_.write(child_path(fe, "ring-page-order"), std::to_string(order));
  publish_queues(rings, nr_rings > 1, [&](const std::string& dir, const BlkifRing& r) { // write_per_ring_nodes()
    if (pages == 1)
      store_.write(child_path(dir, "ring-ref"), std::to_string(r.ring_refs[0]));
    else
      for (unsigned p = 0; p < pages; ++p)
        store_.write(child_path(dir, "ring-ref" + std::to_string(p)), std::to_string(r.ring_refs[p]));
    store_.write(child_path(dir, "event-channel"), std::to_string(r.event_channel));
  });
  store_.write(child_path(fe, "protocol"), std::string(xen_io_proto_abi_native));
  store_.write(child_path(fe, "feature-persistent"), front_.feature_persistent ? "1" : "0");
  (void)frontend_state_.switch_state(XenbusState::Initialised, time, store_);
}

void BlkifHandshake::backend_connect(double time)
{
  // frontend_changed(Initialised) -> connect_ring(): refuse what blkback refuses (xenbus_dev_fatal -> Closing).
  if (not backend_accepts_frontend(
          "blkback", [&] { (void)extract_blkif(store_, frontend_path(), ExtractMode::strict, "", front_); }, time))
    return;
  // connect(): device facts, in blkback's order.
  const bool flush        = back_.flush_support;
  XenStoreEntries entries = {{"feature-flush-cache", flush ? "1" : "0"}};
  if (store_.read_unsigned(child_path(backend_path(), "discard-enable"), 1) != 0) { // xen_blkbk_discard()
    int state = 0;
    if (back_.discard_support) {
      entries.push_back({"discard-granularity", std::to_string(back_.discard_granularity)});
      entries.push_back({"discard-alignment", std::to_string(back_.discard_alignment)});
      state = 1;
      entries.push_back({"discard-secure", back_.discard_secure ? "1" : "0"});
    }
    entries.push_back({"feature-discard", std::to_string(state)});
  }
  const bool read_only = device_.mode.find('w') == std::string::npos;
  entries.insert(entries.end(), {{"feature-barrier", flush ? "1" : "0"},
                                 {"feature-persistent", back_.feature_persistent ? "1" : "0"},
                                 {"sectors", std::to_string(back_.sectors)},
                                 {"info", std::to_string(back_.vdisk_type | (read_only ? vdisk_readonly : 0u))},
                                 {"sector-size", std::to_string(back_.sector_size)},
                                 {"physical-sector-size", std::to_string(back_.physical_sector_size)}});
  backend_connected(entries, time);
}

void BlkifHandshake::frontend_connect(double time)
{
  // blkback_changed(Connected) -> blkfront_connect(): xenbus_gather() of sectors, info, sector-size.
  const std::string& be = backend_path();
  for (const char* key : {"sectors", "info", "sector-size"}) {
    if (not store_.scan_unsigned(child_path(be, key))) {
      fatal(frontend_state_, std::string("blkfront: reading backend fields at ") + be + ": " + key + " missing", time);
      return;
    }
  }
  (void)frontend_state_.switch_state(XenbusState::Connected, time, store_);
}

BlkifNegotiation BlkifHandshake::result() const
{
  return extract_blkif(store_, frontend_path(), ExtractMode::lenient, "", front_);
}

} // namespace pvsim::xen
