#include "models/xen/net/xen_netfront.hpp"

#include "models/net/net_flow.hpp"
#include "models/xen/evtchn_placement.hpp"
#include "models/xen/net/xen_netback.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>

namespace pvsim::xen {

const ParamTable<XenNetfrontParams>& XenNetfront::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("vm", &Params::vm, true, "The domU (guest.vm) the frontend runs in.")
        .ref("backend", &Params::backend, true, "The xen.netback serving this vif.")
        .integer("max_queues", &Params::max_queues, 0, 0, 1024, "xen_netfront.max_queues; 0: min(8, the domU's vCPUs).",
                 "xen-netfront.c: MAX_QUEUES_DEFAULT = 8, netif_init()")
        .flag("control_ring", &Params::control_ring, false,
              "Set up the control ring and ask for the Toeplitz hash (Linux netfront does not; Windows PV drivers do).",
              "xen-netfront.c: no ctrl-ring-ref")
        .choice("irq_affinity", &Params::irq_affinity, EvtchnPlacement::policies(), std::string("default"),
                "vCPU of each event channel (models/xen/evtchn_placement.hpp), bound Tx then Rx per queue with split "
                "channels: default follows the domU's kernel (vCPU 0 up to 5.10, balance from 5.11), balance (the "
                "vCPU with the fewest channels, select_target_cpu()), cpu0, or spread (queue q's channels on vCPU "
                "q mod vCPUs, as irqbalance places them).",
                "Linux events_base.c: xen_irq_init() up to 5.10, select_target_cpu() from 5.11 (88f0a9d06644); "
                "xen-netfront.c setup_netfront_split()")
        .integer("preceding_channels", &Params::preceding_channels, 2, 0, 4096,
                 "With balance: event channels the domU bound before this vif's (xenbus, console, other devices).",
                 "a PV domU's xenbus and hvc_console channels")
        .integer("napi_weight", &Params::napi_weight, 64, 1, 1024, "Packets per xennet_poll() (NAPI budget).",
                 "include/linux/netdevice.h: NAPI_POLL_WEIGHT = 64")
        .quantity("xmit_cpu", Dimension::duration, &Params::xmit_cpu_s, 2e-6, 0, 1,
                  "vCPU time of xennet_start_xmit() per packet.", "pvsim estimate")
        .quantity("slot_cpu", Dimension::duration, &Params::slot_cpu_s, 0.15e-6, 0, 1,
                  "Per Tx slot: gnttab_grant_foreign_access_ref and the request.", "pvsim estimate")
        .quantity("gc_packet_cpu", Dimension::duration, &Params::gc_packet_cpu_s, 0.5e-6, 0, 1,
                  "Per packet in xennet_tx_buf_gc(): freeing the skb.", "pvsim estimate")
        .quantity("gc_slot_cpu", Dimension::duration, &Params::gc_slot_cpu_s, 0.1e-6, 0, 1,
                  "Per Tx response: gnttab_end_foreign_access_ref.", "pvsim estimate")
        .quantity("rx_packet_cpu", Dimension::duration, &Params::rx_packet_cpu_s, 3e-6, 0, 1,
                  "Per received packet in xennet_poll(): building the skb, GRO, IP and TCP receive.", "pvsim estimate")
        .quantity("rx_slot_cpu", Dimension::duration, &Params::rx_slot_cpu_s, 0.3e-6, 0, 1,
                  "Per Rx response: ending the grant, attaching the page.", "pvsim estimate")
        .quantity("refill_slot_cpu", Dimension::duration, &Params::refill_slot_cpu_s, 0.2e-6, 0, 1,
                  "Per buffer posted by xennet_alloc_rx_buffers(): page allocation and grant.", "pvsim estimate")
        .quantity("notify_cpu", Dimension::duration, &Params::notify_cpu_s, 0.5e-6, 0, 1,
                  "vCPU time of the notify hypercall (EVTCHNOP_send).", "pvsim estimate")
        .quantity("irq_cpu", Dimension::duration, &Params::irq_cpu_s, 1.5e-6, 0, 1,
                  "vCPU time per upcall: event dispatch, handler entry and exit, late EOI.", "pvsim estimate")
        .quantity("evtchn_latency", Dimension::duration, &Params::evtchn_latency_s, 2e-6, 0, 1,
                  "From the backend's notification to the upcall on the bound vCPU.", "pvsim estimate")
        .quantity("xenstore_step", Dimension::duration, &Params::xenstore_step_s, 100e-6, 0, 10,
                  "Simulated time of each handshake step, for the state transitions' time stamps.", "pvsim estimate");
    return tb;
  }();
  return t;
}

