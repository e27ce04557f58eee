/* pvsim: the connection handshake of the Xen PV network device (netif) between Linux xen-netfront and
 * xen-netback.
 *
 * Models: the XenStore keys each party writes, in order (libxl's vif directories, netback_probe(), the vif hotplug
 * script, netfront talk_to_netback(), netback connect()), both xenbus state machines (netfront goes from
 * Initialising straight to Connected), and the outcome as the Linux drivers compute it: queues =
 * min(backend multi-queue-max-queues, netfront max_queues), where netfront's default max_queues is
 * min(8, online vCPUs); split tx/rx event channels when the backend offers feature-split-event-channels; one ring
 * page per direction (256 slots); offloads both ends advertise. The hash algorithm used for receive steering is not
 * in XenStore: a frontend sets it over the control ring (XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, netif.h), which
 * Linux netfront never sets up; the handshake models that choice from both ends' algorithm lists. The reverse,
 * reading a tree, checks what netback connect() and connect_data_rings() check.
 * Leaves out: timing, watches and transactions, the control-ring messages themselves (key, flags, mapping), XDP
 * headroom reconfiguration, multicast control, rate limits, grant and event-channel internals (numbers are handed
 * out in sequence and are synthetic). */
#pragma once

#include "models/xen/ring.hpp"
#include "models/xen/xenbus.hpp"
#include "models/xen/xenbus_handshake.hpp"
#include "models/xen/xenstore.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::xen {

/** XEN_NETIF_CTRL_HASH_ALGORITHM_* (netif.h). */
enum class NetifHashAlgorithm { none = 0, toeplitz = 1 };

/** "none", "toeplitz". */
std::string_view to_string(NetifHashAlgorithm algorithm);
/** Case-insensitive "none" / "toeplitz"; nullopt otherwise. */
std::optional<NetifHashAlgorithm> parse_hash_algorithm(std::string_view name);

/** MAX_QUEUES_DEFAULT in xen-netfront.c. */
constexpr unsigned netfront_max_queues_default = 8;

/** A virtual network interface as the toolstack (libxl) sets it up. */
struct VifDevice {
  unsigned frontend_domid = 1;
  unsigned backend_domid  = 0;
  unsigned handle         = 0; // devid: vif/<handle>
  std::string mac         = "00:16:3e:5a:1b:01";
  std::string bridge      = "xenbr0";
  std::string script      = "/etc/xen/scripts/vif-bridge";
  bool trusted            = true;
  unsigned mtu            = 1500; // LIBXL_DEVICE_NIC_MTU_DEFAULT

  std::string frontend_path() const; // /local/domain/<frontend>/device/vif/<handle>
  std::string backend_path() const;  // /local/domain/<backend>/backend/vif/<frontend>/<handle>
};

/** What xen-netback advertises. */
struct NetbackConfig {
  /** "multi-queue-max-queues" = xenvif_max_queues, default num_online_cpus() of the backend domain (netback.c);
   * nullopt: not written (a backend without multi-queue). */
  std::optional<unsigned> max_queues = 4;
  /** "feature-split-event-channels" = separate_tx_rx_irq, default true (netback.c). */
  bool split_event_channels = true;
  /** "feature-xdp-headroom" = provides_xdp_headroom, default true (netback.c). */
  bool xdp_headroom = true;
  /** "feature-ctrl-ring": netback_probe() always writes 1; false models an older backend without the key. */
  bool ctrl_ring = true;
  /** Algorithms xenvif_set_hash_alg() accepts: NONE and TOEPLITZ. */
  std::vector<NetifHashAlgorithm> hash_algorithms = {NetifHashAlgorithm::none, NetifHashAlgorithm::toeplitz};
};

/** xen-netfront module parameters and guest facts, plus what a non-Linux frontend may do. */
struct NetfrontConfig {
  /** max_queues module parameter; 0 (the default) means min(MAX_QUEUES_DEFAULT, num_online_cpus()) (netif_init). */
  unsigned max_queues  = 0;
  unsigned online_cpus = 4;
  /** Linux netfront sets up no control ring; a frontend that does (e.g. the Windows PV drivers) writes
   * ctrl-ring-ref and event-channel-ctrl and then picks a hash algorithm. */
  bool control_ring = false;
  /** Algorithms the frontend would ask for over the control ring, preferred first. */
  std::vector<NetifHashAlgorithm> hash_preference = {NetifHashAlgorithm::toeplitz};
  /** First grant reference and event channel port handed out (synthetic). */
  unsigned first_grant_ref     = 8;
  unsigned first_event_channel = 27;
};

unsigned netfront_effective_max_queues(const NetfrontConfig& config);

