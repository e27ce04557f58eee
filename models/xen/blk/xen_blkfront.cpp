#include "models/xen/blk/xen_blkfront.hpp"

#include "models/xen/evtchn_placement.hpp"

#include "models/linux/blk_mq.hpp"

#include "models/xen/blk/segments.hpp"
#include "models/xen/blk/xen_blkback.hpp"
#include "sim/path_event.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>

namespace pvsim::xen {

const ParamTable<XenBlkfrontParams>& XenBlkfront::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("vm", &Params::vm, true, "The domU (guest.vm) the frontend runs in.")
        .ref("backend", &Params::backend, true, "The xen.blkback serving this device.")
        .integer("max_queues", &Params::max_queues, 4, 1, 1024,
                 "xen_blkfront.max_queues (lowered to the domU's vCPUs, as xlblk_init does).",
                 "xen-blkfront.c: max_queues = 4")
        .integer("max_ring_page_order", &Params::max_ring_page_order, 0, 0, 4,
                 "xen_blkfront.max_ring_page_order: rings of 2^order pages of 32 slots.",
                 "xen-blkfront.c: max_ring_page_order = 0")
        .integer("max_indirect_segments", &Params::max_indirect_segments, 32, 0, 4096,
                 "xen_blkfront.max_indirect_segments.", "xen-blkfront.c: max_indirect_segments = 32")
        .flag("feature_persistent", &Params::feature_persistent, true, "Offer persistent grants.",
              "xen-blkfront.c: feature_persistent = true")
        .choice("irq_affinity", &Params::irq_affinity, irq_policies(), std::string("default"),
                "vCPU of each queue's event channel (models/xen/evtchn_placement.hpp): default follows the domU's "
                "kernel (vCPU 0 up to 5.10, balance from 5.11), balance (the vCPU with the fewest channels, "
                "select_target_cpu()), cpu0, spread (queue q on vCPU q mod vCPUs, as irqbalance places them), or "
                "follow-queue (the first vCPU blk-mq maps to the queue, as managed interrupts do for virtio-pci; "
                "no Linux kernel does it for Xen: a what-if). irq_vcpus overrides it.",
                "Linux events_base.c: xen_irq_init() up to 5.10, select_target_cpu() from 5.11 (88f0a9d06644); "
                "xen-lab-tcg (6.x): 4 queues on vCPUs 3, 0, 1, 2")
        .choice("ring_lock", &Params::ring_lock, {"default", "ticket", "qspinlock", "off"}, std::string("default"),
                "Each ring's ring_lock (sim/spin_lock.hpp): default follows the domU's kernel (ticket up to 4.1, "
                "qspinlock from 4.2); off leaves the lock out, to see what it costs.",
                "xen-blkfront.c: blkif_queue_rq() and blkif_interrupt() take rinfo->ring_lock; x86 queued "
                "spinlocks from Linux 4.2")
        .integer("ring_lock_lines", &Params::ring_lock_lines, 6, 0, 1024,
                 "Cache lines a ring_lock critical section writes besides the lock word: a holder on another core "
                 "than the last fetches them (sim/spin_lock.hpp).",
                 "pvsim estimate from what blkif_queue_rq() writes under the lock: the rinfo fields (req_prod_pvt, "
                 "shadow_free), the 112-byte request slot (2 lines), the shadow entry (2), a grant list entry")
        .choice("driver", &Params::driver, {"blk-mq", "legacy"}, std::string("blk-mq"),
                "blk-mq (Linux 4.3 on: a ring per hardware queue) or legacy (up to 4.2: one ring behind the request "
                "queue and its io_lock; see the header). Not chosen by the guest's kernel: multi-queue studies on "
                "4.0-4.2 guests ran the blk-mq patches.",
                "xen-blkfront.c: blk-mq from 907c3eb18e0b (Linux 4.3)")
        .integer("nr_requests", &Params::nr_requests, 128, 4, 1 << 16,
                 "With driver legacy: requests the request queue holds (blk_mq's tags stand for them).",
                 "include/linux/blkdev.h: BLKDEV_MAX_RQ = 128")
        .quantity("elevator_cpu", Dimension::duration, &Params::elevator_cpu_s, 1e-6, 0, 1,
                  "With driver legacy: per request, the block layer's work under io_lock on the submitting vCPU "
                  "(blk_queue_bio: merge attempt, get_request, elevator insert, __blk_run_queue).",
                  "pvsim estimate")
        .quantity("end_request_cpu", Dimension::duration, &Params::end_request_cpu_s, 1e-6, 0, 1,
                  "With driver legacy: per response, __blk_end_request_all() under io_lock (bio and direct I/O "
                  "completion, the waiter's wake-up).",
                  "pvsim estimate")
        .integer("preceding_channels", &Params::preceding_channels, 2, 0, 4096,
                 "With balance: event channels the domU bound before this disk's (xenbus, console, other devices).",
                 "a PV domU's xenbus and hvc_console channels")
        .integers("irq_vcpus", &Params::irq_vcpus, 0, 4095,
                  "Explicit vCPU of each queue's event channel (queue order; e.g. read off /proc/interrupts); "
                  "empty: irq_affinity decides.")
        .quantity("queue_rq_cpu", Dimension::duration, &Params::queue_rq_cpu_s, 1.0e-6, 0, 1,
                  "vCPU time of blkif_queue_rq() per request, beyond the job's submit_cpu.", "pvsim estimate")
        .quantity("grant_cpu", Dimension::duration, &Params::grant_cpu_s, 0.3e-6, 0, 1,
                  "Per grant that needs a reference (every grant without persistent grants; with them, those the "
                  "backend did not keep): claim, grant and end foreign access.",
                  "pvsim estimate")
        .quantity("copy_cpu", Dimension::duration, &Params::copy_cpu_s, 0.5e-6, 0, 1,
                  "Per segment with persistent grants: a 4 KiB copy (writes at submission, reads at completion).",
                  "pvsim estimate: 4 KiB memcpy at ~8 GB/s")
        .quantity("notify_cpu", Dimension::duration, &Params::notify_cpu_s, 0.5e-6, 0, 1,
                  "vCPU time of the notify hypercall (EVTCHNOP_send).", "pvsim estimate")
        .quantity("irq_cpu", Dimension::duration, &Params::irq_cpu_s, 1.5e-6, 0, 1,
                  "vCPU time per upcall: event dispatch, handler entry and exit, late EOI.", "pvsim estimate")
        .quantity("response_cpu", Dimension::duration, &Params::response_cpu_s, 0.8e-6, 0, 1,
                  "vCPU time per response in blkif_interrupt (blkif_completion, blk_mq_complete_request).",
                  "pvsim estimate")
        .quantity("evtchn_latency", Dimension::duration, &Params::evtchn_latency_s, 2e-6, 0, 1,
                  "From the backend's notification to the upcall on the bound vCPU.", "pvsim estimate")
        .quantity("xenstore_step", Dimension::duration, &Params::xenstore_step_s, 100e-6, 0, 10,
                  "Simulated time of each handshake step (a XenStore write and the watch firing in the other domain), "
                  "for the time stamps of the state transitions.",
                  "pvsim estimate");
    return tb;
  }();
  return t;
}

