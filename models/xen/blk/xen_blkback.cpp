#include "models/xen/blk/xen_blkback.hpp"
#include "sim/resource_estimate.hpp"

#include "models/xen/blk/segments.hpp"
#include "models/xen/blk/xen_blkfront.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <stdexcept>

namespace pvsim::xen {

const ParamTable<XenBlkbackParams>& XenBlkback::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("cpus", &Params::cpus, true, "The cpu.host of dom0's CPUs, where the ring kthreads run.")
        .ref("target", &Params::target, true, "The backing device in dom0.")
        .integer("max_queues", &Params::max_queues, 0, 0, 1024,
                 "xen_blkback.max_queues advertised as multi-queue-max-queues (0: dom0's cores).",
                 "blkback.c: xenblk_max_queues = num_online_cpus()")
        .integer("max_ring_page_order", &Params::max_ring_page_order, 4, 0, 4,
                 "xen_blkback.max_ring_page_order advertised as max-ring-page-order.",
                 "blkback.c: XENBUS_MAX_RING_GRANT_ORDER = 4")
        .integer("max_indirect_segments", &Params::max_indirect_segments, 256, 0, 4096,
                 "feature-max-indirect-segments.", "xen-blkback/common.h: MAX_INDIRECT_SEGMENTS = 256")
        .flag("feature_persistent", &Params::feature_persistent, true, "Offer persistent grants.",
              "xen-blkback/xenbus.c: feature_persistent = true")
        .integer("max_pgrants", &Params::max_pgrants, blkback_max_persistent_grants, 0, 1 << 20,
                 "xen_blkback.max_persistent_grants: grants each ring keeps mapped; past it, grants are mapped and "
                 "unmapped per request.",
                 "blkback.c: max_pgrants = 1056 (module parameter max_persistent_grants), checked in xen_blkbk_map()")
        .choice("pgrants_pool", &Params::pgrants_pool, {"ring", "device"}, std::string("ring"),
                "Whose is the tree of persistent grants and its max_pgrants budget: each ring's (as merged) or the "
                "device's, shared by all its rings (the multi-queue series before its v4 patch 10, which the 2015 "
                "published figures of the RFC and of v4 without patches 9-10 ran).",
                "ring: Linux 4.6 and later, struct xen_blkif_ring persistent_gnts (\"xen/blkback: make pool of "
                "persistent grants and free pages per-queue\", v4 10/10, lkml Nov 2015); device: struct xen_blkif "
                "persistent_gnts before it")
        .version_choice("kernel", &Params::kernel, supported_kernels(), "6.18",
                        "Linux version dom0 runs (quote x.10 and x.20): late_eoi's default follows it.",
                        "6.18, as guest.vm's default")
        .choice("late_eoi", &Params::late_eoi, {"default", "on", "off"}, std::string("default"),
                "The event channel's EOI waits until the kthread's pass leaves no work (on) or comes as the handler "
                "returns (off, as before the XSA-332 fix); default: on from dom0 kernel 5.10 (older kernels got it "
                "only through stable backports: say on for a patched one).",
                "xenbus.c xen_blkif_map(): bind_interdomain_evtchn_to_irqhandler_lateeoi(); blkback.c "
                "xen_blkif_schedule(): xen_irq_lateeoi() (\"xen/blkback: use lateeoi irq binding\", Linux 5.10)")
        .version_choice("xen", &Params::xen, GrantTableLock::xen_versions(), "4.7",
                        "Xen version the host runs, for the grant table lock its map and unmap hypercalls take: 4.5 "
                        "(and earlier: a spinlock per guest), 4.6 (a rwlock read-locked by each op: its word moves "
                        "between cores), 4.7 (and later: a per-CPU rwlock, nothing shared).",
                        "xen/common/grant_table.c at RELEASE-4.5.0, 4.6.0 (40de9fffb4), 4.7.0 (eede22972f); 4.7: "
                        "every release since 2016")
        .choice("grant_lock", &Params::grant_lock, {"on", "off"}, std::string("on"),
                "Model the grant table lock of the Xen version (on), or let map and unmap ops contend on nothing "
                "(off), to see what it costs.",
                "models/xen/blk/grant_table_lock.hpp")
        .quantity("gnttab_lock_hold", Dimension::duration, &Params::gnttab_lock_hold_s, 0.5e-6, 0, 1,
                  "Xen 4.5: the part of map_segment_cpu spent holding the guest's grant table lock, the map op's "
                  "and the unmap op's critical sections together (the rest of map_segment_cpu runs outside it).",
                  "pvsim estimate from grant_table.c (RELEASE-4.5.0): map: get_maptrack_handle(), the pin under "
                  "rgt->lock (_set_status(), __get_paged_frame()), the maptrack entry under double_gt_lock(); unmap: "
                  "replace_grant_host_mapping() and the unpin under double_gt_lock(), put_maptrack_handle(); about "
                  "0.2 + 0.3 us of the 1.5 us per grant, not measured")
        .quantity("wakeup_cpu", Dimension::duration, &Params::wakeup_cpu_s, 2.0e-6, 0, 1,
                  "dom0 CPU each time a notification wakes the ring's kthread (wake-up, context switches).",
                  "pvsim estimate")
        .quantity("request_cpu", Dimension::duration, &Params::request_cpu_s, 2.0e-6, 0, 1,
                  "dom0 CPU per request: parsing it off the ring, building and submitting the bio.", "pvsim estimate")
        .quantity("persistent_segment_cpu", Dimension::duration, &Params::persistent_segment_cpu_s, 0.2e-6, 0, 1,
                  "Per grant (segment or indirect page) found in the ring's persistent tree (get_persistent_gnt()).",
                  "pvsim estimate")
        .quantity("map_segment_cpu", Dimension::duration, &Params::map_segment_cpu_s, 1.5e-6, 0, 1,
                  "Per grant not in the persistent tree (every grant without persistent grants): its map and unmap "
                  "(hypercalls, TLB flush), charged at dispatch, also for a grant the tree then keeps.",
                  "pvsim estimate")
        .quantity("response_cpu", Dimension::duration, &Params::response_cpu_s, 0.7e-6, 0, 1,
                  "dom0 CPU per completion: end_block_io_op and make_response.", "pvsim estimate")
        .quantity("notify_cpu", Dimension::duration, &Params::notify_cpu_s, 0.5e-6, 0, 1,
                  "dom0 CPU of the notify hypercall.", "pvsim estimate")
        .quantity("evtchn_latency", Dimension::duration, &Params::evtchn_latency_s, 2e-6, 0, 1,
                  "From the frontend's notification to the upcall in dom0.", "pvsim estimate")
        .quantity("quantum", Dimension::duration, &Params::quantum_s, 20e-6, 1e-9, 1,
                  "Most CPU work a kthread takes in one batch before acting on it.", "pvsim: 20us");
    return tb;
  }();
  return t;
}

