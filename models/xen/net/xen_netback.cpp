#include "models/xen/net/xen_netback.hpp"
#include "sim/resource_estimate.hpp"

#include "models/net/net_flow.hpp"
#include "models/xen/net/xen_netfront.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

namespace pvsim::xen {

const ParamTable<XenNetbackParams>& XenNetback::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("cpus", &Params::cpus, true, "The cpu.host of dom0's CPUs, where the queues' threads run.")
        .ref("target", &Params::target, true, "The physical link (net.link) behind dom0's bridge.")
        .integer("max_queues", &Params::max_queues, 0, 0, 1024,
                 "xen_netback.max_queues advertised as multi-queue-max-queues (0: dom0's cores).",
                 "xen-netback/netback.c: xenvif_max_queues = num_online_cpus()")
        .flag("split_event_channels", &Params::split_event_channels, true,
              "xen_netback.separate_tx_rx_irq, advertised as feature-split-event-channels.",
              "xen-netback/netback.c: separate_tx_rx_irq = true")
        .integers("mapping", &Params::mapping, 0, 1023,
                  "Receive-steering mapping table (used when the frontend set the Toeplitz hash): entry i is the "
                  "queue of hashes with hash % size == i; empty: 128 entries round robin (ethtool's default).",
                  "xen-netback/common.h: XEN_NETBK_MAX_HASH_MAPPING_SIZE = 128")
        .integer("napi_weight", &Params::napi_weight, 64, 1, 1024, "Packets per xenvif_poll() (NAPI budget).",
                 "xen-netback/interface.c: XENVIF_NAPI_WEIGHT = NAPI_POLL_WEIGHT = 64")
        .integer("rx_batch", &Params::rx_batch, 64, 1, 1024, "Packets per xenvif_rx_action() pass.",
                 "xen-netback/rx.c: RX_BATCH_SIZE = 64")
        .quantity("wakeup_cpu", Dimension::duration, &Params::wakeup_cpu_s, 1.5e-6, 0, 1,
                  "dom0 CPU per wake-up of a queue's NAPI or kthread (interrupt, scheduling).", "pvsim estimate")
        .quantity("tx_packet_cpu", Dimension::duration, &Params::tx_packet_cpu_s, 4e-6, 0, 1,
                  "Per guest-Tx packet: building the skb, the header copy, bridge and physical NIC driver.",
                  "pvsim estimate")
        .quantity("tx_slot_cpu", Dimension::duration, &Params::tx_slot_cpu_s, 4.5e-6, 0, 1,
                  "Per guest-Tx slot: grant map and unmap (GNTTABOP_map_grant_ref/unmap, TLB flush).",
                  "pvsim estimate: calibrated so one queue tops out near 6 Gbit/s")
        .quantity("tx_response_cpu", Dimension::duration, &Params::tx_response_cpu_s, 0.2e-6, 0, 1,
                  "Per guest-Tx slot: make_tx_response() after the zero-copy callback.", "pvsim estimate")
        .quantity("rx_packet_cpu", Dimension::duration, &Params::rx_packet_cpu_s, 3e-6, 0, 1,
                  "Per guest-Rx packet: xenvif_start_xmit(), xenvif_rx_skb() and its responses.", "pvsim estimate")
        .quantity("rx_slot_cpu", Dimension::duration, &Params::rx_slot_cpu_s, 0.3e-6, 0, 1,
                  "Per guest-Rx slot: one grant-copy operation set up and its response.", "pvsim estimate")
        .quantity("grant_copy_rate", Dimension::bandwidth, &Params::grant_copy_Bps, 0.85e9, 1, 1e15,
                  "Bytes per second of GNTTABOP_copy into the guest's buffers (hypercall, grant checks, copy).",
                  "pvsim estimate: calibrated so one queue tops out near 6 Gbit/s")
        .quantity("notify_cpu", Dimension::duration, &Params::notify_cpu_s, 0.5e-6, 0, 1,
                  "dom0 CPU of the notify hypercall.", "pvsim estimate")
        .quantity("evtchn_latency", Dimension::duration, &Params::evtchn_latency_s, 2e-6, 0, 1,
                  "From the frontend's notification to the upcall in dom0.", "pvsim estimate")
        .quantity("quantum", Dimension::duration, &Params::quantum_s, 20e-6, 1e-9, 1,
                  "Most CPU work a thread takes in one batch before acting on it.", "pvsim: 20us");
    return tb;
  }();
  return t;
}

