#include "models/xen/net/netif_negotiation.hpp"

#include "models/xen/extract_support.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace pvsim::xen {

using detail::child_path;
using detail::Problem;

std::string_view to_string(NetifHashAlgorithm algorithm)
{
  return algorithm == NetifHashAlgorithm::toeplitz ? "toeplitz" : "none";
}

std::optional<NetifHashAlgorithm> parse_hash_algorithm(std::string_view name)
{
  std::string lower;
  for (char c : name)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "none")
    return NetifHashAlgorithm::none;
  if (lower == "toeplitz")
    return NetifHashAlgorithm::toeplitz;
  return std::nullopt;
}

std::string VifDevice::frontend_path() const
{
  return detail::device_frontend_path(frontend_domid, "vif", handle);
}

std::string VifDevice::backend_path() const
{
  return detail::device_backend_path(backend_domid, "vif", frontend_domid, handle);
}

unsigned netfront_effective_max_queues(const NetfrontConfig& config)
{
  // netif_init(): "Allow as many queues as there are CPUs but max. 8 if user has not specified a value."
  if (config.max_queues == 0)
    return std::min(netfront_max_queues_default, config.online_cpus);
  return config.max_queues;
}

NetifHashAlgorithm negotiate_hash_algorithm(const NetbackConfig& backend, const NetfrontConfig& frontend,
                                            std::string* note)
{
  auto say = [note](std::string s) {
    if (note)
      *note = std::move(s);
  };
  if (not frontend.control_ring || not backend.ctrl_ring) {
    say("no control ring: netback keeps XEN_NETIF_CTRL_HASH_ALGORITHM_NONE");
    return NetifHashAlgorithm::none;
  }
  for (auto wanted : frontend.hash_preference)
    if (std::find(backend.hash_algorithms.begin(), backend.hash_algorithms.end(), wanted) !=
        backend.hash_algorithms.end()) {
      say("");
      return wanted;
    }
  say("no common hash algorithm: netback answers XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER and keeps none");
  return NetifHashAlgorithm::none;
}

nlohmann::json to_json(const NetifNegotiation& n)
{
  nlohmann::json queues = nlohmann::json::array();
  for (auto const& q : n.queues)
    queues.push_back({{"tx_ring_ref", q.tx_ring_ref},
                      {"rx_ring_ref", q.rx_ring_ref},
                      {"tx_event_channel", q.tx_event_channel},
                      {"rx_event_channel", q.rx_event_channel}});
  nlohmann::json alg = nullptr;
  if (n.hash_algorithm)
    alg = std::string(to_string(*n.hash_algorithm));
  return {{"frontend", n.frontend_path},
          {"backend", n.backend_path},
          {"num_queues", n.num_queues},
          {"split_event_channels", n.split_event_channels},
          {"tx_ring_slots", n.tx_ring_slots},
          {"rx_ring_slots", n.rx_ring_slots},
          {"rx_copy", n.rx_copy},
          {"sg", n.sg},
          {"gso_tcpv4", n.gso_tcpv4},
          {"gso_tcpv6", n.gso_tcpv6},
          {"ipv6_csum_offload", n.ipv6_csum_offload},
          {"ctrl_ring", n.ctrl_ring},
          {"hash_algorithm", alg},
          {"queues", queues},
          {"frontend_state", std::string(to_string(n.frontend_state))},
          {"backend_state", std::string(to_string(n.backend_state))},
          {"fell_back", n.fell_back},
          {"notes", n.notes}};
}