XenBlkback::XenBlkback(std::string name, const Params& p)
    : Component(std::move(name), type_name), p_(p),
      late_eoi_(p.late_eoi == "default" ? not parse_kernel(p.kernel).before(5, 10) : p.late_eoi == "on"),
      gnttab_mechanism_(GrantTableLock::mechanism_of(p.xen, p.grant_lock == "on"))
{
}

BlkbackConfig XenBlkback::config() const
{
  BlkbackConfig c;
  const CpuHost& host     = CpuHost::from_port(*this, "cpus");
  c.max_queues            = static_cast<unsigned>(p_.max_queues > 0 ? p_.max_queues : host.cores());
  c.max_ring_page_order   = static_cast<unsigned>(p_.max_ring_page_order);
  c.max_indirect_segments = static_cast<unsigned>(p_.max_indirect_segments);
  c.feature_persistent    = p_.feature_persistent;
  return c;
}

void XenBlkback::connect()
{
  host_   = &CpuHost::from_port(*this, "cpus");
  device_ = port("target");
}

void XenBlkback::validate()
{
  if (front_ == nullptr)
    fail("no xen.blkfront names this backend: a backend serves exactly one frontend");
  if (p_.gnttab_lock_hold_s > p_.map_segment_cpu_s)
    fail("the grant table lock is held for a part of map_segment_cpu: it cannot exceed map_segment_cpu",
         "gnttab_lock_hold");
}