XenNetback::XenNetback(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p) {}

NetbackConfig XenNetback::config() const
{
  NetbackConfig c;
  const CpuHost& host    = CpuHost::from_port(*this, "cpus");
  c.max_queues           = static_cast<unsigned>(p_.max_queues > 0 ? p_.max_queues : host.cores());
  c.split_event_channels = p_.split_event_channels;
  return c;
}

void XenNetback::connect()
{
  host_ = &CpuHost::from_port(*this, "cpus");
  link_ = port("target");
}

void XenNetback::validate()
{
  if (front_ == nullptr)
    fail("no xen.netfront names this backend: a backend serves exactly one frontend");
  if (p_.mapping.size() > RssIndirectionTable::max_size)
    fail("'mapping' has " + std::to_string(p_.mapping.size()) + " entries, at most 128", "mapping");
  for (long long e : p_.mapping)
    if (e >= static_cast<long long>(front_->num_queues()))
      fail("'mapping' names queue " + std::to_string(e) + " but the vif has " + std::to_string(front_->num_queues()) +
               " queues",
           "mapping");
}

void XenNetback::attach(XenNetfront& front)
{
  if (front_ != nullptr and front_ != &front)
    front.fail("'" + name() + "' already serves '" + front_->name() + "': give each xen.netfront its own xen.netback",
               "backend");
  front_     = &front;
  auto neg   = front.negotiation();
  hash_      = neg.hash_algorithm.value_or(NetifHashAlgorithm::toeplitz);
  unsigned n = neg.num_queues;
  table_ =
      std::make_unique<RssIndirectionTable>(n, p_.mapping.empty() ? RssIndirectionTable::max_size : p_.mapping.size());
  for (std::size_t i = 0; i < p_.mapping.size(); ++i)
    if (p_.mapping[i] < static_cast<long long>(n))
      table_->set(i, static_cast<unsigned>(p_.mapping[i]));
  threads_.clear();
  threads_.resize(n);
  for (unsigned q = 0; q < n; ++q) {
    std::string base     = name() + ".q" + std::to_string(q);
    threads_[q].napi     = std::make_unique<CpuThread>(base + ".napi", p_.quantum_s);
    threads_[q].guest_rx = std::make_unique<CpuThread>(base + ".guest-rx", p_.quantum_s);
  }
  declare_stats();
}

void XenNetback::estimate_resources(ResourceEstimate& e) const
{
  e.add_actors(name(), 2.0 * static_cast<double>(threads_.size()), Simulation::actor_stack_bytes(),
               "NAPI and guest-Rx threads");
}

void XenNetback::start(Simulation& sim)
{
  sim_ = &sim;
  for (auto& t : threads_) {
    host_->run(*t.napi, sim.events());
    host_->run(*t.guest_rx, sim.events());
  }
}

unsigned XenNetback::select_queue(const Request* r) const
{
  unsigned n      = front_->num_queues();
  std::uint32_t h = NetFlow::toeplitz_hash(r); // the NIC's RSS hash, or netback's own Toeplitz hash (same key)
  if (hash_ == NetifHashAlgorithm::none)       // netdev_pick_tx() -> skb_tx_hash(): reciprocal_scale()
    return static_cast<unsigned>((static_cast<std::uint64_t>(h) * n) >> 32);
  return netback_select_queue(h, n, table_.get());
}

void XenNetback::submit(Request* r)
{
  // A packet of the remote host: it crosses the link towards dom0's NIC, then comes back to end_io().
  r->push_end_io(this, sim_->events().now());
  link_->submit(r);
}