namespace {

/** One queue's keys in `dir`, as netback connect_data_rings() reads them. */
std::optional<Problem> read_queue(const XenStore& store, const std::string& dir, NetifQueue& q)
{
  std::optional<Problem> problem;
  auto tx = detail::read_number(store, child_path(dir, "tx-ring-ref"), problem);
  auto rx = detail::read_number(store, child_path(dir, "rx-ring-ref"), problem);
  if (problem)
    return problem;
  if (not tx)
    return Problem{child_path(dir, "tx-ring-ref"), "missing (netback: reading ring-ref)"};
  if (not rx)
    return Problem{child_path(dir, "rx-ring-ref"), "missing (netback: reading ring-ref)"};
  // Split event channels first, then a single one.
  auto etx = detail::read_number(store, child_path(dir, "event-channel-tx"), problem);
  auto erx = detail::read_number(store, child_path(dir, "event-channel-rx"), problem);
  if (problem)
    return problem;
  if (etx && erx) {
    q.tx_event_channel = static_cast<unsigned>(*etx);
    q.rx_event_channel = static_cast<unsigned>(*erx);
  } else {
    auto e = detail::read_number(store, child_path(dir, "event-channel"), problem);
    if (problem)
      return problem;
    if (not e)
      return Problem{child_path(dir, "event-channel"), "missing, and no event-channel-tx/event-channel-rx pair "
                                                       "(netback: reading event-channel(-tx/rx))"};
    q.tx_event_channel = q.rx_event_channel = static_cast<unsigned>(*e);
  }
  q.tx_ring_ref = static_cast<unsigned>(*tx);
  q.rx_ring_ref = static_cast<unsigned>(*rx);
  return std::nullopt;
}

std::optional<Problem> read_queues(const XenStore& store, const std::string& fe, const std::string& be,
                                   NetifNegotiation& n)
{
  std::optional<Problem> problem;
  auto count = detail::read_queue_count(store, fe, be, problem);
  if (problem)
    return problem;
  if (count->requested == 0)
    return Problem{child_path(fe, "multi-queue-num-queues"), "must be greater than zero (netif.h)"};
  if (count->requested > count->max)
    return detail::too_many_queues(fe, *count);
  const unsigned num_queues = count->requested;

  auto read_queue_keys = [&](const std::string& dir, NetifQueue& q) { return read_queue(store, dir, q); };
  std::vector<NetifQueue> queues(num_queues);
  if (auto p = detail::read_each_queue(store, fe, queues, read_queue_keys))
    return p;

  if (store.exists(child_path(fe, "ctrl-ring-ref"))) {
    (void)detail::read_number(store, child_path(fe, "ctrl-ring-ref"), problem);
    auto port = detail::read_number(store, child_path(fe, "event-channel-ctrl"), problem);
    if (problem)
      return problem;
    if (not port)
      return Problem{child_path(fe, "event-channel-ctrl"), "missing while ctrl-ring-ref is set (netback: "
                                                           "connect_ctrl_ring)"};
    n.ctrl_ring = true;
  }

  n.num_queues = num_queues;
  n.queues     = std::move(queues);
  if (num_queues > 1 && (store.exists(child_path(fe, "tx-ring-ref")) || store.exists(child_path(fe, "event-channel")) ||
                         store.exists(child_path(fe, "event-channel-tx"))))
    n.notes.push_back("top-level queue keys are ignored with " + std::to_string(num_queues) + " queues");
  detail::note_unused_queue_directories(store, fe, num_queues, n.notes);
  return std::nullopt;
}

/** Lenient reading of an inconsistent tree: one queue from the top-level keys, else from queue-0. */
void fall_back_to_one_queue(const XenStore& store, const std::string& fe, const std::string& /*be*/,
                            const Problem& problem, NetifNegotiation& n)
{
  n.queues.clear();
  detail::fall_back_to_one_queue(fe, problem, n, [&](const std::string& dir) {
    NetifQueue q;
    if (read_queue(store, dir, q))
      return false;
    n.queues.push_back(q);
    return true;
  });
}

} // namespace

