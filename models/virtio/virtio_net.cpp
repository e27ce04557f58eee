#include "models/virtio/virtio_net.hpp"

#include "models/net/net_flow.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>

namespace pvsim {

namespace {
/** 2 + MAX_SKB_FRAGS (17): start_xmit stops the queue when fewer descriptors are free. */
constexpr unsigned tx_stop_threshold = 2 + 17;
} // namespace

VirtioNetCpuGroup virtio_net_cpu_group(int pair, int pairs, int vcpus)
{
  // virtnet_set_affinity(): stride = max(vcpus / pairs, 1), the first (vcpus % pairs) groups take one straggler more.
  int stride     = std::max(vcpus / pairs, 1);
  int stragglers = vcpus >= pairs ? vcpus % pairs : 0;
  VirtioNetCpuGroup g;
  g.count = stride + (pair < stragglers ? 1 : 0);
  g.first = (pair * stride + std::min(pair, stragglers)) % vcpus;
  return g;
}

const ParamTable<VirtioNetParams>& VirtioNet::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("vm", &Params::vm, true, "The KVM guest (guest.vm) the driver runs in.")
        .resource("cpus", &Params::cpus, true, "The host's cpu.host, where the vhost worker threads run.")
        .ref("target", &Params::target, true, "The host's physical link (net.link) behind the tap device's bridge.")
        .integer("queues", &Params::queues, 1, 1, 1024,
                 "Queue pairs the device offers (max_queue_pairs: -netdev tap,queues=N,vhost=on with "
                 "virtio-net-pci,mq=on); the driver uses min(queues, vCPUs).",
                 "QEMU net/tap.c: queues = 1 unless set; virtio_net.c virtnet_probe: min(max_queue_pairs, "
                 "num_online_cpus())")
        .integer("tx_queue_size", &Params::tx_queue_size, 256, 256, 1024,
                 "Entries of each Tx virtqueue as set on the device. With a vhost-net (tap) backend, the one modelled "
                 "here, QEMU clamps it to 256 without a word: only vhost-user (QEMU 2.10+) and vhost-vdpa (7.0+) peers "
                 "get up to 1024. The size used is in the results (tx_queue_size_used).",
                 "QEMU hw/net/virtio-net.c: VIRTIO_NET_TX_QUEUE_DEFAULT_SIZE = 256; virtio_net_device_realize() "
                 "takes MIN(virtio_net_max_tx_queue_size(), tx_queue_size)")
        .integer("rx_queue_size", &Params::rx_queue_size, 256, 256, 1024, "Entries of each Rx virtqueue.",
                 "QEMU hw/net/virtio-net.c: VIRTIO_NET_RX_QUEUE_DEFAULT_SIZE = 256")
        .flag("event_idx", &Params::event_idx, true,
              "VIRTIO_RING_F_EVENT_IDX: avail_event/used_event suppression (else the NO_NOTIFY/NO_INTERRUPT flags).",
              "QEMU DEFINE_VIRTIO_COMMON_FEATURES: event_idx=on; vhost VHOST_FEATURES")
        .flag("xps", &Params::xps, true,
              "Whether the driver sets XPS maps (virtnet_set_affinity: each pair's vCPU group). Without them every "
              "pick is skb_tx_hash, as with tx_select = hash (the older spelling of it, kept).",
              "virtio_net.c virtnet_set_affinity: netif_set_xps_queue per pair")
        .choice("tx_select", &Params::tx_select, {"xps-flow", "xps-packet", "hash"}, std::string("xps-flow"),
                "Tx queue selection. xps-flow: the socket keeps its cached queue while it has packets in the driver "
                "and re-picks by the sending vCPU's XPS map once it has none (ooo_okay); xps-packet: the sending "
                "vCPU's XPS map for every packet (a packet without a full socket); hash: skb_tx_hash, the flow hash "
                "reciprocal-scaled over the pairs, whatever the vCPU.",
                "net/core/dev.c netdev_pick_tx (sk_tx_queue_get/set, get_xps_queue, skb_tx_hash); "
                "net/ipv4/tcp_output.c __tcp_transmit_skb (skb->ooo_okay)")
        .choice("rx_steering", &Params::rx_steering, {"automq", "hash"}, std::string("automq"),
                "How the tap device picks the queue of a packet for the guest: the queue the guest last sent the "
                "flow on (tun flow table, else the hash), or the hash alone.",
                "tun.c tun_select_queue -> tun_automq_select_queue (no steering eBPF program)")
        .choice("irq_affinity", &Params::irq_affinity, {"spread", "cpu0"}, std::string("spread"),
                "vCPU of pair q's two MSI-X vectors: the first vCPU of its virtnet_set_affinity group, or vCPU 0.",
                "virtio_net.c virtnet_set_affinity: virtqueue_set_affinity for rq and sq")
        .integer("napi_weight", &Params::napi_weight, 64, 1, 1024, "Packets per virtnet_poll() (NAPI budget).",
                 "include/linux/netdevice.h: NAPI_POLL_WEIGHT = 64")
        .quantity("rx_buffer_size", Dimension::size, &Params::rx_buffer_bytes, 4096, 64, 65536,
                  "Size of one mergeable receive buffer (a 64 KiB packet takes ceil((64 KiB + 12) / size)).",
                  "virtio_net.c get_mergeable_buf_len: the EWMA of packet lengths, capped at PAGE_SIZE for bulk "
                  "traffic")
        .integer("vhost_weight", &Params::vhost_weight, 0x80000, 1, 1LL << 30,
                 "Bytes one handle_tx/handle_rx pass may move before it requeues itself.",
                 "drivers/vhost/net.c: VHOST_NET_WEIGHT = 0x80000")
        .integer("vhost_pkt_weight", &Params::vhost_pkt_limit, 256, 1, 1 << 20,
                 "Packets one handle_tx/handle_rx pass may move before it requeues itself.",
                 "drivers/vhost/net.c: VHOST_NET_PKT_WEIGHT = 256")
        .integer("vhost_batch", &Params::vhost_batch, 64, 1, 1024,
                 "Used entries vhost accumulates before it signals (vhost_net_signal_used).",
                 "drivers/vhost/net.c: VHOST_NET_BATCH = 64")
        .quantity("xmit_cpu", Dimension::duration, &Params::xmit_cpu_s, 1.5e-6, 0, 1,
                  "vCPU time of start_xmit per packet: xmit_skb, virtqueue_add_outbuf with an indirect table.",
                  "pvsim estimate")
        .quantity("tx_free_cpu", Dimension::duration, &Params::tx_free_cpu_s, 0.4e-6, 0, 1,
                  "vCPU time per transmitted packet in free_old_xmit_skbs (virtqueue_get_buf, freeing the skb).",
                  "pvsim estimate")
        .quantity("rx_packet_cpu", Dimension::duration, &Params::rx_packet_cpu_s, 3e-6, 0, 1,
                  "vCPU time per received packet in virtnet_poll: receive_mergeable, GRO, IP and TCP receive.",
                  "pvsim estimate (as xen.netfront's rx_packet_cpu)")
        .quantity("rx_buffer_cpu", Dimension::duration, &Params::rx_buffer_cpu_s, 0.2e-6, 0, 1,
                  "vCPU time per mergeable buffer of a received packet (virtqueue_get_buf, attaching the page).",
                  "pvsim estimate")
        .quantity("refill_buffer_cpu", Dimension::duration, &Params::refill_buffer_cpu_s, 0.2e-6, 0, 1,
                  "vCPU time per buffer posted by try_fill_recv (page fragment, virtqueue_add_inbuf_ctx).",
                  "pvsim estimate")
        .quantity("kick_cpu", Dimension::duration, &Params::kick_cpu_s, 2e-6, 0, 1,
                  "vCPU time of a kick: the notify register write, a VM exit handled by KVM's ioeventfd.",
                  "pvsim estimate: 1.5-3 us per lightweight MMIO/PIO exit (as virtio.blk)")
        .quantity("kick_latency", Dimension::duration, &Params::kick_latency_s, 1e-6, 0, 1,
                  "From the end of the exit to vhost_poll queueing the handler on the worker.", "pvsim estimate")
        .quantity("irq_latency", Dimension::duration, &Params::irq_latency_s, 2e-6, 0, 1,
                  "From the irqfd write to the MSI-X interrupt on the vCPU.", "pvsim estimate (as virtio.blk)")
        .quantity("irq_cpu", Dimension::duration, &Params::irq_cpu_s, 1.5e-6, 0, 1,
                  "vCPU time per interrupt: entry, vring_interrupt, EOI, exit.", "pvsim estimate (as virtio.blk)")
        .quantity("wakeup_cpu", Dimension::duration, &Params::wakeup_cpu_s, 1.5e-6, 0, 1,
                  "Host CPU per wake-up of a vhost worker (eventfd or socket wake-up, scheduling).", "pvsim estimate")
        .quantity("vhost_tx_packet_cpu", Dimension::duration, &Params::vhost_tx_packet_cpu_s, 5e-6, 0, 1,
                  "Host CPU per guest packet in handle_tx besides the copy: vhost_get_vq_desc, tun_get_user, the "
                  "bridge and the physical NIC's xmit.",
                  "pvsim estimate: calibrated so one pair tops out near 8 Gbit/s")
        .quantity("vhost_rx_packet_cpu", Dimension::duration, &Params::vhost_rx_packet_cpu_s, 5e-6, 0, 1,
                  "Host CPU per packet for the guest in handle_rx besides the copy: the tap queue, tun_recvmsg, "
                  "vhost_add_used.",
                  "pvsim estimate: calibrated so one pair tops out near 8 Gbit/s")
        .quantity("vhost_rx_buffer_cpu", Dimension::duration, &Params::vhost_rx_buffer_cpu_s, 0.3e-6, 0, 1,
                  "Host CPU per mergeable buffer in get_rx_bufs (vhost_get_vq_desc, translation).", "pvsim estimate")
        .quantity("copy_rate", Dimension::bandwidth, &Params::copy_Bps, 1.2e9, 1, 1e15,
                  "Bytes per second of vhost's copies between guest memory and the host's skbs (copy_from_iter in "
                  "tun_get_user, skb_copy_datagram_iter in tun_put_user), cache-cold.",
                  "pvsim estimate: calibrated so one pair tops out near 8 Gbit/s")
        .quantity("signal_cpu", Dimension::duration, &Params::signal_cpu_s, 1e-6, 0, 1,
                  "Host CPU of vhost_signal: the irqfd eventfd_signal.", "pvsim estimate")
        .quantity("quantum", Dimension::duration, &Params::quantum_s, 20e-6, 1e-9, 1,
                  "Most CPU work a vhost worker takes in one batch before acting on it.", "pvsim: 20us")
        .check([](const Params& p, const JsonNode& obj) {
          for (const char* key : {"tx_queue_size", "rx_queue_size"}) {
            long long n = std::string(key) == "tx_queue_size" ? p.tx_queue_size : p.rx_queue_size;
            if ((n & (n - 1)) != 0)
              obj.child(key).fail(std::string(key) + " must be a power of two (virtio_net_device_realize), got " +
                                  std::to_string(n));
          }
        });
    return tb;
  }();
  return t;
}