void XenBlkback::attach(XenBlkfront& front)
{
  if (front_ != nullptr and front_ != &front)
    front.fail("'" + name() + "' already serves '" + front_->name() + "': give each xen.blkfront its own xen.blkback",
               "backend");
  front_         = &front;
  unsigned order = front.negotiation().ring_page_order;
  reqs_per_ring_ = 32u << order; // XEN_BLKIF_REQS_PER_PAGE pending_reqs per ring page (xen_blkif_alloc_rings)
  rings_.reset(front.negotiation().num_queues);
  for (unsigned q = 0; q < front.negotiation().num_queues; ++q) {
    Ring& rg = rings_.emplace_back(name() + ".ring" + std::to_string(q), p_.quantum_s, front.queue(q), reqs_per_ring_,
                                   static_cast<unsigned>(p_.max_pgrants));
    rg.persistent = front.persistent();
    if (p_.pgrants_pool == "device")
      rg.pgrants.share_budget(&device_pgrants_);
  }
  declare_stats();
}

void XenBlkback::estimate_resources(ResourceEstimate& e) const
{
  e.add_actors(name(), static_cast<double>(rings_.size()), Simulation::actor_stack_bytes(), "ring kthreads");
}

void XenBlkback::start(Simulation& sim)
{
  sim_ = &sim;
  for (auto& r : rings_)
    host_->run(r.kthread, sim.events());
  if (gnttab_mechanism_ != GrantTableLock::Mechanism::none)
    share_grant_table_lock(sim);
}

const Component* XenBlkback::guest() const
{
  return front_->port("vm");
}

void XenBlkback::share_grant_table_lock(Simulation& sim)
{
  // One lock per guest domain: the first xen.blkback (in component order) serving a frontend of this guest owns it.
  XenBlkback* owner = this;
  for (const auto& c : sim.components()) {
    auto* b = dynamic_cast<XenBlkback*>(c.get());
    if (b != nullptr and b->front_ != nullptr and b->guest() == guest()) {
      owner = b;
      break;
    }
  }
  if (owner->p_.xen != p_.xen or owner->p_.grant_lock != p_.grant_lock)
    fail("'" + owner->name() + "' serves the same guest with xen " + owner->p_.xen + ", grant_lock " +
             owner->p_.grant_lock + ": the backends of one guest run on one hypervisor",
         "xen");
  if (owner->own_gnttab_ == nullptr) {
    owner->own_gnttab_ = std::make_unique<GrantTableLock>(guest()->name(), gnttab_mechanism_, host_->line_cost());
    owner->own_gnttab_->track_stats(owner->stats(), "/grant_table_lock", owner->p_.xen);
  }
  gnttab_ = owner->own_gnttab_.get();
  gnttab_->add_backend(name());
}

void XenBlkback::submit(Request*)
{
  throw std::logic_error("xen.blkback receives requests through its frontend's shared ring");
}

void XenBlkback::notify_from_frontend(unsigned q)
{
  sim_->events().schedule_in(p_.evtchn_latency_s, this, static_cast<int>(q) * kinds + upcall);
}

void XenBlkback::be_int(unsigned q)
{
  BlkifQueue& b = *rings_[q].queue;
  b.channel.lateeoi_ack(XenChannel::End::backend); // lateeoi_ack_dynirq(): masked for EOI_PENDING
  schedule_io_op(q);                               // blkif_notify_work(): waiting_reqs = 1, wake_up(&ring->wq)
  if (not late_eoi_)
    b.channel.lateeoi(XenChannel::End::backend); // an EOI as the handler returns: nothing can be pending yet
}

void XenBlkback::schedule_io_op(unsigned q)
{
  Ring& rg = rings_[q];
  if (rg.scheduled) {
    rg.waiting_reqs = true; // xen_blkif_schedule will loop once more
    return;
  }
  rg.scheduled = true;
  ++rg.queue->backend_wakeups;
  rg.kthread.post(p_.wakeup_cpu_s, this, static_cast<int>(q) * kinds + io_op);
}