NetifNegotiation extract_netif(const XenStore& store, std::string_view frontend_path, ExtractMode mode,
                               const std::string& source)
{
  NetifNegotiation n    = detail::read_ends_and_queues<NetifNegotiation>(store, frontend_path, "vif", mode, source,
                                                                      read_queues, fall_back_to_one_queue);
  const std::string& fe = n.frontend_path;
  const std::string& be = n.backend_path;
  n.split_event_channels =
      not n.queues.empty() && std::all_of(n.queues.begin(), n.queues.end(), [](auto const& q) { return q.split(); });

  auto fe_flag = [&](const char* key) { return store.read_unsigned(child_path(fe, key), 0) != 0; };
  auto be_flag = [&](const char* key) { return not be.empty() && store.read_unsigned(child_path(be, key), 0) != 0; };
  n.rx_copy    = fe_flag("request-rx-copy");
  if (not n.rx_copy)
    n.notes.push_back("request-rx-copy is not 1: netback's read_xenbus_vif_flags() refuses (-EOPNOTSUPP)");
  n.sg                = fe_flag("feature-sg") && be_flag("feature-sg");
  n.gso_tcpv4         = fe_flag("feature-gso-tcpv4") && be_flag("feature-gso-tcpv4");
  n.gso_tcpv6         = fe_flag("feature-gso-tcpv6") && be_flag("feature-gso-tcpv6");
  n.ipv6_csum_offload = fe_flag("feature-ipv6-csum-offload") && be_flag("feature-ipv6-csum-offload");
  if (n.ctrl_ring) {
    if (not be_flag("feature-ctrl-ring"))
      n.notes.push_back("the frontend set up a control ring the backend does not advertise (feature-ctrl-ring)");
    n.hash_algorithm.reset();
    n.notes.push_back("hash algorithm chosen over the control ring: not recorded in XenStore");
  } else {
    n.hash_algorithm = NetifHashAlgorithm::none;
  }
  detail::note_if_not_connected(n);
  return n;
}

std::vector<NetifNegotiation> extract_all_netif(const XenStore& store, ExtractMode mode, const std::string& source)
{
  return detail::extract_all(store, "vif", [&](const std::string& frontend_path) {
    return extract_netif(store, frontend_path, mode, source);
  });
}

std::string_view to_string(NetifHandshake::Step step)
{
  static constexpr std::string_view names[] = {"toolstack_create", "backend_probe",   "hotplug_connected",
                                               "frontend_connect", "backend_connect", "done"};
  const auto i                              = static_cast<std::size_t>(step);
  return i < std::size(names) ? names[i] : "invalid";
}

NetifHandshake::NetifHandshake(XenStore& store, VifDevice device, NetbackConfig backend, NetfrontConfig frontend)
    : XenbusHandshake(store, device.frontend_path(), device.backend_path(),
                      {[this](double t) { toolstack_create(t); }, [this](double t) { backend_probe(t); },
                       [this](double t) { hotplug_connected(t); }, [this](double t) { frontend_connect(t); },
                       [this](double t) { backend_connect(t); }}),
      device_(std::move(device)), back_(std::move(backend)), front_(std::move(frontend))
{
}

void NetifHandshake::toolstack_create(double time)
{
  // libxl__device_nic_add(): the generic entries (frontend-id, online, state / backend-id, state), then
  // libxl__set_xenstore_nic()'s, then the read-only frontend entries (mtu).
  const std::string initialising = state_value(XenbusState::Initialising);
  toolstack_add({{"backend-id", std::to_string(device_.backend_domid)},
                 {"state", initialising},
                 {"handle", std::to_string(device_.handle)},
                 {"mac", device_.mac},
                 {"trusted", device_.trusted ? "1" : "0"},
                 {"mtu", std::to_string(device_.mtu)}},
                {{"frontend-id", std::to_string(device_.frontend_domid)},
                 {"online", "1"},
                 {"state", initialising},
                 {"script", device_.script},
                 {"mac", device_.mac},
                 {"bridge", device_.bridge},
                 {"handle", std::to_string(device_.handle)},
                 {"type", "vif"},
                 {"hotplug-status", ""}}, // makes netback wait for the hotplug script
                time);
}

void NetifHandshake::backend_probe(double time)
{
  // netback_probe(): one transaction of offload features, then the optional keys, then InitWait.
  XenStoreEntries features = {{"feature-sg", "1"},
                              {"feature-gso-tcpv4", "1"},
                              {"feature-gso-tcpv6", "1"},
                              {"feature-ipv6-csum-offload", "1"},
                              {"feature-rx-copy", "1"},
                              {"feature-xdp-headroom", back_.xdp_headroom ? "1" : "0"},
                              {"feature-rx-flip", "0"},
                              {"feature-multicast-control", "1"},
                              {"feature-dynamic-multicast-control", "1"},
                              {"feature-split-event-channels", back_.split_event_channels ? "1" : "0"}};
  if (back_.max_queues)
    features.push_back({"multi-queue-max-queues", std::to_string(*back_.max_queues)});
  if (back_.ctrl_ring)
    features.push_back({"feature-ctrl-ring", "1"});
  backend_probed(features, time);
}