VirtioNet::VirtioNet(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p) {}

long long VirtioNet::tx_queue_size_used() const
{
  constexpr long long vhost_net_max_tx = 256; // VIRTIO_NET_TX_QUEUE_DEFAULT_SIZE: the peer is a tap with vhost-net
  return std::min(p_.tx_queue_size, vhost_net_max_tx);
}

void VirtioNet::connect()
{
  vm_            = &GuestVm::from_port(*this, "vm");
  host_          = &CpuHost::from_port(*this, "cpus");
  tx_disable_cb_ = not vm_->kernel().before(5, 14); // a7766ef18b33 "virtio_net: disable cb aggressively"
  link_          = port("target");
  int vcpus      = vm_->vcpus();
  int n          = std::min(static_cast<int>(p_.queues), vcpus); // virtnet_probe: curr_queue_pairs
  xps_.assign(static_cast<std::size_t>(vcpus), 0);
  for (int q = 0; q < n; ++q) {
    auto pair      = std::make_unique<Pair>(static_cast<std::uint16_t>(tx_queue_size_used()),
                                       static_cast<std::uint16_t>(p_.rx_queue_size), p_.event_idx);
    pair->group    = virtio_net_cpu_group(q, n, vcpus);
    pair->irq_vcpu = p_.irq_affinity == "spread" ? pair->group.first : 0;
    for (int c = 0; c < pair->group.count; ++c)
      xps_[static_cast<std::size_t>((pair->group.first + c) % vcpus)] = static_cast<unsigned>(q);
    pair->worker  = std::make_unique<CpuThread>(name() + ".vhost" + std::to_string(q), p_.quantum_s);
    pair->tx_name = name() + ".tx" + std::to_string(q);
    pair->rx_name = name() + ".rx" + std::to_string(q);
    pairs_.push_back(std::move(pair));
  }
  declare_stats();
}

