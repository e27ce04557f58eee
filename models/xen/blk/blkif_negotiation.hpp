/* pvsim: the connection handshake of the Xen PV block device (blkif) between Linux xen-blkfront and xen-blkback.
 *
 * Models: the XenStore keys each party writes, in the order it writes them (libxl's device directories, the
 * backend's probe, the hotplug script, blkfront talk_to_blkback(), blkback connect()), both xenbus state machines,
 * and the negotiated outcome as the Linux drivers compute it: queues = min(blkfront max_queues (itself at most the
 * online vCPUs), backend multi-queue-max-queues), ring page order = min(frontend max_ring_page_order, backend
 * max-ring-page-order), persistent grants when both ends offer them, indirect segments = min(frontend, backend) or
 * none at 11 and below, flush/FUA/discard from the backend's feature keys. The reverse, reading what a tree (e.g. a
 * real `xenstore-ls -f` dump) says was negotiated, checks what blkback connect_ring() checks.
 * Leaves out: timing (each step takes the caller's time stamp), watches, transactions and their retries,
 * suspend/resume, the x86_32 ABI, grant table and event channel internals (numbers are handed out in sequence). */
#pragma once

#include "models/xen/ring.hpp"
#include "models/xen/xenbus.hpp"
#include "models/xen/xenbus_handshake.hpp"
#include "models/xen/xenstore.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::xen {

/** BLKIF_MAX_SEGMENTS_PER_REQUEST (blkif.h): segments of a request without indirect descriptors. */
constexpr unsigned blkif_max_segments_per_request = 11;
/** XENBUS_MAX_RING_GRANT_ORDER (include/xen/xenbus.h): rings of at most 2^4 pages. */
constexpr unsigned xenbus_max_ring_grant_order = 4;
/** XEN_IO_PROTO_ABI_NATIVE on x86_64 (include/xen/interface/io/protocols.h). */
constexpr std::string_view xen_io_proto_abi_native = "x86_64-abi";
/** VDISK_* bits of the backend's "info" node (blkif.h). */
constexpr unsigned vdisk_cdrom = 0x1, vdisk_removable = 0x2, vdisk_readonly = 0x4;

/** A virtual block device as the toolstack (libxl) sets it up. Defaults are those of the xen-lab-tcg guests. */
struct VbdDevice {
  unsigned frontend_domid          = 1;
  unsigned backend_domid           = 0;
  unsigned virtual_device          = 51712; // xvda: (XENVBD_MAJOR 202 << 8) | 0
  std::string params               = "/dev/vdb";
  std::string script               = "/etc/xen/scripts/block";
  std::string dev                  = "xvda";
  std::string type                 = "phy";
  std::string mode                 = "w"; // "r": read-only (blkback: !strchr(mode, 'w'))
  std::string device_type          = "disk";
  bool removable                   = false;
  bool bootable                    = true;
  bool discard_enable              = true;
  bool trusted                     = true;
  std::string specification        = "xen";        // libxl 4.17+; "" writes no key
  std::string protocol             = "x86_64-abi"; // libxl writes it for PV guests; "" writes no key
  std::string physical_device      = "fe:10";      // from the hotplug script: major:minor in hex
  std::string physical_device_path = "/dev/vdb";   // "" writes no key

  std::string frontend_path() const; // /local/domain/<frontend>/device/vbd/<virtual_device>
  std::string backend_path() const;  // /local/domain/<backend>/backend/vbd/<frontend>/<virtual_device>
};

/** What xen-blkback advertises and publishes. nullopt: the key is not written (an older backend). */
struct BlkbackConfig {
  /** "multi-queue-max-queues" = xenblk_max_queues; default num_online_cpus() of the backend domain
   * (blkback.c xen_blkif_init()), 4 in the lab's dom0. */
  std::optional<unsigned> max_queues = 4;
  /** "max-ring-page-order" = xen_blkif_max_ring_order, default XENBUS_MAX_RING_GRANT_ORDER (blkback.c). */
  std::optional<unsigned> max_ring_page_order = 4;
  /** "feature-max-indirect-segments" = MAX_INDIRECT_SEGMENTS, 256 (xen-blkback/common.h; xen_blkbk_probe()). */
  std::optional<unsigned> max_indirect_segments = 256;
  /** Module parameter feature_persistent, default true (xenbus.c); written as "feature-persistent" by connect(). */
  bool feature_persistent = true;
  /** vbd.flush_support (bdev_write_cache()): "feature-flush-cache" and "feature-barrier". */
  bool flush_support = true;
  /** Whether the device can discard (bdev_max_discard_sectors()); the toolstack's discard-enable must allow it. */
  bool discard_support          = true;
  unsigned discard_granularity  = 512;
  unsigned discard_alignment    = 0;
  bool discard_secure           = false;
  std::uint64_t sectors         = 2097152; // in 512-byte units ("sectors", blkif.h)
  unsigned sector_size          = 512;
  unsigned physical_sector_size = 512;
  unsigned vdisk_type           = 0; // VDISK_CDROM / VDISK_REMOVABLE; VDISK_READONLY comes from the mode
};

/** xen-blkfront module parameters and guest facts. */
struct BlkfrontConfig {
  /** max_queues, default 4; xlblk_init() lowers it to num_online_cpus(). */
  unsigned max_queues  = 4;
  unsigned online_cpus = 4;
  /** max_ring_page_order, default 0 (single-page rings); xlblk_init() caps it at XENBUS_MAX_RING_GRANT_ORDER. */
  unsigned max_ring_page_order = 0;
  /** max_indirect_segments, default 32; xlblk_init() raises it to at least BLKIF_MAX_SEGMENTS_PER_REQUEST. */
  unsigned max_indirect_segments = 32;
  /** feature_persistent, default true; written as "feature-persistent" by talk_to_blkback(). */
  bool feature_persistent = true;
  /** First grant reference and event channel port the guest hands out; the lab guests got 8 and 27. */
  unsigned first_grant_ref     = 8;
  unsigned first_event_channel = 27;
};