XenNetfront::XenNetfront(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p) {}

void XenNetfront::connect()
{
  vm_   = &GuestVm::from_port(*this, "vm");
  back_ = dynamic_cast<XenNetback*>(port("backend"));
  if (back_ == nullptr)
    fail("'backend' must name a xen.netback component", "backend");
  NetfrontConfig front;
  front.max_queues   = static_cast<unsigned>(p_.max_queues);
  front.online_cpus  = static_cast<unsigned>(vm_->vcpus());
  front.control_ring = p_.control_ring;
  NetifHandshake hs(store_, VifDevice{}, back_->config(), front);
  hs.run(0.0, p_.xenstore_step_s);
  if (not hs.errors().empty())
    fail("the XenStore handshake with '" + back_->name() + "' failed: " + hs.errors().front());
  negotiation_ = hs.result();
  transitions_ = hs.timeline();
  // talk_to_netback() sets the queues up in order; setup_netfront_split() binds the Tx channel, then the Rx one.
  EvtchnPlacement placement(p_.irq_affinity, vm_->kernel(), vm_->vcpus(), static_cast<int>(p_.preceding_channels));
  irq_policy_ = placement.policy();
  for (unsigned q = 0; q < negotiation_.num_queues; ++q) {
    unsigned tx_vcpu = placement.bind(q);
    unsigned rx_vcpu = negotiation_.split_event_channels ? placement.bind(q) : tx_vcpu;
    queues_.push_back(std::make_unique<VifQueue>(tx_vcpu, rx_vcpu, negotiation_.split_event_channels));
    queues_.back()->tx_name = name() + ".tx" + std::to_string(queues_.size() - 1);
    queues_.back()->rx_name = name() + ".rx" + std::to_string(queues_.size() - 1);
    if (q < negotiation_.queues.size()) { // talk_to_netback()'s ring-refs and event channels; dom0's ports unknown
      const NetifQueue& nq = negotiation_.queues[q];
      queues_.back()->tx.set_negotiated({nq.tx_ring_ref}, nq.tx_event_channel);
      queues_.back()->rx.set_negotiated({nq.rx_ring_ref}, nq.rx_event_channel);
    }
  }
  last_work_.assign(queues_.size(), 0);
  declare_stats();
  back_->attach(*this);
}

void XenNetfront::start(Simulation& sim)
{
  sim_ = &sim;
  // xennet_connect(): every Rx ring starts with all its buffers posted.
  for (auto& b : queues_) {
    b->rx.push_requests(b->rx.ring().size());
    b->rx_req_event = b->rx.ring().req_prod() + 1;
  }
}

unsigned XenNetfront::select_queue(const Request* r) const
{
  return netfront_select_queue(NetFlow::skb_hash(r), num_queues());
}

bool XenNetfront::tx_slot_available(const VifQueue& b) const
{
  // netfront_tx_slot_available(): room for a maximal packet.
  return b.tx.ring().occupancy() + b.tx_reserved < b.tx.ring().size() - netif_nr_slots_min - 1;
}

void XenNetfront::submit(Request* r)
{
  if (r->op == Op::read) { // a packet from the remote host: it reaches us through the link and netback
    back_->submit(r);
    return;
  }
  unsigned q  = select_queue(r);
  r->queue    = static_cast<int>(q);
  VifQueue& b = *queues_[q];
  double now  = sim_->events().now();
  r->stage_s  = now;
  b.txd.issued++;
  b.txd.events.emit({StationEvent::What::arrive, now, r, now});
  if (b.tx_stopped) { // the qdisc keeps it until the queue wakes
    b.txd.a.push(r);
    return;
  }
  start_xmit(q, r, r->cpu < 0 ? 0 : r->cpu);
}

void XenNetfront::start_xmit(unsigned q, Request* r, int vcpu)
{
  VifQueue& b    = *queues_[q];
  unsigned slots = tx_slots_of(r);
  b.tx_reserved += slots;
  b.txd.held++;
  r->cpu = vcpu; // the vCPU that runs the xmit (and the notify hypercall)
  vm_->vcpu(vcpu).post(p_.xmit_cpu_s + slots * p_.slot_cpu_s, this, k(q, xmit_done), r);
  if (not tx_slot_available(b)) {
    b.tx_stopped = true; // netif_tx_stop_queue()
    ++b.tx_stops;
  }
}