XenBlkfront::XenBlkfront(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p) {}

void XenBlkfront::connect()
{
  vm_   = &GuestVm::from_port(*this, "vm");
  back_ = dynamic_cast<XenBlkback*>(port("backend"));
  if (back_ == nullptr)
    fail("'backend' must name a xen.blkback component", "backend");
  // The XenStore handshake decides the queues, the ring order, persistent grants and indirect segments.
  legacy_ = p_.driver == "legacy";
  BlkfrontConfig front;
  front.max_queues            = legacy_ ? 1u : static_cast<unsigned>(p_.max_queues); // the legacy driver has one ring
  front.online_cpus           = static_cast<unsigned>(vm_->vcpus());
  front.max_ring_page_order   = static_cast<unsigned>(p_.max_ring_page_order);
  front.max_indirect_segments = static_cast<unsigned>(p_.max_indirect_segments);
  front.feature_persistent    = p_.feature_persistent;
  BlkifHandshake hs(store_, VbdDevice{}, back_->config(), front);
  hs.run(0.0, p_.xenstore_step_s);
  if (not hs.errors().empty())
    fail("the XenStore handshake with '" + back_->name() + "' failed: " + hs.errors().front());
  negotiation_ = hs.result();
  transitions_ = hs.timeline();
  depth_       = blkfront_queue_depth(negotiation_.ring_page_order, negotiation_.max_indirect_segments);
  if (not p_.irq_vcpus.empty() and p_.irq_vcpus.size() != negotiation_.num_queues)
    fail("lists " + std::to_string(p_.irq_vcpus.size()) + " vCPUs but " + std::to_string(negotiation_.num_queues) +
             " queues were negotiated",
         "irq_vcpus");
  // follow-queue needs blk-mq's map, known once every component is validated: bound at start(), vCPU 0 until then.
  bool follow = p_.irq_affinity == "follow-queue";
  EvtchnPlacement placement(follow ? "cpu0" : p_.irq_affinity, vm_->kernel(), vm_->vcpus(),
                            static_cast<int>(p_.preceding_channels));
  irq_policy_ = follow ? p_.irq_affinity : placement.policy();
  queues_.reset(negotiation_.num_queues);
  for (unsigned q = 0; q < negotiation_.num_queues; ++q) {
    unsigned vcpu = 0;
    if (not p_.irq_vcpus.empty()) {
      if (p_.irq_vcpus[q] >= vm_->vcpus())
        fail("vCPU " + std::to_string(p_.irq_vcpus[q]) + " does not exist (the domU has " +
                 std::to_string(vm_->vcpus()) + ")",
             "irq_vcpus");
      vcpu = static_cast<unsigned>(p_.irq_vcpus[q]);
    } else {
      vcpu = placement.bind(q);
    }
    queues_.emplace_back(negotiation_.ring_page_order, vcpu);
    if (q < negotiation_.rings.size()) // talk_to_blkback()'s ring-ref(s) and event-channel; dom0's port is not known
      queues_.back().channel.set_negotiated(negotiation_.rings[q].ring_refs, negotiation_.rings[q].event_channel);
    ring_names_.push_back(name() + ".ring" + std::to_string(q));
  }
  if (legacy_) // get_id_from_freelist(): the ring's shadow ids, apart from the request queue's
    for (int id = static_cast<int>(queues_[0].channel.ring().size()) - 1; id >= 0; --id)
      free_ids_.push_back(id);
  legacy_tag_.assign(legacy_ ? queues_[0].channel.ring().size() : 0, -1);
  ring_lock_kind_ = p_.ring_lock;
  if (ring_lock_kind_ == "default")
    ring_lock_kind_ = vm_->spinlock_kind();
  line_cost_ = vm_->pcpus().line_cost();
  ring_locks_.reset(ring_lock_kind_ != "off" ? negotiation_.num_queues : 0);
  if (ring_lock_kind_ != "off")
    for (unsigned q = 0; q < negotiation_.num_queues; ++q)
      ring_locks_
          .emplace_back(name() + ".ring" + std::to_string(q) + ".ring_lock", SpinLock::kind_of(ring_lock_kind_),
                        line_cost_, static_cast<int>(p_.ring_lock_lines))
          .set_paravirt(vm_->pv_spin());
  declare_stats();
  back_->attach(*this);
}

