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
 * - Guest Tx: the queue is chosen by XPS (virtnet_set_affinity sets XPS by the pairs' vCPU groups: the sending vCPU's
 *   pair), or skb_tx_hash() (reciprocal_scale of the flow hash) with xps off; start_xmit on the sending vCPU, one
 *   descriptor per packet (VIRTIO_F_ANY_LAYOUT / indirect descriptors: the header and the frags in one indirect
 *   table), netif_stop_subqueue when fewer than 2 + MAX_SKB_FRAGS descriptors are free (packets then wait in the
 *   qdisc until freed descriptors wake the queue). Used Tx buffers are freed by the Tx interrupt's NAPI
 *   (napi_tx, free_old_xmit_skbs) on the vector's vCPU.
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
 * (VIRTIO_NET_F_RSS), packed rings, virtqueue_enable_cb_delayed on Tx (the Tx vq re-arms at last_used), xmit_more
 * batching, big-packets mode (no MRG_RXBUF), the EWMA of the mergeable buffer size (fixed rx_buffer_size), vhost
 * zerocopy and busy polling, the tun flow table's ageing (3 s) and bucket chains, tap queue drops (flows are
 * window-limited), the ACK packets themselves (as net.flow), the bridge's and the physical NIC's CPU work, page pools
 * and XDP. Tx packets count against their flow's window until the link has sent them (the ACK clock).
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
  std::vector<QueueView> queues() const override;
  /** A guest packet (Op::write) from net.flow, or a remote host's packet (Op::read) that crosses the link first. */
  void submit(Request* r) override;
  /** The link sent a guest packet (the ACK clock returns it to its flow), or delivered one for the guest. */
  void end_io(Request* r, double enter_s) override;
  void on_event(int kind, Request* r) override;

  unsigned num_pairs() const { return static_cast<unsigned>(pairs_.size()); }
  /** The Tx queue the guest picks for a packet sent from `vcpu` (XPS, or skb_tx_hash without it). */
  unsigned select_tx_queue(const Request* r, int vcpu) const;
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
    std::unique_ptr<CpuThread> worker;
    int irq_vcpu = 0;
    VirtioNetCpuGroup group;
    // guest Tx
    unsigned tx_reserved = 0; // descriptors of packets in start_xmit
    bool tx_stopped      = false;
    bool tx_irq_pending  = false;
    Counter tx_stops;
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
  int k(unsigned q, Kind kind) const { return static_cast<int>(q) * kinds + kind; }
  /** Registers the statistics, once the pairs exist (connect). */
  /** The Tx virtqueue size QEMU gives a vhost-net backend (virtio_net_max_tx_queue_size()). */
  long long tx_queue_size_used() const;
  void declare_stats();
  /** Pair q's throughput, both directions, over the window. */
  double pair_bps(std::size_t q, const StatWindow& w) const;
  unsigned rx_buffers_of(const Request* r) const;
  bool tx_room(const Pair& p) const;
  void start_xmit(unsigned q, Request* r, int vcpu);
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
  std::vector<unsigned> xps_; // vCPU → Tx queue
  std::array<FlowEntry, 1024> flows_{};
};

} // namespace pvsim