void VirtioNet::validate()
{
  if (link_->type() != "net.link")
    fail("'target' must name the host's physical link (net.link), got '" + link_->name() + "' (" + link_->type() + ")",
         "target");
}

void VirtioNet::start(Simulation& sim)
{
  sim_ = &sim;
  for (auto& p : pairs_) {
    host_->run(*p->worker, sim.events());
    // virtnet_open -> try_fill_recv: every Rx entry gets a buffer (the device is not kicked before DRIVER_OK).
    for (unsigned i = 0; i < p->rxq.num(); ++i)
      p->rxq.add(1);
    p->rxq.kick_prepare();
    p->rxq.clear_counters();
    p->rx_avail = p->rxq.num();
    p->rx_posted.set(sim.events().now(), p->rx_avail); // the level starts at the full ring, not at 0
  }
}

double VirtioNet::now() const
{
  return sim_->events().now();
}

unsigned VirtioNet::rx_buffers_of(const Request* r) const
{
  return virtio_net_rx_buffers(r->size_bytes, static_cast<std::uint32_t>(p_.rx_buffer_bytes));
}

bool VirtioNet::tx_room(const Pair& p) const
{
  return p.txq.num_free() >= p.tx_reserved + tx_stop_threshold;
}

void VirtioNet::submit(Request* r)
{
  double t = now();
  if (r->op == Op::read) { // from the remote host: over the link to the host's NIC, then the tap device
    r->push_end_io(this, t);
    link_->submit(r);
    return;
  }
  int vcpu   = r->cpu < 0 ? 0 : r->cpu % vm_->vcpus();
  unsigned q = pick_tx(r, vcpu);
  r->queue   = static_cast<int>(q);
  Pair& p    = *pairs_[q];
  r->stage_s = t;
  p.txd.issued++;
  p.txd.events.emit({StationEvent::What::arrive, t, r, t});
  if (p.tx_stopped) { // the qdisc holds it until the queue wakes
    p.txd.a.push(r);
    return;
  }
  start_xmit(q, r, vcpu);
}