CpuThread& XenBlkfront::submitter(const Request* r)
{
  return vm_->vcpu(r->cpu < 0 ? 0 : r->cpu);
}

CpuThread& XenBlkfront::irq_vcpu(unsigned q)
{
  return vm_->vcpu(static_cast<int>(queues_[q].channel.frontend().bound_vcpu()));
}

void XenBlkfront::start(Simulation& sim)
{
  sim_ = &sim;
  if (irq_policy_ == "follow-queue" and p_.irq_vcpus.empty())
    follow_queues(sim);
  // blkfront_setup_indirect(): each ring's free list of grants, and its shadow entries.
  for (auto& b : queues_) {
    b.grants = BlkfrontGrantPool(blkfront_grants_per_ring(blkif_segment_limit(negotiation_), b.channel.ring().size()));
    b.shadow.assign(b.channel.ring().size(), BlkifShadow{});
  }
}

const std::vector<std::string>& XenBlkfront::irq_policies()
{
  static const std::vector<std::string> names = [] {
    auto v = EvtchnPlacement::policies();
    v.push_back("follow-queue");
    return v;
  }();
  return names;
}

void XenBlkfront::follow_queues(Simulation& sim)
{
  // The blk_mq above this frontend: each ring's channel on the first vCPU its hardware queue serves.
  for (const auto& c : sim.components()) {
    const auto* mq = dynamic_cast<const BlkMq*>(c.get());
    if (mq == nullptr or mq->driver() != this)
      continue;
    const auto& map = mq->cpu_to_hctx();
    for (unsigned q = 0; q < queues_.size(); ++q) {
      auto first    = std::find(map.begin(), map.end(), static_cast<int>(q));
      unsigned vcpu = first == map.end() ? 0 : static_cast<unsigned>(first - map.begin());
      queues_[q].channel.frontend().rebind(vcpu);
    }
  }
}

