/* pvsim model "virtio.net": a multi-queue virtio-net NIC of a KVM guest with the vhost-net backend: the Linux driver
 * (drivers/net/virtio_net.c), QEMU's device (hw/net/virtio-net.c, only for its ring sizes and queue count: the data
 * path is in the host kernel), vhost-net (drivers/vhost/net.c) and the tap device (drivers/net/tun.c) in one
 * component, wired guest ↔ this ↔ net.link (the host's physical NIC behind the bridge).
 *
 * Models:
 * - Queue pairs: the device offers max_queue_pairs (`queues`); the driver uses min(max_queue_pairs, online vCPUs)
 *   (virtnet_probe, then netif_set_real_num_tx/rx_queues). Pair q has a Tx virtqueue and an Rx virtqueue of 256
 *   entries each (QEMU tx_queue_size / rx_queue_size), one vhost worker thread (one vhost-net fd, hence one vhost_dev
 *   and one worker, per pair) on the host's cpu.host, and one MSI-X vector per virtqueue, both of the pair on the same
 *   vCPU (virtnet_set_affinity: contiguous groups of vCPUs per pair, the vector on the group's first vCPU).
 * - Split vrings with VIRTIO_RING_F_EVENT_IDX on both sides: the Vring shared with virtio.blk (vring_need_event
 * arithmetic, avail_event / used_event) is reused as is. Guest kicks (virtqueue_kick_prepare) are ioeventfd writes: a
 * VM exit on the vCPU (kick_cpu), then vhost_poll queues the handler on the pair's worker unless it is already queued
 *   (VHOST_WORK_QUEUED). vhost signals (vhost_signal: vhost_notify, then the irqfd) only when the guest's used_event
 *   lies in what it pushed since the last signal, once per batch (vhost_net_signal_used: VHOST_NET_BATCH = 64 used
 *   entries, and at the end of a pass). An MSI-X message for a vector already pending in the local APIC merges.
 * - Guest Tx queue selection (`tx_select`), netdev_pick_tx() in net/core/dev.c (virtio_net has no ndo_select_queue
 *   since "virtio-net: switch to use XPS to choose txq", 3.13 as far as pvsim could tell): the socket caches its queue
 * (sk_tx_queue_get / sk_tx_queue_set, sk_tx_queue_mapping) and keeps it unless the cache is unset, out of range (>=
 * real_num_tx_queues) or the skb is ooo_okay; then it re-picks with get_xps_queue() (the sending CPU's XPS map:
 * virtnet_set_affinity sets each pair's vCPU group with netif_set_xps_queue) or, without a map, skb_tx_hash()
 * (reciprocal_scale of the flow hash over the pairs), and stores the pick (a full socket with a cached dst, as a
 * connected TCP socket is). TCP sets skb->ooo_okay in
 *   __tcp_transmit_skb() (net/ipv4/tcp_output.c) when the socket has nothing in the qdisc or driver
 *   (sk_wmem_alloc_get(sk) < SKB_TRUESIZE(1) with TCP small queues; from the August 2023 net-next change, 6.6 as far
 *   as pvsim could tell, also when tcp_rtx_queue_empty()). pvsim keeps the socket's side (the cached queue, the
 *   stream's packets in the driver) here, per stream (Request::job): a packet is in the driver from dev_queue_xmit
 *   until the link has sent it (its window comes back then: pvsim's ACK clock, so both conditions coincide). So a
 *   stream whose thread moves to another vCPU (net.flow's migrate_interval) keeps its queue while it has packets in
 *   flight and re-picks on the new vCPU's map once it drains. "xps-packet": the sending vCPU's map for every packet
 *   (netdev_pick_tx for a packet without a full socket: forwarded or unconnected traffic), for comparison; "hash":
 *   skb_tx_hash always (as with no XPS map; `xps: false` is kept as the older spelling of that). Counted: a stream's
 *   queue changes (re-picks) and packets sent on another queue than the sending vCPU's XPS queue. start_xmit on the
 *   sending vCPU, one descriptor per packet (VIRTIO_F_ANY_LAYOUT / indirect descriptors: the header and the frags in
 *   one indirect table), netif_stop_subqueue when fewer than 2 + MAX_SKB_FRAGS descriptors are free (packets then
 *   wait in the qdisc until freed descriptors wake the queue). Used Tx buffers are freed by the next start_xmit on the
 *   sending vCPU and by the Tx interrupt's NAPI on the vector's vCPU (see Tx completion below).
 * - vhost handle_tx (zerocopy off: vhost-net's experimental_zcopytx module parameter defaults to 0): notifications off,
 * per packet vhost_get_vq_desc and tun_sendmsg, which copies the packet out of guest memory (tx_packet_cpu + bytes at
 * copy_rate), the used entry at once (the guest's buffer is free before the packet leaves the host), the packet to the
 * bridge and the physical link; at most VHOST_NET_WEIGHT bytes or VHOST_NET_PKT_WEIGHT packets per pass
 * (vhost_exceeds_weight requeues the handler behind the worker's other work); notifications on and a re-check when the
 * ring is empty.
 * - Host Rx: a packet from the link goes to a tap queue chosen by tun_automq_select_queue(): the queue the guest last
 *   transmitted this flow on (the tun flow table, TUN_NUM_FLOW_ENTRIES = 1024 buckets by hash; for a flow the guest
 *   receives, its ACKs, sent from the reading vCPU's XPS queue, set the entry), else reciprocal_scale(hash, queues);
 *   or hash-only steering (rx_steering = hash). It waits in the tap queue (the tfile's ptr_ring) and wakes handle_rx,
 *   which copies it into mergeable receive buffers (VIRTIO_NET_F_MRG_RXBUF: get_rx_bufs takes ceil((len + 12-byte
 *   virtio_net_hdr_mrg_rxbuf) / buffer size) buffers, num_buffers in the header: 17 for a 64 KiB GSO packet in 4 KiB
 *   buffers), rx_packet_cpu + rx_buffer_cpu per buffer + bytes at copy_rate, the same budgets as Tx; out of buffers
 *   it enables notifications and sleeps until the guest's refill kicks; the socket's wake-ups are off while a pass runs
 *   (vhost_net_disable_vq) and back on when the tap queue is empty.
 * - Guest Rx: the interrupt (skb_recv_done: callbacks off, napi_schedule) and virtnet_poll on the vector's vCPU:
 *   at most napi_weight packets per poll (rx_packet_cpu and rx_buffer_cpu per buffer: receive_mergeable, GRO, IP and
 *   TCP receive), try_fill_recv refilling every free entry with one 4 KiB buffer (refill_buffer_cpu each) when more
 *   than half the budget is free, and a kick when kick_prepare says so; napi_complete, virtqueue_enable_cb and its
 *   re-check.
 * Per queue pair: throughput, packets/s, virtqueue occupancy, kicks and interrupts sent vs suppressed, vhost passes
 * and budget hits, NAPI polls; the imbalance across pairs (max / mean throughput).
 * Leaves out: the control virtqueue and its messages (the pairs are set once), RSS / hash reporting
 * (VIRTIO_NET_F_RSS), packed rings, xmit_more
 * batching, big-packets mode (no MRG_RXBUF), the EWMA of the mergeable buffer size (fixed rx_buffer_size), vhost
 * zerocopy and busy polling, the tun flow table's ageing (3 s) and bucket chains, tap queue drops (flows are
 * window-limited), the ACK packets themselves (as net.flow), the bridge's and the physical NIC's CPU work, page pools
 * and XDP. Tx packets count against their flow's window until the link has sent them (the ACK clock).
 * Tx completion (drivers/net/virtio_net.c): with the Tx NAPI (4.12, "virtio-net: transmit napi"; napi_tx on by
 * default since "virtio-net: enable napi_tx by default", 5.3), start_xmit first frees the used buffers
 * (free_old_xmit_skbs, later free_old_xmit) on the sending vCPU and re-arms the Tx callback with
 * virtqueue_enable_cb_delayed (the device interrupts only once 3/4 of the outstanding buffers are used); the Tx
 * interrupt's NAPI (virtnet_poll_tx) frees what is left on the vector's vCPU and re-arms at last_used. Up to 5.13 the
 * callback stays on while start_xmit frees (so a buffer freed there may still raise an interrupt that finds nothing:
 * vring_interrupt's IRQ_NONE); from 5.14 ("virtio_net: disable cb aggressively", a7766ef18b33, posted April 2021: the
 * release is pvsim's reading, not checked in a tagged tree) it is off while freeing and the re-arm loops while more
 * than 3/4 are used. Left out: virtnet_poll_cleantx (the Rx NAPI also freeing its pair's Tx buffers), and napi_tx off
 * (the default before 5.3: start_xmit alone frees, the skb is orphaned so TCP sees nothing in flight below the
 * qdisc); pvsim follows 4.12+ with napi_tx on.
 * To check against the sources (written without reading them): the vhost budgets (VHOST_NET_WEIGHT,
 * VHOST_NET_PKT_WEIGHT, VHOST_NET_BATCH), handle_rx's structure, tun_automq_select_queue, virtnet_set_affinity's
 * grouping when queue pairs are fewer than vCPUs, try_fill_recv's refill threshold, experimental_zcopytx = 0, QEMU's
 * queue-size constants and tap's default of one queue. */