void NetifHandshake::hotplug_connected(double /*time*/)
{
  hotplug_script_done({}); // vif-bridge
}

void NetifHandshake::frontend_connect(double time)
{
  const std::string& fe = frontend_path();
  const std::string& be = backend_path();
  // xennet_connect(): the backend must offer the copying receive path.
  if (store_.read_unsigned(child_path(be, "feature-rx-copy"), 0) == 0) {
    abandon("netfront: backend does not support copying receive path");
    return;
  }
  // talk_to_netback()
  unsigned max_queues = static_cast<unsigned>(store_.read_unsigned(child_path(be, "multi-queue-max-queues"), 1));
  unsigned num_queues = std::min(max_queues, netfront_effective_max_queues(front_));
  bool split          = store_.read_unsigned(child_path(be, "feature-split-event-channels"), 0) != 0;
  if (num_queues == 0) {
    fatal(frontend_state_, "netfront: no queues (backend multi-queue-max-queues is 0)", time);
    return;
  }
  if (store_.read_unsigned(child_path(be, "feature-xdp-headroom"), 0) != 0)
    store_.write(child_path(fe, "xdp-headroom"), "0"); // talk_to_netback_xdp(NETBACK_XDP_HEADROOM_DISABLE)

  // setup_netfront() per queue: tx ring, rx ring, then the event channel(s).
  std::vector<NetifQueue> queues(num_queues);
  unsigned gref = front_.first_grant_ref;
  unsigned port = front_.first_event_channel;
  for (auto& q : queues) {
    q.tx_ring_ref      = gref++;
    q.rx_ring_ref      = gref++;
    q.tx_event_channel = port++;
    q.rx_event_channel = split ? port++ : q.tx_event_channel;
  }
  publish_queues(queues, store_.exists(child_path(be, "multi-queue-max-queues")),
                 [&](const std::string& dir, const NetifQueue& q) { // write_queue_xenstore_keys()
                   store_.write(child_path(dir, "tx-ring-ref"), std::to_string(q.tx_ring_ref));
                   store_.write(child_path(dir, "rx-ring-ref"), std::to_string(q.rx_ring_ref));
                   if (not q.split()) {
                     store_.write(child_path(dir, "event-channel"), std::to_string(q.tx_event_channel));
                   } else {
                     store_.write(child_path(dir, "event-channel-tx"), std::to_string(q.tx_event_channel));
                     store_.write(child_path(dir, "event-channel-rx"), std::to_string(q.rx_event_channel));
                   }
                 });
  if (front_.control_ring && store_.read_unsigned(child_path(be, "feature-ctrl-ring"), 0) != 0) {
    // Not Linux: a frontend with a control ring (netif.h "Control ring") publishes it before connecting.
    store_.write(child_path(fe, "ctrl-ring-ref"), std::to_string(gref++));
    store_.write(child_path(fe, "event-channel-ctrl"), std::to_string(port++));
  }
  write_entries(fe, {{"request-rx-copy", "1"},
                     {"feature-rx-notify", "1"},
                     {"feature-sg", "1"},
                     {"feature-gso-tcpv4", "1"},
                     {"feature-gso-tcpv6", "1"},
                     {"feature-ipv6-csum-offload", "1"}});
  // netback_changed(InitWait): xennet_connect() succeeded -> Connected, skipping Initialised.
  (void)frontend_state_.switch_state(XenbusState::Connected, time, store_);
}

void NetifHandshake::backend_connect(double time)
{
  // frontend_changed(Connected) -> set_backend_state(Connected) -> connect(); the switch waits for
  // hotplug-status = connected (hotplug_status_changed()), already there in this order of steps.
  if (not backend_accepts_frontend(
          "netback", [&] { (void)extract_netif(store_, frontend_path(), ExtractMode::strict, ""); }, time))
    return;
  backend_connected({}, time);
}

NetifNegotiation NetifHandshake::result() const
{
  NetifNegotiation n = extract_netif(store_, frontend_path(), ExtractMode::lenient, "");
  if (n.ctrl_ring) {
    std::string note;
    n.hash_algorithm = negotiate_hash_algorithm(back_, front_, &note);
    if (not note.empty())
      n.notes.push_back(note);
  }
  return n;
}

} // namespace pvsim::xen