void VirtioNet::on_event(int kind, Request* r)
{
  auto q   = static_cast<unsigned>(kind / kinds);
  Pair& p  = *pairs_[q];
  double t = now();
  switch (static_cast<Kind>(kind % kinds)) {
  case xmit_done: // free_old_xmit, then virtqueue_add_outbuf: one descriptor; virtqueue_kick_prepare
    p.tx_reserved--;
    p.txd.held--;
    free_old_xmit(q, r->cpu);
    p.txq.add(1);
    p.txd.b.push(r);
    p.txd.events.emit({StationEvent::What::start, t, r, r->stage_s});
    p.txd.ring_occupancy.set(t, p.txq.num() - p.txq.num_free());
    if (bool kick = p.txq.kick_prepare(); kick or path_.connected()) {
      if (path_.connected())
        step(PathEvent(PathEvent::What::request_pushed, t, r, kick), q, false, p.txq.indices().req_prod - 1,
             &vm_->vcpu(r->cpu));
      if (kick)
        vm_->vcpu(r->cpu).post(p_.kick_cpu_s, this, k(q, tx_kicked));
    }
    break;
  case tx_kicked:
    sim_->events().schedule_in(p_.kick_latency_s, this, k(q, tx_eventfd));
    break;
  case tx_eventfd: // handle_tx_kick queued unless already queued
    if (not p.tx_queued) {
      p.tx_queued = true;
      p.worker->post(p_.wakeup_cpu_s, this, k(q, handle_tx));
    }
    break;
  case handle_tx:
    do_handle_tx(q);
    break;
  case tx_copied: // vhost_add_used (zerocopy off: the buffer is free once copied); the skb to the bridge and NIC
    p.txq.push_used();
    if (path_.connected()) {
      PathEvent ev(PathEvent::What::response_pushed, t, r);
      ev.signal_later = true;
      step(ev, q, false, p.txq.indices().rsp_prod - 1, p.worker.get());
      p.tx_unsignalled.push_back(r);
    }
    if (++p.tx_done >= static_cast<unsigned>(p_.vhost_batch))
      signal(q, false);
    r->push_end_io(this, t);
    link_->submit(r);
    break;
  case tx_pass_end:
    tx_end_pass(q);
    break;
  case tx_irqfd:
    sim_->events().schedule_in(p_.irq_latency_s, this, k(q, tx_interrupt));
    break;
  case tx_interrupt:
    interrupt(q, false);
    break;
  case tx_irq: // skb_xmit_done: callbacks off, the Tx NAPI frees what was used
    p.tx_irq_pending = false;
    ++p.txd.interrupts;
    if (not p.txq.more_used())
      break;
    p.txq.interrupt_taken();
    tx_free(q);
    break;
  case tx_irq_tail:
    if (not p.txq.enable_cb()) {
      tx_free(q);
      break;
    }
    if (p.tx_stopped and tx_room(p)) { // netif_tx_wake_queue: the qdisc sends what it held, from this vCPU
      p.tx_stopped = false;
      while (not p.txd.a.empty() and not p.tx_stopped)
        start_xmit(q, p.txd.a.pop(), p.irq_vcpu);
    }
    break;
  case handle_rx:
    do_handle_rx(q);
    break;
  case rx_copied: { // vhost_add_used for each buffer of the packet (batched signal)
    unsigned n = rx_buffers_of(r);
    for (unsigned i = 0; i < n; ++i)
      p.rxq.push_used();
    if (path_.connected()) {
      PathEvent ev(PathEvent::What::response_pushed, t, r);
      ev.signal_later = true;
      step(ev, q, true, p.rxq.indices().rsp_prod - n, p.worker.get());
      p.rx_unsignalled.push_back(r);
    }
    p.rxd.held--;
    p.rxd.b.push(r);
    p.rxd.ring_occupancy.set(t, p.rxd.b.size()); // a packet more on the used ring, until NAPI takes it
    p.rxd.events.emit({StationEvent::What::start, t, r, r->stage_s});
    p.rx_done += n;
    if (p.rx_done > static_cast<unsigned>(p_.vhost_batch))
      signal(q, true);
    break;
  }
  case rx_pass_end:
    rx_end_pass(q);
    break;
  case rx_irqfd:
    sim_->events().schedule_in(p_.irq_latency_s, this, k(q, rx_interrupt));
    break;
  case rx_interrupt:
    interrupt(q, true);
    break;
  case rx_irq: // skb_recv_done -> virtqueue_napi_schedule
    p.rx_irq_pending = false;
    ++p.rxd.interrupts;
    if (not p.rxq.more_used() or p.napi_scheduled)
      break;
    p.rxq.interrupt_taken();
    p.rxq.disable_cb();
    p.napi_scheduled = true;
    poll(q);
    break;
  case napi_poll:
    poll(q);
    break;
  case napi_end:
    if (p.last_work >= static_cast<std::uint64_t>(p_.napi_weight)) { // budget used up: polled again
      ++p.napi_budget_hits;
      vm_->vcpu(p.irq_vcpu).post(0, this, k(q, napi_poll));
    } else if (not p.rxq.enable_cb()) { // virtqueue_napi_complete: more came in, poll again
      p.rxq.disable_cb();
      vm_->vcpu(p.irq_vcpu).post(0, this, k(q, napi_poll));
    } else {
      p.napi_scheduled = false;
    }
    break;
  case rx_deliver: {
    // The reader's ACKs for this flow leave on its vCPU's XPS queue (a pure ACK finds nothing of the socket in the
    // driver: ooo_okay): tun_flow_update records that queue.
    std::uint32_t h                 = NetFlow::skb_hash(r);
    flows_[h & (flows_.size() - 1)] = {h, static_cast<int>(fresh_tx_queue(r, r->cpu < 0 ? 0 : r->cpu))};
    r->end_io();
    break;
  }
  case rx_kicked:
    sim_->events().schedule_in(p_.kick_latency_s, this, k(q, rx_eventfd));
    break;
  case rx_eventfd: // handle_rx_kick
    p.rx_wait_buffers = false;
    if (not p.rx_queued) {
      p.rx_queued = true;
      p.worker->post(p_.wakeup_cpu_s, this, k(q, handle_rx));
    }
    break;
  default:
    break;
  }
}