void XenBlkback::do_block_io_op(unsigned q)
{
  Ring& rg        = rings_[q];
  BlkifQueue& b   = *rg.queue;
  rg.waiting_reqs = false;
  std::uint32_t n = 0;
  // __do_block_io_op(): every published request, while a pending_req is free and a response slot is left.
  while (b.channel.ring().unconsumed_requests() > 0 and not b.channel.ring().request_cons_overflow() and
         rg.pending_free > 0) {
    b.channel.ring().consume_request();
    Request* r = b.requests.front();
    b.requests.pop_front();
    rg.pending_free--;
    n++;
    // xen_blkbk_map(): each data segment and each indirect page is a grant to find in the tree or to map.
    PersistentGrantTree::MapResult m = rg.pgrants.map(b.shadow.at(static_cast<std::size_t>(r->tag)), rg.persistent);
    if (path_.connected()) {
      double now = sim_->events().now();
      PathEvent taken(PathEvent::What::request_taken, now, r);
      taken.batch = n;
      step(taken, q, b.channel.ring().slot(b.channel.ring().req_cons() - 1));
      PathEvent grants(PathEvent::What::grants, now, r);
      grants.persistent = static_cast<std::uint32_t>(m.hits);
      grants.mapped     = static_cast<std::uint32_t>(m.mapped);
      step(grants, q, b.channel.ring().slot(b.channel.ring().req_cons() - 1));
    }
    double lead = p_.request_cpu_s + m.hits * p_.persistent_segment_cpu_s;
    if (gnttab_ != nullptr) // each map op takes the guest's grant table lock
      gnttab_->post_dispatch(rg.kthread, lead, m, p_.map_segment_cpu_s, p_.gnttab_lock_hold_s, this,
                             static_cast<int>(q) * kinds + dispatch, r);
    else
      rg.kthread.post(lead + m.mapped * p_.map_segment_cpu_s, this, static_cast<int>(q) * kinds + dispatch, r);
  }
  b.batch.sample(n);
  // RING_FINAL_CHECK_FOR_REQUESTS writes req_event: the ring header's line comes to the kthread's core.
  rg.kthread.post(b.sring_line.write(rg.kthread.place(), host_->line_cost()), this,
                  static_cast<int>(q) * kinds + final_check);
}

void XenBlkback::on_event(int kind, Request* r)
{
  auto q        = static_cast<unsigned>(kind / kinds);
  Ring& rg      = rings_[q];
  BlkifQueue& b = *rg.queue;
  switch (kind % kinds) {
  case upcall: // the frontend's notification reaches dom0's port: an upcall unless pending or masked (EOI due)
    if (b.channel.backend().notify())
      be_int(q);
    break;
  case io_op:
    do_block_io_op(q);
    break;
  case dispatch:
    r->push_end_io(this, sim_->events().now()); // saves the guest's routing fields, restored at completion
    // The bio is submitted from the ring's kthread, in dom0: a blk-mq there maps the kthread's CPU, not the guest
    // vCPU (xen-blkback does not pin its kthreads; ring q's is taken to run on dom0 CPU q).
    r->cpu = static_cast<int>(q);
    device_->submit(r);
    break;
  case final_check: // do_block_io_op(): RING_FINAL_CHECK_FOR_REQUESTS, loop while it finds more
    if (rg.pending_free == 0) {
      // Out of pending_reqs: the kthread sleeps on pending_free_wq until a completion frees one (free_req).
      rg.out_of_reqs = true;
      rg.scheduled   = false;
    } else if (b.channel.ring().final_check_for_requests() or rg.waiting_reqs) {
      do_block_io_op(q);
    } else if (b.channel.lateeoi(XenChannel::End::backend)) {
      // xen_irq_lateeoi() raised a notification that came while the EOI was due: the handler acks it and sets
      // waiting_reqs before the kthread sleeps, so it goes round once more without a wake-up.
      b.channel.lateeoi_ack(XenChannel::End::backend);
      do_block_io_op(q);
    } else {
      rg.scheduled = false; // the EOI is sent (or nothing was due); the kthread sleeps until the next upcall
    }
    break;
  case respond: { // make_response(): one response, RING_PUSH_RESPONSES_AND_CHECK_NOTIFY
    bool notify = b.channel.push_responses(1);
    b.responses.push_back(r);
    if (path_.connected())
      step(PathEvent(PathEvent::What::response_pushed, sim_->events().now(), r, notify), q,
           b.channel.ring().slot(b.channel.ring().rsp_prod() - 1));
    rg.pending_free++;
    if (notify) {
      rg.kthread.post(p_.notify_cpu_s, nullptr, 0);
      front_->notify_from_backend(q);
    }
    // A freed pending_req wakes a kthread that ran out of them (free_req: wake_up(&ring->pending_free_wq)).
    if (rg.out_of_reqs) {
      rg.out_of_reqs = false;
      schedule_io_op(q);
    }
    break;
  }
  default:
    break;
  }
}