unsigned XenBlkfront::segments_of(const Request* r) const
{
  return blkif_segments(r->size_bytes);
}

void XenBlkfront::queue_rq(Request* r)
{
  CpuThread& v = submitter(r);
  if (legacy_) { // blk_queue_bio() under io_lock on the submitter, then its __blk_run_queue() runs do_blkif_request()
    v.post_next_locked(ring_lock(0), p_.elevator_cpu_s, this, queued, r);
    return;
  }
  queue_request(r, v);
}

void XenBlkfront::legacy_request_fn(CpuThread& v)
{
  while (not legacy_queue_.empty() and not free_ids_.empty()) {
    Request* r = legacy_queue_.pop();
    int id     = free_ids_.back();
    free_ids_.pop_back();
    legacy_tag_[static_cast<std::size_t>(id)] = r->tag; // blk_mq's tag, back at completion
    r->tag                                    = id;
    queue_request(r, v);
  }
}

void XenBlkfront::queue_request(Request* r, CpuThread& v)
{
  unsigned segs = segments_of(r);
  BlkifQueue& b = queues_.at(static_cast<std::size_t>(r->queue));
  // blkif_queue_rw_req(): the request's grants from the ring's free list (persistent ones first).
  BlkifShadowGrants& g = b.shadow.at(static_cast<std::size_t>(r->tag));
  b.grants.take_into(segs, blkif_indirect_pages(segs), g);
  double cost = p_.queue_rq_cpu_s + g.fresh * p_.grant_cpu_s;
  if (negotiation_.persistent_grants and r->op == Op::write)
    cost += segs * p_.copy_cpu_s;
  cost += b.sring_line.write(v.place(), line_cost_); // req_prod
  v.post_next_locked(ring_lock(static_cast<unsigned>(r->queue)), cost, this, r->queue * kinds + pushed, r);
}

void XenBlkfront::on_event(int kind, Request* r)
{
  auto q        = static_cast<unsigned>(kind / kinds);
  BlkifQueue& b = queues_[q];
  double now    = sim_->events().now();
  switch (kind % kinds) {
  case pushed: { // blkif_queue_rq(): fill the slot, flush_requests()
    bool notify = b.channel.push_requests(1);
    b.requests.push_back(r);
    b.produced++;
    b.shadow[static_cast<std::size_t>(r->tag)].pushed_s = now;
    b.events.emit({StationEvent::What::arrive, now, r, now});
    b.events.emit({StationEvent::What::start, now, r, now});
    b.sample(now);
    if (path_.connected()) {
      const SharedRing& ring = b.channel.ring();
      PathEvent ev(PathEvent::What::request_pushed, now, r, notify);
      ev.ring       = &ring_names_[q];
      ev.channel    = "event channel";
      ev.channel_id = static_cast<int>(b.channel.frontend_evtchn());
      ev.thread     = &submitter(r);
      ev.idx        = ring.indices();
      ev.slot       = ring.slot(ring.req_prod() - 1);
      path_.emit(ev);
    }
    if (notify) { // notify_remote_via_irq() inside the ring lock, as flush_requests() does
      submitter(r).post_next_locked(ring_lock(q), p_.notify_cpu_s, nullptr, 0);
      back_->notify_from_frontend(q);
    }
    break;
  }
  case upcall: // the backend's notification reaches the port bound to our vCPU
    if (b.channel.frontend().notify())
      irq_vcpu(q).post(p_.irq_cpu_s, this, static_cast<int>(q) * kinds + irq);
    break;
  case irq:
    b.channel.lateeoi_ack(XenChannel::End::frontend);
    handle_irq(q);
    break;
  case completed:
    r->end_io(); // blk_mq_complete_request: the tag goes back, the job hears of it
    break;
  case queued: { // the request is in the queue; the request_fn sends what the ring takes, the rest waits
    if (free_ids_.empty())
      ++legacy_waited_;
    legacy_queue_.push(r);
    legacy_request_fn(submitter(r));
    break;
  }
  case irq_tail: // after the handler's responses: final check, then the late EOI
    if (b.channel.ring().final_check_for_responses()) {
      handle_irq(q);
      break;
    }
    if (legacy_) // kick_pending_request_queues(): the requests that waited, from this vCPU, still under io_lock
      legacy_request_fn(irq_vcpu(q));
    if (b.channel.lateeoi(XenChannel::End::frontend))
      irq_vcpu(q).post(p_.irq_cpu_s, this, static_cast<int>(q) * kinds + irq);
    break;
  default:
    break;
  }
}