void VirtioNet::interrupt(unsigned q, bool rx)
{
  Pair& p       = *pairs_[q];
  bool& pending = rx ? p.rx_irq_pending : p.tx_irq_pending;
  if (pending) { // the vector is already pending in the local APIC: the message merges
    ++(rx ? p.rxd : p.txd).irq_coalesced;
    return;
  }
  pending = true;
  vm_->vcpu(p.irq_vcpu).post(p_.irq_cpu_s, this, k(q, rx ? rx_irq : tx_irq));
}

void VirtioNet::poll(unsigned q)
{
  Pair& p      = *pairs_[q];
  CpuThread& v = vm_->vcpu(p.irq_vcpu);
  double t     = now();
  ++p.napi_polls;
  std::uint64_t work = 0;
  while (work < static_cast<std::uint64_t>(p_.napi_weight) and p.rxq.more_used()) {
    Request* r = p.rxd.b.pop();
    unsigned n = rx_buffers_of(r);
    for (unsigned i = 0; i < n; ++i)
      p.rxq.get_buf(1);
    p.rxd.completed++;
    ++p.rxd.packets;
    p.rxd.bytes += r->size_bytes;
    p.rxd.buffers += n;
    p.rxd.events.emit({StationEvent::What::depart, t, r, r->stage_s});
    v.post(p_.rx_packet_cpu_s + n * p_.rx_buffer_cpu_s, this, k(q, rx_deliver), r);
    work++;
    if (path_.connected()) {
      PathEvent ev(PathEvent::What::response_taken, t, r);
      ev.batch = static_cast<std::uint32_t>(work);
      step(ev, q, true, p.rxq.indices().rsp_cons - n, &v);
    }
  }
  p.napi_max.sample(static_cast<double>(work));
  p.last_work = work;
  p.rxd.ring_occupancy.set(t, p.rxd.b.size());
  refill(q);
  v.post(0, this, k(q, napi_end));
}