void XenBlkback::step(PathEvent ev, unsigned q, std::uint32_t slot)
{
  const XenChannel& ch = front_->queue(q).channel;
  ev.ring              = &front_->ring_name(q);
  ev.channel           = "event channel";
  ev.channel_id        = static_cast<int>(ch.frontend_evtchn());
  ev.thread            = &rings_[q].kthread;
  ev.idx               = ch.ring().indices();
  ev.slot              = slot;
  path_.emit(ev);
}

void XenBlkback::end_io(Request* r, double)
{
  Ring& rg     = rings_[static_cast<std::size_t>(r->queue)];
  CpuThread& t = rg.kthread;
  // make_response() writes rsp_prod (the ring header's line) under blk_ring_lock, which only this kthread takes.
  double line = rg.queue->sring_line.write(t.place(), host_->line_cost());
  t.post(p_.response_cpu_s + line, this, r->queue * kinds + respond, r);
}

void XenBlkback::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/late_eoi", [this] { return late_eoi_; }, "whether the EOI waits for the kthread's pass (late_eoi resolved)");
  st.info(
      "/pending_reqs_per_ring", [this] { return reqs_per_ring_; },
      "pending_reqs of each ring (XEN_BLKIF_REQS_PER_PAGE per ring page): requests in flight in the backend");
  if (p_.pgrants_pool == "device")
    st.info(
        "/persistent_grants", [this] { return device_pgrants_; },
        "grants the device keeps mapped for all its rings at the end of the run (pgrants_pool device: at most "
        "max_pgrants together)");
  for (std::size_t q = 0; q < rings_.size(); ++q) {
    CpuThread& t     = rings_[q].kthread; // its statistics restart with the cpu.host it runs on
    std::string ring = "/kthreads/" + std::to_string(q) + "/";
    st.info(
        ring + "kthread", [&t] { return t.name(); }, "the ring's kernel thread");
    st.formula(ring + "utilization", t.utilization(), "CPUs", "CPU time of the kthread per second of the window");
    st.formula(ring + "running_fraction", t.running_fraction(), "fraction",
               "fraction of the window the kthread spent executing, waiting for a core included");
    st.add(ring + "batches", t.stat_batches(), "batches", "batches of work the kthread ran");
    PersistentGrantTree& pg = rings_[q].pgrants;
    st.info(
        ring + "persistent_grants", [&pg] { return pg.size(); },
        "grants the ring keeps mapped at the end of the run (persistent_gnt_c, at most max_pgrants)");
    st.info(
        ring + "persistent_grants_full", [&pg] { return pg.overflowed(); },
        "whether a grant found the tree full (vbd.overflow_max_grants)");
    st.add(ring + "persistent_grant_hits", pg.stat_hits(), "grants",
           "grants found in the ring's persistent tree: no map (get_persistent_gnt())");
    st.add(ring + "grant_maps", pg.stat_maps(), "grants", "grants mapped (gnttab_map_refs()), kept or not");
    st.add(ring + "grant_unmaps", pg.stat_unmaps(), "grants",
           "grants mapped for one request and unmapped after it: the tree was full or persistent grants are off");
  }
}

PVSIM_REGISTER_MODEL(XenBlkback);

} // namespace pvsim::xen