#pragma once

#include "models/host/cpu_host.hpp"
#include "models/host/guest_vm.hpp"
#include "models/virtio/vring.hpp"
#include "sim/component.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/params.hpp"
#include "sim/path_event.hpp"
#include "sim/probe.hpp"
#include "sim/station.hpp"
#include "sim/stats.hpp"

#include <array>
#include <cstdint>
#include <memory>

namespace pvsim {

/** Mergeable receive buffers a packet of `bytes` takes (get_rx_bufs with VIRTIO_NET_F_MRG_RXBUF): the 12-byte
 * virtio_net_hdr_mrg_rxbuf goes in front of the data. */
constexpr unsigned virtio_net_rx_buffers(std::uint32_t bytes, std::uint32_t buffer_size)
{
  return (bytes + 12 + buffer_size - 1) / buffer_size;
}
static_assert(virtio_net_rx_buffers(65536, 4096) == 17 && virtio_net_rx_buffers(1448, 4096) == 1);

/** netdev_pick_tx() for a socket's skb: the socket's cached queue (`cached`, -1 when unset) unless it is unset, out of
 * range or the skb is ooo_okay; then `pick` (get_xps_queue, else skb_tx_hash), which the socket caches. */
constexpr unsigned virtio_net_pick_tx(int cached, bool ooo_okay, unsigned real_num_tx_queues, unsigned pick)
{
  if (cached < 0 or ooo_okay or static_cast<unsigned>(cached) >= real_num_tx_queues)
    return pick;
  return static_cast<unsigned>(cached);
}
static_assert(virtio_net_pick_tx(-1, false, 4, 2) == 2 and virtio_net_pick_tx(1, false, 4, 2) == 1 and
              virtio_net_pick_tx(1, true, 4, 2) == 2 and virtio_net_pick_tx(5, false, 4, 2) == 2);

/** virtnet_set_affinity(): the vCPU group of pair q, [first, first + count), consecutive vCPUs, the first
 * (vcpus mod pairs) groups one larger. */
struct VirtioNetCpuGroup {
  int first = 0;
  int count = 1;
};
VirtioNetCpuGroup virtio_net_cpu_group(int pair, int pairs, int vcpus);

struct VirtioNetParams {
  std::string vm;
  std::string cpus;
  std::string target;
  long long queues;
  long long tx_queue_size;
  long long rx_queue_size;
  bool event_idx;
  bool xps;
  std::string tx_select;
  std::string rx_steering;
  std::string irq_affinity;
  long long napi_weight;
  double rx_buffer_bytes;
  long long vhost_weight;
  long long vhost_pkt_limit;
  long long vhost_batch;
  // guest
  double xmit_cpu_s;
  double tx_free_cpu_s;
  double rx_packet_cpu_s;
  double rx_buffer_cpu_s;
  double refill_buffer_cpu_s;
  double kick_cpu_s;
  double kick_latency_s;
  double irq_latency_s;
  double irq_cpu_s;
  // host
  double wakeup_cpu_s;
  double vhost_tx_packet_cpu_s;
  double vhost_rx_packet_cpu_s;
  double vhost_rx_buffer_cpu_s;
  double copy_Bps;
  double signal_cpu_s;
  double quantum_s;
};

class VirtioNet : public Component {
public:
  static constexpr const char* type_name = "virtio.net";
  static constexpr const char* summary =
      "virtio-net with vhost-net: per-pair Tx/Rx virtqueues, vhost workers, XPS and tun automq, NAPI.";
  using Params = VirtioNetParams;
  static const ParamTable<Params>& param_table();