void VirtioNet::refill(unsigned q)
{
  Pair& p = *pairs_[q];
  // try_fill_recv when more than half the budget's worth of entries is free.
  if (p.rxq.num_free() <= std::min<unsigned>(static_cast<unsigned>(p_.napi_weight), p.rxq.num()) / 2)
    return;
  unsigned n = p.rxq.num_free();
  for (unsigned i = 0; i < n; ++i)
    p.rxq.add(1);
  p.rx_avail += n;
  p.rx_posted.set(now(), p.rx_avail);
  CpuThread& v = vm_->vcpu(p.irq_vcpu);
  v.post(n * p_.refill_buffer_cpu_s, nullptr, 0);
  bool kick = p.rxq.kick_prepare();
  if (path_.connected()) // buffers, not a packet: the indices move (the trace's counters), no request's step
    step(PathEvent(PathEvent::What::request_pushed, now(), nullptr, kick), q, true, p.rxq.indices().req_prod - n, &v);
  if (kick)
    v.post(p_.kick_cpu_s, this, k(q, rx_kicked));
}

void VirtioNet::end_io(Request* r, double)
{
  double t = now();
  if (r->op == Op::write) { // the link sent a guest packet: its flow's window comes back
    Pair& p = *pairs_[static_cast<std::size_t>(r->queue)];
    tx_socket(r->job).in_flight--;
    p.txd.held--;
    p.txd.completed++;
    ++p.txd.packets;
    p.txd.bytes += r->size_bytes;
    p.txd.events.emit({StationEvent::What::depart, t, r, r->stage_s});
    r->end_io();
    return;
  }
  // A packet for the guest reached the host's NIC: the bridge hands it to the tap device's chosen queue.
  unsigned q = select_rx_queue(r);
  r->queue   = static_cast<int>(q);
  Pair& p    = *pairs_[q];
  r->stage_s = t;
  p.rxd.issued++;
  p.rxd.events.emit({StationEvent::What::arrive, t, r, t});
  p.rxd.a.push(r);
  if (p.sock_polling and not p.rx_queued) { // the socket's wake-up: vhost_poll_queue
    p.rx_queued = true;
    p.worker->post(p_.wakeup_cpu_s, this, k(q, handle_rx));
  }
}