void XenNetback::notify_from_frontend(unsigned q, bool rx_dir)
{
  VifQueue& b = front_->queue(q);
  if (b.evtchn(rx_dir).backend().notify())
    sim_->events().schedule_in(p_.evtchn_latency_s, this, k(q, rx_dir and b.split ? irq_rx : irq_tx));
}

void XenNetback::handle_irq(unsigned q, bool rx_dir)
{
  VifQueue& b  = front_->queue(q);
  bool tx_side = not b.split or not rx_dir;
  bool rx_side = not b.split or rx_dir;
  b.evtchn(rx_dir).lateeoi_ack(XenChannel::End::backend); // NETBK_{TX,RX}_EOI, or NETBK_COMMON_EOI without split
  if (tx_side and not b.be_napi_scheduled and b.tx.ring().unconsumed_requests() > 0) { // xenvif_handle_tx_interrupt()
    b.be_napi_scheduled = true;
    threads_[q].napi->post(p_.wakeup_cpu_s, this, k(q, poll));
  }
  if (rx_side) // xenvif_handle_rx_interrupt(): kick the kthread if it can work now
    kick_rx(q);
  // Spurious or nothing left running: EOI at once; otherwise the poll or the kthread sends it when idle.
  if (tx_side and not b.be_napi_scheduled)
    maybe_eoi(q, false);
  if (rx_side and not b.rx_thread_busy)
    maybe_eoi(q, true);
}

void XenNetback::maybe_eoi(unsigned q, bool rx_side)
{
  VifQueue& b = front_->queue(q);
  // Nothing if no EOI is pending on the port; a notification that came while it was masked is raised now.
  if (b.evtchn(rx_side).lateeoi(XenChannel::End::backend))
    sim_->events().schedule_in(0, this, k(q, rx_side and b.split ? irq_rx : irq_tx));
}

void XenNetback::kick_rx(unsigned q)
{
  VifQueue& b = front_->queue(q);
  if (b.rx_thread_busy or b.rxd.a.empty())
    return;
  if (b.rx_waiting_slots) { // xenvif_rx_ring_slots_available(): still short? re-arm req_event and sleep on
    if (b.rx.ring().unconsumed_requests() < rx_slots_of(b.rxd.a.front())) {
      b.rx_req_event = b.rx.ring().req_prod() + 1;
      return;
    }
    b.rx_waiting_slots = false;
  }
  b.rx_thread_busy = true;
  threads_[q].guest_rx->post(p_.wakeup_cpu_s, this, k(q, rx_action));
}

void XenNetback::do_poll(unsigned q)
{
  VifQueue& b = front_->queue(q);
  ++b.be_polls;
  std::uint64_t work = 0;
  while (work < static_cast<std::uint64_t>(p_.napi_weight) and not b.txd.b.empty() and
         b.tx.ring().unconsumed_requests() >= tx_slots_of(b.txd.b.front())) {
    Request* r     = b.txd.b.pop();
    unsigned slots = tx_slots_of(r);
    for (unsigned i = 0; i < slots; ++i)
      b.tx.ring().consume_request();
    if (path_.connected()) {
      PathEvent ev = b.step(PathEvent::What::request_taken, sim_->events().now(), r, false, false,
                            b.tx.ring().req_cons() - slots, threads_[q].napi.get());
      ev.batch     = static_cast<std::uint32_t>(work + 1);
      path_.emit(ev);
    }
    b.txd.held++; // in netback and on the link until its responses are made
    threads_[q].napi->post(p_.tx_packet_cpu_s + slots * p_.tx_slot_cpu_s, this, k(q, tx_send), r);
    work++;
  }
  threads_[q].last_work = work;
  threads_[q].napi->post(0, this, k(q, poll_end));
}