void XenBlkfront::handle_irq(unsigned q)
{
  BlkifQueue& b   = queues_[q];
  CpuThread& v    = irq_vcpu(q);
  double now      = sim_->events().now();
  std::uint32_t n = b.channel.ring().unconsumed_responses();
  b.responses_per_irq_max.sample(static_cast<double>(n));
  for (std::uint32_t i = 0; i < n; ++i) {
    b.channel.ring().consume_response(); // the slot is free again from here on
    Request* r = b.responses.front();
    b.responses.pop_front();
    b.consumed++;
    // blkif_completion(): the grants the backend keeps go back to the head of the free list, the others to its tail.
    const XenBlkback& back = *back_;
    b.grants.give_back(b.shadow[static_cast<std::size_t>(r->tag)],
                       [&back, q](GrantRef ref) { return back.persistent_grants(q).holds(ref); });
    b.events.emit({StationEvent::What::depart, now, r, b.shadow[static_cast<std::size_t>(r->tag)].pushed_s});
    b.sample(now);
    if (path_.connected()) {
      const SharedRing& ring = b.channel.ring();
      PathEvent ev(PathEvent::What::response_taken, now, r);
      ev.ring       = &ring_names_[q];
      ev.channel    = "event channel";
      ev.channel_id = static_cast<int>(b.channel.frontend_evtchn());
      ev.thread     = &v;
      ev.idx        = ring.indices();
      ev.slot       = ring.slot(ring.rsp_cons() - 1);
      ev.batch      = i + 1;
      path_.emit(ev);
    }
    // The request's shadow entry (struct blk_shadow, two lines) was written on the submitting vCPU.
    double cost = p_.response_cpu_s + 2 * line_cost_.between(submitter(r).place(), v.place());
    if (negotiation_.persistent_grants and r->op == Op::read)
      cost += segments_of(r) * p_.copy_cpu_s;
    if (legacy_) { // add_id_to_freelist(); __blk_end_request_all() under io_lock
      int id = r->tag;
      r->tag = legacy_tag_[static_cast<std::size_t>(id)];
      free_ids_.push_back(id);
      cost += p_.end_request_cpu_s;
    }
    v.post_next_locked(ring_lock(q), cost, this, static_cast<int>(q) * kinds + completed, r);
  }
  // RING_FINAL_CHECK_FOR_RESPONSES writes rsp_event: the ring header comes to this vCPU.
  v.post_next_locked(ring_lock(q), b.sring_line.write(v.place(), line_cost_), this,
                     static_cast<int>(q) * kinds + irq_tail);
}

void XenBlkfront::notify_from_backend(unsigned q)
{
  sim_->events().schedule_in(p_.evtchn_latency_s, this, static_cast<int>(q) * kinds + upcall);
}