  VirtioNet(std::string name, const Params& p);
  void connect() override;
  void validate() override;
  void start(Simulation& sim) override;
  void estimate_resources(ResourceEstimate& e) const override;
  std::vector<QueueView> queues() const override;
  const Probe<PathEvent>* path_probe() const override { return &path_; }
  /** A guest packet (Op::write) from net.flow, or a remote host's packet (Op::read) that crosses the link first. */
  void submit(Request* r) override;
  /** The link sent a guest packet (the ACK clock returns it to its flow), or delivered one for the guest. */
  void end_io(Request* r, double enter_s) override;
  void on_event(int kind, Request* r) override;

  unsigned num_pairs() const { return static_cast<unsigned>(pairs_.size()); }
  /** The queue the sending vCPU's XPS map names (virtnet_set_affinity's groups). */
  unsigned xps_queue(int vcpu) const { return xps_[static_cast<std::size_t>(vcpu % vm_->vcpus())]; }
  /** skb_tx_hash(): the flow hash reciprocal-scaled over the pairs. */
  unsigned hash_queue(const Request* r) const;
  /** The queue a new pick from `vcpu` gives (get_xps_queue, or skb_tx_hash with tx_select = hash or xps off). */
  unsigned fresh_tx_queue(const Request* r, int vcpu) const;
  /** tun_automq_select_queue() (or hash-only steering) for a packet from the link. */
  unsigned select_rx_queue(const Request* r) const;

private:
  enum Kind {
    xmit_done = 0, // start_xmit done on the sending vCPU: add to the Tx vring, maybe kick
    tx_kicked,     // the kick's VM exit is over
    tx_eventfd,    // the ioeventfd reaches vhost_poll: queue handle_tx
    handle_tx,     // vhost handle_tx: one pass
    tx_copied,     // tun_sendmsg copied one packet: used entry, to the link
    tx_pass_end,   // the end of the pass: signal, requeue or re-enable notifications
    tx_irqfd,      // irqfd written: the MSI-X message is on its way
    tx_interrupt,  // the message reaches the vCPU
    tx_irq,        // skb_xmit_done and the Tx NAPI: free used buffers
    tx_irq_tail,   // virtqueue_enable_cb, its re-check, waking the queue
    handle_rx,     // vhost handle_rx: one pass
    rx_copied,     // one packet copied into its buffers
    rx_pass_end,   // the end of the pass
    rx_irqfd,
    rx_interrupt,
    rx_irq,     // skb_recv_done: napi_schedule
    napi_poll,  // virtnet_poll
    napi_end,   // napi_complete_done, virtqueue_enable_cb and its re-check
    rx_deliver, // the packet is handed to the stack (net.flow)
    rx_kicked,  // the refill's kick exit is over
    rx_eventfd, // the kick reaches vhost: handle_rx_kick
    kinds = 24
  };
  /** One direction of a pair, as a Station: tx from start_xmit (or the qdisc) until the link has sent the packet, rx
   * from the link's delivery to the tap queue until NAPI takes the packet off the used ring. */
  struct Direction : public Station {
    std::uint64_t issued = 0, completed = 0;
    std::uint64_t held = 0; // tx: in start_xmit on a vCPU, or copied and on the link; rx: being copied
    RequestFifo a, b;       // tx: qdisc backlog, published on the avail ring; rx: tap queue, on the used ring
    Probe<StationEvent> events;
    // statistics (sim/stats.hpp: registered by declare_stats, restarted by the engine)
    Counter packets, bytes, buffers;
    Counter passes, budget_hits;
    Maximum max_per_pass{true};
    Counter interrupts, irq_coalesced;
    Level ring_occupancy;
    const Probe<StationEvent>& probe() const override { return events; }
    int servers() const override { return 256; }
    Occupancy occupancy() const override { return {issued, completed, a.size() + b.size() + held}; }
  };
  struct Pair {
    Pair(std::uint16_t tx_size, std::uint16_t rx_size, bool event_idx)
        : txq(tx_size, event_idx), rxq(rx_size, event_idx)
    {
    }
    Vring txq, rxq;
    Direction txd, rxd;
    std::string tx_name, rx_name; // "eth0.tx0", for the path events
    /** Packets whose used entries vhost published since its last signal, per direction (only kept while someone
     * listens to the path events). */
    std::vector<Request*> tx_unsignalled, rx_unsignalled;
    std::unique_ptr<CpuThread> worker;
    int irq_vcpu = 0;
    VirtioNetCpuGroup group;
    // guest Tx
    unsigned tx_reserved = 0; // descriptors of packets in start_xmit
    bool tx_stopped      = false;
    bool tx_irq_pending  = false;
    Counter tx_stops;
    Counter tx_freed_in_xmit;
    // vhost Tx
    bool tx_queued             = false; // VHOST_WORK_QUEUED for handle_tx
    std::uint64_t tx_pass_pkts = 0, tx_pass_bytes = 0;
    unsigned tx_done = 0; // used entries not yet signalled (done_idx)
    bool tx_exceeded = false;
    // vhost Rx
    bool rx_queued             = false;
    bool sock_polling          = true;  // vhost_net_enable_vq / disable_vq
    bool rx_wait_buffers       = false; // out of buffers: waits for the guest's kick
    unsigned rx_avail          = 0;     // buffers posted and not yet taken by vhost
    unsigned rx_done           = 0;
    std::uint64_t rx_pass_pkts = 0, rx_pass_bytes = 0;
    int rx_pass_end_why = 0; // 0 empty, 1 budget, 2 buffers
    Counter rx_buffer_waits;
    // guest Rx
    bool rx_irq_pending     = false;
    bool napi_scheduled     = false;
    std::uint64_t last_work = 0;
    Counter napi_polls, napi_budget_hits;
    Maximum napi_max{true};
    Level rx_posted;
  };
  struct FlowEntry {
    std::uint32_t hash = 0;
    int queue          = -1;
  };
  /** The sending socket's side of netdev_pick_tx, per stream (Request::job). */
  struct TxSocket {
    int queue               = -1; // sk_tx_queue_mapping (xps-flow), or the previous packet's queue
    std::uint64_t in_flight = 0;  // packets in the driver: from dev_queue_xmit until the link has sent them
  };
  int k(unsigned q, Kind kind) const { return static_cast<int>(q) * kinds + kind; }
  /** Registers the statistics, once the pairs exist (connect). */
  /** The Tx virtqueue size QEMU gives a vhost-net backend (virtio_net_max_tx_queue_size()). */
  long long tx_queue_size_used() const;
  void declare_stats();
  /** Pair q's throughput, both directions, over the window. */
  double pair_bps(std::size_t q, const StatWindow& w) const;
  unsigned rx_buffers_of(const Request* r) const;
  bool tx_room(const Pair& p) const;
  /** netdev_pick_tx for a packet of stream r->job sent from `vcpu` (tx_select), counting the re-picks. */
  unsigned pick_tx(const Request* r, int vcpu);
  TxSocket& tx_socket(int job);
  void start_xmit(unsigned q, Request* r, int vcpu);
  /** start_xmit's free_old_xmit on the sending vCPU and the Tx callback's delayed re-arm. */
  void free_old_xmit(unsigned q, int vcpu);
  /** Takes every used Tx buffer back (virtqueue_get_buf); returns how many. */
  unsigned reap_tx(Pair& p);
  bool tx_disable_cb_ = false; // the guest kernel has "virtio_net: disable cb aggressively" (5.14)
  void do_handle_tx(unsigned q);
  void tx_end_pass(unsigned q);
  void do_handle_rx(unsigned q);
  void rx_end_pass(unsigned q);
  void signal(unsigned q, bool rx);
  void interrupt(unsigned q, bool rx);
  void tx_free(unsigned q);
  void poll(unsigned q);
  void refill(unsigned q);
  double now() const;

  Params p_;
  GuestVm* vm_     = nullptr;
  CpuHost* host_   = nullptr;
  Component* link_ = nullptr;
  Simulation* sim_ = nullptr;
  std::vector<std::unique_ptr<Pair>> pairs_;
  Probe<PathEvent> path_;
  /** A path event of packet r on pair q's Tx or Rx virtqueue, with its indices, if someone listens. */
  void step(PathEvent ev, unsigned q, bool rx, std::uint32_t slot, const CpuThread* thread);
  std::vector<unsigned> xps_; // vCPU → Tx queue
  std::array<FlowEntry, 1024> flows_{};
  std::vector<TxSocket> sockets_; // by job id
  Counter tx_repicks_, tx_off_xps_;
};

} // namespace pvsim