void XenNetback::do_rx_action(unsigned q)
{
  VifQueue& b = front_->queue(q);
  ++b.rx_batches;
  long long n = 0;
  while (n < p_.rx_batch and not b.rxd.a.empty()) {
    Request* r     = b.rxd.a.front();
    unsigned slots = rx_slots_of(r);
    if (b.rx.ring().unconsumed_requests() < slots) { // short of posted buffers: req_event = req_prod + 1, sleep
      b.rx_req_event     = b.rx.ring().req_prod() + 1;
      b.rx_waiting_slots = true;
      ++b.rx_slot_waits;
      break;
    }
    b.rxd.a.pop();
    for (unsigned i = 0; i < slots; ++i)
      b.rx.ring().consume_request();
    if (path_.connected()) { // the packet takes posted buffers: the Rx ring's requests
      PathEvent ev          = b.step(PathEvent::What::request_taken, sim_->events().now(), r, false, true,
                                     b.rx.ring().req_cons() - slots, threads_[q].guest_rx.get());
      ev.batch              = static_cast<std::uint32_t>(n + 1);
      ev.into_posted_buffer = true;
      path_.emit(ev);
    }
    b.rxd.held++;
    threads_[q].guest_rx->post(p_.rx_packet_cpu_s + slots * p_.rx_slot_cpu_s + r->size_bytes / p_.grant_copy_Bps, this,
                               k(q, rx_copied), r);
    n++;
  }
  threads_[q].guest_rx->post(0, this, k(q, rx_flush));
}

void XenNetback::on_event(int kind, Request* r)
{
  auto q      = static_cast<unsigned>(kind / kinds);
  VifQueue& b = front_->queue(q);
  double now  = sim_->events().now();
  switch (kind % kinds) {
  case irq_tx: // the upcall in dom0: the handler runs on the queue's thread (rx port: the kthread's)
    threads_[q].napi->post(0, this, k(q, handle_tx));
    break;
  case irq_rx:
    threads_[q].guest_rx->post(0, this, k(q, handle_rx));
    break;
  case handle_tx:
  case handle_rx:
    handle_irq(q, kind % kinds == handle_rx);
    break;
  case poll:
    do_poll(q);
    break;
  case poll_end:
    if (threads_[q].last_work >= static_cast<std::uint64_t>(p_.napi_weight)) {
      ++b.be_budget_hits;
      threads_[q].napi->post(0, this, k(q, poll));
    } else if (b.tx.ring().final_check_for_requests()) { // xenvif_napi_schedule_or_enable_events()
      threads_[q].napi->post(0, this, k(q, poll));
    } else {
      b.be_napi_scheduled = false;
      maybe_eoi(q, false);
    }
    break;
  case tx_send:
    r->push_end_io(this, now);
    link_->submit(r);
    break;
  case tx_respond: {
    unsigned slots = tx_slots_of(r);
    bool notify    = b.tx.push_responses(slots);
    if (path_.connected())
      path_.emit(b.step(PathEvent::What::response_pushed, now, r, notify, false, b.tx.ring().rsp_prod() - slots,
                        threads_[q].napi.get()));
    b.txd.held--;
    b.txd.c.push(r);
    if (notify) {
      threads_[q].napi->post(p_.notify_cpu_s, nullptr, 0);
      front_->notify_from_backend(q, false);
    }
    break;
  }
  case rx_action:
    do_rx_action(q);
    break;
  case rx_copied: {
    unsigned slots = rx_slots_of(r);
    for (unsigned i = 0; i < slots; ++i)
      b.rx.ring().produce_response();
    b.rxd.held--;
    b.rxd.c.push(r);
    if (path_.connected())
      b.rx_unpushed.push_back(r);
    b.rxd.events.emit({StationEvent::What::start, now, r, r->stage_s});
    b.rxd.ring_occupancy.set(now, b.rx.ring().rsp_prod_pvt() - b.rx.ring().rsp_cons());
    break;
  }
  case rx_flush: { // xenvif_rx_copy_flush(): one push and check per batch
    RingIdx old_prod = b.rx.ring().rsp_prod();
    bool notify      = b.rx.ring().push_responses_and_check_notify();
    if (path_.connected()) {
      RingIdx slot = old_prod;
      for (Request* p : b.rx_unpushed) {
        path_.emit(b.step(PathEvent::What::response_pushed, now, p, notify, true, slot, threads_[q].guest_rx.get()));
        slot += rx_slots_of(p);
      }
    }
    b.rx_unpushed.clear();
    if (notify) {
      threads_[q].guest_rx->post(p_.notify_cpu_s, nullptr, 0);
      front_->notify_from_backend(q, true);
    }
    if (not b.rxd.a.empty() and not b.rx_waiting_slots) {
      threads_[q].guest_rx->post(0, this, k(q, rx_action));
    } else {
      b.rx_thread_busy = false; // xenvif_wait_for_rx_work(): sleep, EOI
      maybe_eoi(q, true);
    }
    break;
  }
  default:
    break;
  }
}