void XenNetfront::on_event(int kind, Request* r)
{
  auto q      = static_cast<unsigned>(kind / kinds);
  VifQueue& b = *queues_[q];
  double now  = sim_->events().now();
  switch (kind % kinds) {
  case xmit_done: {
    int vcpu       = r->cpu;
    unsigned slots = tx_slots_of(r);
    b.tx_reserved -= slots;
    b.txd.held--;
    bool notify = b.tx.push_requests(slots);
    b.txd.b.push(r);
    if (path_.connected())
      path_.emit(b.step(PathEvent::What::request_pushed, now, r, notify, false, b.tx.ring().req_prod() - slots,
                        &vm_->vcpu(vcpu)));
    b.txd.events.emit({StationEvent::What::start, now, r, r->stage_s});
    b.txd.ring_occupancy.set(now, b.tx.ring().occupancy());
    if (notify) {
      vm_->vcpu(vcpu).post(p_.notify_cpu_s, nullptr, 0);
      back_->notify_from_frontend(q, false);
    }
    break;
  }
  case irq_tx: // the upcall reaches the vCPU: the handler runs after what the vCPU is doing
  case irq_rx:
    irq_vcpu(b, kind % kinds == irq_rx).post(p_.irq_cpu_s, this, k(q, kind % kinds == irq_rx ? hnd_rx : hnd_tx));
    break;
  case hnd_tx:
  case hnd_rx:
    handle_irq(q, kind % kinds == hnd_rx);
    break;
  case gc_done:
  case rx_deliver:
    r->end_io();
    break;
  case eoi_tx:
  case eoi_rx: {
    bool rx_dir = kind % kinds == eoi_rx;
    if (b.evtchn(rx_dir).lateeoi(XenChannel::End::frontend))
      irq_vcpu(b, rx_dir).post(p_.irq_cpu_s, this, k(q, rx_dir and b.split ? hnd_rx : hnd_tx));
    break;
  }
  case napi_poll:
    poll(q);
    break;
  case napi_end:
    if (last_work_[q] >= static_cast<std::uint64_t>(p_.napi_weight)) { // budget used up: NAPI polls again
      ++b.napi_budget_hits;
      irq_vcpu(b, true).post(0, this, k(q, napi_poll));
    } else if (b.rx.ring().final_check_for_responses()) { // napi_complete_done(), then RING_FINAL_CHECK_FOR_RESPONSES
      irq_vcpu(b, true).post(0, this, k(q, napi_poll));
    } else {
      b.napi_scheduled = false;
    }
    break;
  default:
    break;
  }
}

void XenNetfront::notify_from_backend(unsigned q, bool rx_dir)
{
  VifQueue& b = *queues_[q];
  // The pending bit is set at once (evtchn_2l_set_pending); the upcall reaches the vCPU after evtchn_latency.
  if (b.evtchn(rx_dir).frontend().notify())
    sim_->events().schedule_in(p_.evtchn_latency_s, this, k(q, rx_dir and b.split ? irq_rx : irq_tx));
}

void XenNetfront::handle_irq(unsigned q, bool rx_dir)
{
  VifQueue& b  = *queues_[q];
  CpuThread& v = irq_vcpu(b, rx_dir);
  b.evtchn(rx_dir).lateeoi_ack(XenChannel::End::frontend); // lateeoi_ack_dynirq(): mask, clear pending
  ++b.fe_upcalls;
  bool tx_side = not b.split or not rx_dir;
  bool rx_side = not b.split or rx_dir;
  if (tx_side) // xennet_tx_interrupt(): xennet_tx_buf_gc()
    tx_buf_gc(q);
  // xennet_rx_interrupt(): napi_schedule()
  if (rx_side and not b.napi_scheduled and b.rx.ring().unconsumed_responses() > 0) {
    b.napi_scheduled = true;
    v.post(0, this, k(q, napi_poll));
  }
  v.post(0, this, k(q, rx_dir and b.split ? eoi_rx : eoi_tx)); // xen_irq_lateeoi()
}