/** The parameters after xlblk_init()'s corrections. */
unsigned blkfront_effective_max_queues(const BlkfrontConfig& config);
unsigned blkfront_effective_max_ring_page_order(const BlkfrontConfig& config);
unsigned blkfront_effective_max_indirect_segments(const BlkfrontConfig& config);

struct BlkifRing {
  std::vector<unsigned> ring_refs; // one grant reference per ring page
  unsigned event_channel = 0;
};

/** What a frontend and a backend agreed on. */
struct BlkifNegotiation {
  std::string frontend_path;
  std::string backend_path;
  unsigned num_queues      = 1;
  unsigned ring_page_order = 0;
  unsigned ring_slots      = blkif_ring_slots(0); // BLK_RING_SIZE: requests in flight per queue
  bool persistent_grants   = false;
  /** Segments per indirect request; 0 when indirect descriptors are not used. */
  unsigned max_indirect_segments = 0;
  bool flush                     = false; // REQ_OP_FLUSH supported (feature-barrier or feature-flush-cache)
  bool fua                       = false; // FUA (feature-barrier without feature-flush-cache)
  bool discard                   = false;
  std::uint64_t sectors          = 0;
  unsigned sector_size           = 512;
  unsigned physical_sector_size  = 512;
  unsigned info                  = 0;
  std::vector<BlkifRing> rings;
  XenbusState frontend_state = XenbusState::Unknown;
  XenbusState backend_state  = XenbusState::Unknown;
  /** True when lenient extraction replaced an inconsistent tree by its single-queue reading. */
  bool fell_back = false;
  /** Fallbacks applied and assumptions made, in words. */
  std::vector<std::string> notes;

  unsigned ring_pages() const { return 1u << ring_page_order; }
  /** Segments one request may carry: the indirect maximum, or BLKIF_MAX_SEGMENTS_PER_REQUEST. */
  unsigned segments_per_request() const;
  bool read_only() const { return (info & vdisk_readonly) != 0; }
  bool connected() const { return frontend_state == XenbusState::Connected && backend_state == XenbusState::Connected; }
};

nlohmann::json to_json(const BlkifNegotiation& n);

/** What the tree says was negotiated for the frontend directory `frontend_path`. The backend directory comes from
 * the frontend's "backend" node. Checks, like blkback connect_ring(): multi-queue-num-queues between 1 and the
 * backend's multi-queue-max-queues, ring-page-order at most max-ring-page-order, an event channel and every ring
 * reference ("ring-ref", or "ring-ref0".. when ring-page-order is present) for each queue, at top level for one
 * queue and under queue-N for more. Values the frontend keeps to itself (its max_indirect_segments) are taken from
 * `frontend` and noted. Strict mode throws pvsim::InputError(source, <offending key path>, <reason>); lenient mode
 * falls back to one queue of order 0 read from the top-level keys (else queue-0), sets fell_back and notes why.
 * A missing frontend directory is an error in both modes. */
BlkifNegotiation extract_blkif(const XenStore& store, std::string_view frontend_path,
                               ExtractMode mode = ExtractMode::strict, const std::string& source = "",
                               const BlkfrontConfig& frontend = {});

/** Every vbd frontend of the tree (/local/domain/<d>/device/vbd/<n>), in tree order. Strict mode throws at the first
 * inconsistent device. */
std::vector<BlkifNegotiation> extract_all_blkif(const XenStore& store, ExtractMode mode = ExtractMode::strict,
                                                const std::string& source = "", const BlkfrontConfig& frontend = {});

/** The handshake of one vbd, step by step, writing into a XenStore and driving both state machines. */
class BlkifHandshake : public XenbusHandshake {
public:
  enum class Step {
    toolstack_create,  // libxl writes both directories, states Initialising
    backend_probe,     // xen_blkbk_probe(): feature keys, backend InitWait
    hotplug_connected, // the block script: physical-device, physical-device-path, hotplug-status
    frontend_talk,     // blkfront talk_to_blkback() on backend InitWait: rings, frontend Initialised
    backend_connect,   // blkback frontend_changed(): connect_ring(), connect(): device facts, backend Connected
    frontend_connect,  // blkfront_connect() on backend Connected: frontend Connected
    done,
  };

  BlkifHandshake(XenStore& store, VbdDevice device, BlkbackConfig backend, BlkfrontConfig frontend);

  Step next_step() const { return static_cast<Step>(next_step_index()); }
  /** Performs the next step at `time`; returns the step performed (Step::done when there was none left). A step
   * that fails as the driver would (e.g. blkback refusing the frontend's keys) moves that end to Closing and ends
   * the handshake. */
  Step advance(double time) { return static_cast<Step>(perform_next_step(time)); }

  const VbdDevice& device() const { return device_; }
  /** The negotiated outcome as the tree now shows it (lenient reading, notes included). */
  BlkifNegotiation result() const;

private:
  void toolstack_create(double time);
  void backend_probe(double time);
  void hotplug_connected(double time);
  void frontend_talk(double time);
  void backend_connect(double time);
  void frontend_connect(double time);

  VbdDevice device_;
  BlkbackConfig back_;
  BlkfrontConfig front_;
};

std::string_view to_string(BlkifHandshake::Step step);

} // namespace pvsim::xen