struct NetifQueue {
  unsigned tx_ring_ref      = 0;
  unsigned rx_ring_ref      = 0;
  unsigned tx_event_channel = 0;
  unsigned rx_event_channel = 0; // equal to tx_event_channel without split event channels
  bool split() const { return tx_event_channel != rx_event_channel; }
};

struct NetifNegotiation {
  std::string frontend_path;
  std::string backend_path;
  unsigned num_queues = 1;
  /** True when every queue has separate tx and rx event channels. */
  bool split_event_channels = false;
  unsigned tx_ring_slots    = netif_tx_ring_slots;
  unsigned rx_ring_slots    = netif_rx_ring_slots;
  bool rx_copy              = false; // request-rx-copy: the only receive mode netback supports
  bool sg                   = false;
  bool gso_tcpv4            = false;
  bool gso_tcpv6            = false;
  bool ipv6_csum_offload    = false;
  /** A control ring is connected (frontend ctrl-ring-ref + event-channel-ctrl, backend feature-ctrl-ring). */
  bool ctrl_ring = false;
  /** The receive-steering hash algorithm: none without a control ring; nullopt when a control ring exists but the
   * choice is not recorded (it never is in XenStore). */
  std::optional<NetifHashAlgorithm> hash_algorithm = NetifHashAlgorithm::none;
  std::vector<NetifQueue> queues;
  XenbusState frontend_state = XenbusState::Unknown;
  XenbusState backend_state  = XenbusState::Unknown;
  bool fell_back             = false;
  std::vector<std::string> notes;

  bool connected() const { return frontend_state == XenbusState::Connected && backend_state == XenbusState::Connected; }
};

nlohmann::json to_json(const NetifNegotiation& n);

/** The hash algorithm both ends would settle on: the first of the frontend's preferences the backend accepts;
 * none (with `note` set) when there is no control ring or no common algorithm, as netback then answers
 * XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER and keeps XEN_NETIF_CTRL_HASH_ALGORITHM_NONE. */
NetifHashAlgorithm negotiate_hash_algorithm(const NetbackConfig& backend, const NetfrontConfig& frontend,
                                            std::string* note = nullptr);

/** What the tree says was negotiated for the frontend directory `frontend_path` (backend from its "backend" node).
 * Checks, like netback connect(): multi-queue-num-queues between 1 and the backend's multi-queue-max-queues;
 * tx-ring-ref, rx-ring-ref and event-channel (or event-channel-tx and event-channel-rx) for each queue, at top
 * level for one queue and under queue-N for more; event-channel-ctrl when ctrl-ring-ref is present. Strict mode
 * throws pvsim::InputError(source, <offending key path>, <reason>); lenient mode reads the tree as one queue (top
 * level keys, else queue-0), sets fell_back and notes why. A missing frontend directory is an error in both. */
NetifNegotiation extract_netif(const XenStore& store, std::string_view frontend_path,
                               ExtractMode mode = ExtractMode::strict, const std::string& source = "");

/** Every vif frontend of the tree (/local/domain/<d>/device/vif/<n>), in tree order. Strict mode throws at the first
 * inconsistent device. */
std::vector<NetifNegotiation> extract_all_netif(const XenStore& store, ExtractMode mode = ExtractMode::strict,
                                                const std::string& source = "");

/** The handshake of one vif, step by step. */
class NetifHandshake : public XenbusHandshake {
public:
  enum class Step {
    toolstack_create,  // libxl writes both directories (hotplug-status ""), states Initialising
    backend_probe,     // netback_probe(): feature keys, backend InitWait
    hotplug_connected, // vif-bridge: hotplug-status = connected
    frontend_connect,  // netback_changed(InitWait) -> xennet_connect(): rings and features, frontend Connected
    backend_connect,   // frontend_changed(Connected) -> connect(): backend Connected
    done,
  };

  NetifHandshake(XenStore& store, VifDevice device, NetbackConfig backend, NetfrontConfig frontend);

  Step next_step() const { return static_cast<Step>(next_step_index()); }
  /** Performs the next step at `time` and returns it (Step::done when none was left). A refusal moves the refusing
   * end to Closing (netback) or leaves the frontend unconnected (netfront without feature-rx-copy) and ends it. */
  Step advance(double time) { return static_cast<Step>(perform_next_step(time)); }

  const VifDevice& device() const { return device_; }
  /** The outcome as the tree shows it, with the hash algorithm both ends settled on over the control ring. */
  NetifNegotiation result() const;

private:
  void toolstack_create(double time);
  void backend_probe(double time);
  void hotplug_connected(double time);
  void frontend_connect(double time);
  void backend_connect(double time);

  VifDevice device_;
  NetbackConfig back_;
  NetfrontConfig front_;
};

std::string_view to_string(NetifHandshake::Step step);

} // namespace pvsim::xen