void XenNetfront::tx_buf_gc(unsigned q)
{
  VifQueue& b         = *queues_[q];
  CpuThread& v        = irq_vcpu(b, false);
  double now          = sim_->events().now();
  std::uint32_t taken = 0;
  do {
    while (b.tx.ring().unconsumed_responses() > 0) {
      Request* r     = b.txd.c.pop();
      unsigned slots = tx_slots_of(r);
      b.txd.consume(b.tx.ring(), r, slots, now);
      if (path_.connected()) {
        PathEvent ev =
            b.step(PathEvent::What::response_taken, now, r, false, false, b.tx.ring().rsp_cons() - slots, &v);
        ev.batch = ++taken;
        path_.emit(ev);
      }
      v.post(p_.gc_packet_cpu_s + slots * p_.gc_slot_cpu_s, this, k(q, gc_done), r);
    }
  } while (b.tx.ring().final_check_for_responses());
  b.txd.ring_occupancy.set(now, b.tx.ring().occupancy());
  // xennet_maybe_wake_tx(): the qdisc sends what it held, from this CPU.
  if (b.tx_stopped and tx_slot_available(b)) {
    b.tx_stopped = false;
    while (not b.txd.a.empty() and not b.tx_stopped)
      start_xmit(q, b.txd.a.pop(), static_cast<int>(b.tx.frontend().bound_vcpu()));
  }
}

void XenNetfront::poll(unsigned q)
{
  VifQueue& b  = *queues_[q];
  CpuThread& v = irq_vcpu(b, true);
  double now   = sim_->events().now();
  ++b.napi_polls;
  std::uint64_t work = 0;
  while (work < static_cast<std::uint64_t>(p_.napi_weight) and b.rx.ring().unconsumed_responses() > 0) {
    Request* r     = b.rxd.c.pop();
    unsigned slots = rx_slots_of(r);
    b.rxd.consume(b.rx.ring(), r, slots, now);
    v.post(p_.rx_packet_cpu_s + slots * p_.rx_slot_cpu_s, this, k(q, rx_deliver), r);
    work++;
    if (path_.connected()) {
      PathEvent ev = b.step(PathEvent::What::response_taken, now, r, false, true, b.rx.ring().rsp_cons() - slots, &v);
      ev.batch     = static_cast<std::uint32_t>(work);
      path_.emit(ev);
    }
  }
  b.rxd.ring_occupancy.set(now, b.rx.ring().rsp_prod_pvt() - b.rx.ring().rsp_cons());
  b.napi_max_work.sample(static_cast<double>(work));
  last_work_[q] = work;
  refill(q);
  v.post(0, this, k(q, napi_end));
}

void XenNetfront::refill(unsigned q)
{
  VifQueue& b  = *queues_[q];
  CpuThread& v = irq_vcpu(b, true);
  unsigned n   = b.rx.ring().size() - b.rx.ring().occupancy();
  if (n == 0)
    return;
  RingIdx old_prod = b.rx.ring().req_prod();
  b.rx.push_requests(n); // moves req_prod; netback's req_event is rx_req_event (see VifQueue), not the ring's
  RingIdx new_prod = b.rx.ring().req_prod();
  v.post(n * p_.refill_slot_cpu_s, nullptr, 0);
  bool notify = static_cast<RingIdx>(new_prod - b.rx_req_event) < static_cast<RingIdx>(new_prod - old_prod);
  if (path_.connected()) // buffers, not a packet: the indices move (the trace's counters), no request's step
    path_.emit(b.step(PathEvent::What::request_pushed, sim_->events().now(), nullptr, notify, true, old_prod, &v));
  if (notify) {
    ++b.rx_req_notified;
    v.post(p_.notify_cpu_s, nullptr, 0);
    back_->notify_from_frontend(q, true);
  } else {
    ++b.rx_req_suppressed;
  }
}

std::vector<QueueView> XenNetfront::queues() const
{
  std::vector<QueueView> out;
  for (std::size_t q = 0; q < queues_.size(); ++q) {
    out.push_back({queues_[q]->tx_name, &queues_[q]->txd});
    out.push_back({queues_[q]->rx_name, &queues_[q]->rxd});
  }
  return out;
}