std::vector<QueueView> VirtioNet::queues() const
{
  std::vector<QueueView> out;
  for (std::size_t q = 0; q < pairs_.size(); ++q) {
    out.push_back({pairs_[q]->tx_name, &pairs_[q]->txd});
    out.push_back({pairs_[q]->rx_name, &pairs_[q]->rxd});
  }
  return out;
}

void VirtioNet::step(PathEvent ev, unsigned q, bool rx, std::uint32_t slot, const CpuThread* thread)
{
  const Pair& p  = *pairs_[q];
  const Vring& v = rx ? p.rxq : p.txq;
  bool push      = ev.what == PathEvent::What::request_pushed;
  // The kick: a write to the queue's notify address, KVM's ioeventfd wakes vhost; the interrupt: vhost writes the
  // irqfd, an MSI-X message on the queue's vector (virtio_net's vectors: config, then rx0, tx0, rx1, tx1...).
  ev.ring       = rx ? &p.rx_name : &p.tx_name;
  ev.channel    = push ? "ioeventfd" : "MSI-X vector";
  ev.channel_id = push ? static_cast<int>(2 * q + (rx ? 0 : 1)) : static_cast<int>(1 + 2 * q + (rx ? 0 : 1));
  ev.thread     = thread;
  ev.idx        = v.indices();
  ev.slot       = ev.idx.size > 0 ? slot % ev.idx.size : slot;
  path_.emit(ev);
}

double VirtioNet::pair_bps(std::size_t q, const StatWindow& w) const
{
  const Pair& p = *pairs_[q];
  return w.per_second(8.0 * static_cast<double>(p.txd.bytes.get() + p.rxd.bytes.get()));
}