std::vector<QueueView> XenBlkfront::queues() const
{
  std::vector<QueueView> out;
  for (std::size_t q = 0; q < queues_.size(); ++q)
    out.push_back({ring_names_[q], &queues_[q]});
  return out;
}

void XenBlkfront::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/negotiated", [this] { return to_json(negotiation_); }, "what the XenStore handshake settled");
  st.info(
      "/queue_depth", [this] { return depth_; }, "tags per hardware queue blk-mq gets from the ring");
  st.info(
      "/driver", [this] { return p_.driver; }, "blk-mq, or legacy (the request_fn driver of Linux up to 4.2)");
  if (legacy_)
    st.add("/requests_waited_for_ring", legacy_waited_, "requests",
           "legacy: requests that found the ring full and waited in the request queue for the interrupt to send them");
  st.info(
      "/ring_lock", [this] { return ring_lock_kind_; },
      "each ring's ring_lock (ticket, qspinlock, off), with default resolved by the domU's kernel");
  st.info(
      "/irq_affinity", [this] { return irq_policy_; },
      "event-channel placement in force (irq_affinity with default resolved by the domU's kernel)");
  for (std::size_t q = 0; q < queues_.size(); ++q) {
    BlkifQueue& b    = queues_[q];
    std::string ring = "/rings/" + std::to_string(q) + "/";
    auto coalesced   = [](const EventChannelState& port) {
      return
          [&port](const StatWindow&) { return json(port.notifications_coalesced() + port.notifications_deferred()); };
    };
    b.channel.track_stats(st);
    st.info(
        ring + "queue", [q] { return q; }, "queue index");
    st.info(
        ring + "slots", [&b] { return b.channel.ring().size(); }, "ring slots (32 x 2^ring-page-order)");
    st.info(
        ring + "event_channel_vcpu", [&b] { return b.channel.frontend().bound_vcpu(); },
        "vCPU the ring's event channel upcalls");
    st.add(ring + "mean_occupancy", b.occupancy_avg, "slots", "time-averaged slots in use (req_prod_pvt - rsp_cons)");
    st.add(ring + "requests_notified", b.channel.ring().stat_requests_notified(), "pushes",
           "request pushes that notified the backend (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY)");
    st.add(ring + "requests_suppressed", b.channel.ring().stat_requests_suppressed(), "pushes",
           "request pushes whose notification req_event suppressed");
    st.add(ring + "responses_notified", b.channel.ring().stat_responses_notified(), "pushes",
           "response pushes that notified the frontend");
    st.add(ring + "responses_suppressed", b.channel.ring().stat_responses_suppressed(), "pushes",
           "response pushes whose notification rsp_event suppressed");
    st.formula(
        ring + "frontend_upcalls", [&b](const StatWindow&) { return json(b.channel.frontend().upcalls()); }, "upcalls",
        "upcalls to the frontend's vCPU (blkif_interrupt)");
    st.formula(ring + "frontend_coalesced", coalesced(b.channel.frontend()), "notifications",
               "notifications to the frontend that found the port pending or masked");
    st.formula(
        ring + "backend_upcalls", [&b](const StatWindow&) { return json(b.channel.backend().upcalls()); }, "upcalls",
        "upcalls in dom0 for the ring's kthread");
    st.formula(ring + "backend_coalesced", coalesced(b.channel.backend()), "notifications",
               "notifications to the backend that found the port pending or masked");
    st.add(ring + "backend_wakeups", b.backend_wakeups, "wakeups", "backend kthread woken by a notification");
    st.add(ring + "backend_batches", b.batch, "passes",
           "backend passes over the ring (__do_block_io_op) by requests consumed");
    st.add(ring + "max_responses_per_interrupt", b.responses_per_irq_max, "responses",
           "most responses one blkif_interrupt consumed");
    st.add(ring + "header_line_transfers", b.sring_line.stat_transfers(), "transfers",
           "moves of the ring header's cache line (req_prod...rsp_event) between the cores writing it");
    if (SpinLock* lock = ring_lock(static_cast<unsigned>(q)); lock != nullptr)
      lock->track_stats(st, ring + "ring_lock");
  }
}

PVSIM_REGISTER_MODEL(XenBlkfront);

} // namespace pvsim::xen