void XenNetfront::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/negotiated", [this] { return to_json(negotiation_); }, "what the XenStore handshake settled");
  st.info(
      "/irq_affinity", [this] { return irq_policy_; },
      "event-channel placement in force (irq_affinity with default resolved by the domU's kernel)");
  auto bps = [](const VifQueue& b, const StatWindow& w) {
    return w.per_second(8.0 * static_cast<double>(b.txd.bytes.get() + b.rxd.bytes.get()));
  };
  for (std::size_t q = 0; q < queues_.size(); ++q) {
    VifQueue& b       = *queues_[q];
    std::string queue = "/queues/" + std::to_string(q) + "/";
    b.track_stats(st);
    st.info(
        queue + "queue", [q] { return q; }, "queue index");
    st.formula(
        queue + "throughput_bps", [&b, bps](const StatWindow& w) { return json(bps(b, w)); }, "bit/s",
        "bits per second the frontend consumed off both rings");
    for (bool rx_dir : {false, true}) {
      VifDirection& d             = rx_dir ? b.rxd : b.txd;
      SharedRing& ring            = (rx_dir ? b.rx : b.tx).ring();
      const EventChannelState& fe = b.evtchn(rx_dir).frontend();
      std::string dir             = queue + (rx_dir ? "rx/" : "tx/");
      st.info(
          dir + "event_channel_vcpu", [port = &fe] { return port->bound_vcpu(); },
          "vCPU the direction's event channel upcalls (the Tx channel's for both without split channels)");
      st.formula(
          dir + "throughput_bps",
          [&d](const StatWindow& w) { return json(w.per_second(8.0 * static_cast<double>(d.bytes.get()))); }, "bit/s",
          "bits per second of the packets consumed off the ring");
      st.formula(
          dir + "packets_per_s",
          [&d](const StatWindow& w) { return json(w.per_second(static_cast<double>(d.packets.get()))); }, "packets/s",
          "packets consumed off the ring per second");
      st.formula(
          dir + "slots_per_packet",
          [&d](const StatWindow&) {
            return json(d.packets.get() ? static_cast<double>(d.slots.get()) / static_cast<double>(d.packets.get())
                                        : 0.0);
          },
          "slots", "ring slots per packet consumed");
      st.add(dir + "mean_ring_occupancy", d.ring_occupancy, "slots",
             rx_dir ? "time-averaged responses published and not yet consumed" : "time-averaged slots in use");
      if (rx_dir) {
        st.add(dir + "requests_notified", b.rx_req_notified, "pushes",
               "buffer refills that notified the backend (against the req_event netback set)");
        st.add(dir + "requests_suppressed", b.rx_req_suppressed, "pushes",
               "buffer refills whose notification netback's req_event suppressed");
      } else {
        st.add(dir + "requests_notified", ring.stat_requests_notified(), "pushes",
               "request pushes that notified the backend (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY)");
        st.add(dir + "requests_suppressed", ring.stat_requests_suppressed(), "pushes",
               "request pushes whose notification req_event suppressed");
      }
      st.add(dir + "responses_notified", ring.stat_responses_notified(), "pushes",
             "response pushes that notified the frontend");
      st.add(dir + "responses_suppressed", ring.stat_responses_suppressed(), "pushes",
             "response pushes whose notification rsp_event suppressed");
      st.formula(
          dir + "frontend_upcalls", [&fe](const StatWindow&) { return json(fe.upcalls()); }, "upcalls",
          "upcalls raised on the direction's frontend port (shared by both directions without split channels)");
      st.formula(
          dir + "frontend_coalesced", [&fe](const StatWindow&) { return json(fe.notifications_coalesced()); },
          "notifications", "notifications to the frontend port that found it pending");
      st.formula(
          dir + "frontend_deferred", [&fe](const StatWindow&) { return json(fe.notifications_deferred()); },
          "notifications", "notifications to the frontend port that found it masked (late EOI)");
    }
    st.add(queue + "tx_queue_stops", b.tx_stops, "stops", "netif_tx_stop_queue(): fewer than 19 Tx slots left");
    st.add(queue + "upcalls", b.fe_upcalls, "upcalls", "interrupt handler runs on the queue's vCPU");
    st.add(queue + "napi_polls", b.napi_polls, "polls", "xennet_poll() calls");
    st.add(queue + "napi_budget_exhausted", b.napi_budget_hits, "polls", "polls that took napi_weight packets");
    st.add(queue + "napi_max_packets_per_poll", b.napi_max_work, "packets", "most packets one xennet_poll() took");
  }
  // Over the queues: the sum of their throughputs, and the busiest one's over their mean.
  st.formula(
      "/throughput_bps",
      [this, bps](const StatWindow& w) {
        double sum = 0;
        for (const auto& b : queues_)
          sum += bps(*b, w);
        return json(sum);
      },
      "bit/s", "bits per second over every queue, both directions");
  st.formula(
      "/queue_imbalance",
      [this, bps](const StatWindow& w) {
        double max_bps = 0, sum_bps = 0;
        for (const auto& b : queues_) {
          double x = bps(*b, w);
          max_bps  = std::max(max_bps, x);
          sum_bps += x;
        }
        double mean = queues_.empty() ? 0.0 : sum_bps / static_cast<double>(queues_.size());
        return json(mean > 0 ? max_bps / mean : 0.0);
      },
      "ratio", "busiest queue's throughput over the queues' mean (1: balanced)");
}

PVSIM_REGISTER_MODEL(XenNetfront);

} // namespace pvsim::xen