void VirtioNet::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/queue_pairs", [this] { return pairs_.size(); }, "queue pairs the driver uses (min(queues, vCPUs))");
  st.add("/tx_queue_repicks", tx_repicks_, "re-picks",
         "times a stream's Tx queue changed from its previous packet's (xps-flow: the socket's cached queue re-picked "
         "once it had nothing in the driver; xps-packet: its packets followed its thread to another vCPU's queue)");
  st.add("/tx_packets_off_xps_queue", tx_off_xps_, "packets",
         "packets sent on another queue than the one the sending vCPU's XPS map names");
  st.info(
      "/tx_queue_size_used", [this] { return tx_queue_size_used(); },
      "Tx virtqueue entries after QEMU's clamp for a vhost-net backend (virtio_net_max_tx_queue_size(): 256)");
  for (std::size_t q = 0; q < pairs_.size(); ++q) {
    Pair& p          = *pairs_[q];
    std::string pair = "/queues/" + std::to_string(q) + "/";
    st.info(
        pair + "pair", [q] { return q; }, "queue pair index");
    st.info(
        pair + "irq_vcpu", [&p] { return p.irq_vcpu; }, "vCPU of the pair's two MSI-X vectors");
    st.info(
        pair + "xps_vcpus",
        [&p] {
          return json{p.group.first, p.group.first + p.group.count - 1};
        },
        "first and last vCPU of the pair's group (XPS and interrupt affinity)");
    st.formula(pair + "vhost_utilization", p.worker->utilization(), "CPU s/s",
               "CPU time of the pair's vhost worker per second of the window");
    st.formula(
        pair + "throughput_bps", [this, q](const StatWindow& w) { return json(pair_bps(q, w)); }, "bit/s",
        "both directions of the pair");
    for (bool rx : {false, true}) {
      Direction& d   = rx ? p.rxd : p.txd;
      Vring& v       = rx ? p.rxq : p.txq;
      std::string dp = pair + (rx ? "rx/" : "tx/");
      st.track(d.bytes); // behind the throughputs
      st.track(d.packets);
      st.formula(
          dp + "throughput_bps",
          [&d](const StatWindow& w) { return json(w.per_second(8.0 * static_cast<double>(d.bytes.get()))); }, "bit/s",
          rx ? "received by the guest (taken off the used ring by NAPI)" : "sent by the guest (by the link)");
      st.formula(
          dp + "packets_per_s",
          [&d](const StatWindow& w) { return json(w.per_second(static_cast<double>(d.packets.get()))); }, "packets/s",
          rx ? "packets the guest received" : "packets the guest sent");
      st.add(dp + "kicks", v.stat_kicks(), "kicks", "guest kicks (virtqueue_kick_prepare said notify)");
      st.add(dp + "kicks_suppressed", v.stat_kicks_suppressed(), "kicks", "kicks avail_event suppressed");
      st.add(dp + "interrupts_sent", v.stat_notifications(), "interrupts", "vhost signals (irqfd writes)");
      st.add(dp + "interrupts_suppressed", v.stat_notifications_suppressed(), "interrupts",
             "vhost signals used_event suppressed");
      st.add(dp + "interrupts_taken", d.interrupts, "interrupts", "interrupts run on the vector's vCPU");
      st.add(dp + "interrupts_coalesced", d.irq_coalesced, "interrupts",
             "MSI-X messages merged into one already pending in the local APIC");
      st.add(dp + "vhost_passes", d.passes, "passes", rx ? "handle_rx passes" : "handle_tx passes");
      st.add(dp + "vhost_budget_exhausted", d.budget_hits, "passes", "passes ended by vhost_exceeds_weight (requeued)");
      st.add(dp + "vhost_max_packets_per_pass", d.max_per_pass, "packets", "most packets one vhost pass took");
    }
    st.add(pair + "tx/mean_descriptors_in_use", p.txd.ring_occupancy, "descriptors",
           "time-averaged Tx descriptors in use (added, not yet freed by the Tx NAPI)");
    st.add(pair + "tx/queue_stops", p.tx_stops, "stops", "netif_stop_subqueue: too few free descriptors");
    st.add(pair + "tx/freed_in_xmit", p.tx_freed_in_xmit, "buffers",
           "used Tx buffers start_xmit freed on the sending vCPU (free_old_xmit), not the Tx interrupt's NAPI");
    st.track(p.rxd.buffers);
    st.formula(
        pair + "rx/buffers_per_packet",
        [&p](const StatWindow&) {
          return json(p.rxd.packets.get()
                          ? static_cast<double>(p.rxd.buffers.get()) / static_cast<double>(p.rxd.packets.get())
                          : 0.0);
        },
        "buffers", "mergeable receive buffers per packet received");
    st.add(pair + "rx/mean_buffers_posted", p.rx_posted, "buffers",
           "time-averaged receive buffers posted and not yet taken by vhost");
    st.add(pair + "rx/mean_used_packets_pending", p.rxd.ring_occupancy, "packets",
           "time-averaged packets on the used ring not yet taken by NAPI");
    st.add(pair + "rx/vhost_waits_for_buffers", p.rx_buffer_waits, "passes",
           "handle_rx passes that ran out of receive buffers");
    st.add(pair + "rx/napi_polls", p.napi_polls, "polls", "virtnet_poll runs");
    st.add(pair + "rx/napi_budget_exhausted", p.napi_budget_hits, "polls", "polls that used up napi_weight");
    st.add(pair + "rx/napi_max_packets_per_poll", p.napi_max, "packets", "most packets one poll took");
  }
  st.formula(
      "/throughput_bps",
      [this](const StatWindow& w) {
        double sum = 0;
        for (std::size_t q = 0; q < pairs_.size(); ++q)
          sum += pair_bps(q, w);
        return json(sum);
      },
      "bit/s", "every pair, both directions");
  st.formula(
      "/queue_imbalance",
      [this](const StatWindow& w) {
        double max_bps = 0, sum_bps = 0;
        for (std::size_t q = 0; q < pairs_.size(); ++q) {
          double bps = pair_bps(q, w);
          max_bps    = std::max(max_bps, bps);
          sum_bps += bps;
        }
        double mean = pairs_.empty() ? 0.0 : sum_bps / static_cast<double>(pairs_.size());
        return json(mean > 0 ? max_bps / mean : 0.0);
      },
      "ratio", "max / mean throughput across the pairs (0 without traffic)");
}

PVSIM_REGISTER_MODEL(VirtioNet);

} // namespace pvsim