void XenNetback::end_io(Request* r, double)
{
  double now = sim_->events().now();
  if (r->op == Op::write) { // the link sent a guest packet: release its grants, answer its slots
    auto q = static_cast<unsigned>(r->queue);
    threads_[q].napi->post(tx_slots_of(r) * p_.tx_response_cpu_s, this, k(q, tx_respond), r);
    return;
  }
  // A packet for the guest arrived from the link: xenvif_start_xmit() on the chosen queue.
  unsigned q  = select_queue(r);
  r->queue    = static_cast<int>(q);
  VifQueue& b = front_->queue(q);
  r->stage_s  = now;
  b.rxd.issued++;
  b.rxd.events.emit({StationEvent::What::arrive, now, r, now});
  b.rxd.a.push(r);
  kick_rx(q);
}

void XenNetback::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/hash_algorithm", [this] { return std::string(to_string(hash_)); },
      "receive-steering hash: none (the NIC's RSS hash over the queues) or toeplitz (the mapping table)");
  for (std::size_t q = 0; q < threads_.size(); ++q) {
    Threads& t        = threads_[q];
    VifQueue& b       = front_->queue(static_cast<unsigned>(q));
    std::string queue = "/queues/" + std::to_string(q) + "/";
    // The threads' own statistics restart with the cpu.host they run on.
    st.info(
        queue + "queue", [q] { return q; }, "queue index");
    st.formula(queue + "napi_utilization", t.napi->utilization(), "CPUs",
               "CPU time of the queue's NAPI (guest Tx) per second of the window");
    st.formula(queue + "guest_rx_utilization", t.guest_rx->utilization(), "CPUs",
               "CPU time of the queue's guest-Rx kthread per second of the window");
    st.add(queue + "napi_polls", b.be_polls, "polls", "xenvif_poll() calls");
    st.add(queue + "napi_budget_exhausted", b.be_budget_hits, "polls", "polls that took napi_weight packets");
    st.add(queue + "rx_batches", b.rx_batches, "passes", "xenvif_rx_action() passes of the guest-Rx kthread");
    st.add(queue + "rx_waits_for_slots", b.rx_slot_waits, "passes",
           "passes that stopped short of posted Rx buffers (req_event = req_prod + 1, sleep)");
    // The ports' counters restart with xen.netfront's statistics (VifQueue::track_stats).
    st.formula(
        queue + "backend_tx_upcalls", [&b](const StatWindow&) { return json(b.tx.backend().upcalls()); }, "upcalls",
        "upcalls in dom0 on the Tx port (both directions without split channels)");
    st.formula(
        queue + "backend_rx_upcalls", [&b](const StatWindow&) { return json(b.rx.backend().upcalls()); }, "upcalls",
        "upcalls in dom0 on the Rx port (0 without split channels)");
    st.formula(
        queue + "backend_coalesced",
        [&b](const StatWindow&) {
          return json(b.tx.backend().notifications_coalesced() + b.rx.backend().notifications_coalesced());
        },
        "notifications", "notifications to the backend ports that found them pending");
  }
}

PVSIM_REGISTER_MODEL(XenNetback);

} // namespace pvsim::xen
