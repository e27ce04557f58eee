#include "models/virtio/virtio_blk.hpp"

#include "models/linux/blk_mq_map.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <limits>

namespace pvsim {

// --- the model ------------------------------------------------------------------------------------------------------

const ParamTable<VirtioBlkParams>& VirtioBlk::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("vm", &Params::vm, true, "The guest.vm the driver runs in.")
        .ref("target", &Params::target, true, "This disk's backing device (the host file or block device).")
        .resource("iothread", &Params::iothread, false,
                  "The qemu.iothread (AioContext) that serves every virtqueue (QEMU's iothread=).")
        .resource_list("iothread_vq_mapping", &Params::iothread_vq_mapping,
                       "qemu.iothreads serving the virtqueues: virtqueue i on the (i mod n)-th (QEMU 9's "
                       "iothread-vq-mapping without explicit vqs). Exclusive with 'iothread'.")
        .resource("vmm", &Params::vmm, false,
                  "A VMM that serves the virtqueues with its own device code instead of QEMU's handlers on an "
                  "IOThread (firecracker.vmm). Exclusive with 'iothread' and 'iothread_vq_mapping'; request_cpu, "
                  "used_cpu and notify_cpu are then not used (the VMM has its own costs).")
        .integer("num_queues", &Params::num_queues, 0, 0, 1024,
                 "Request virtqueues the device offers (num-queues; 0: one per vCPU). The driver uses at most one "
                 "per vCPU.",
                 "QEMU virtio-blk-pci num-queues = -smp N since 5.2 (commit 9445e1e15e66)")
        .integer("queue_size", &Params::queue_size, 256, 4, 1024, "Descriptors per virtqueue, a power of two.",
                 "QEMU hw/block/virtio-blk.c queue-size = 256 (since 5.0; 128 before)")
        .flag("indirect_desc", &Params::indirect_desc, true,
              "VIRTIO_RING_F_INDIRECT_DESC: a request takes one descriptor (else 2 + one per data segment, and the "
              "driver halves its tags).",
              "QEMU DEFINE_VIRTIO_COMMON_FEATURES: indirect_desc=on")
        .flag("event_idx", &Params::event_idx, true,
              "VIRTIO_RING_F_EVENT_IDX: avail_event/used_event suppression (else the NO_NOTIFY/NO_INTERRUPT flags).",
              "QEMU DEFINE_VIRTIO_COMMON_FEATURES: event_idx=on")
        .choice("transport", &Params::transport, {"pci", "mmio"}, std::string("pci"),
                "virtio transport: pci (QEMU's virtio-blk-pci: one MSI-X vector per virtqueue with managed affinity, "
                "and blk-mq maps CPUs to queues by that affinity) or mmio (Firecracker, QEMU's microvm: no per-queue "
                "affinity, blk-mq falls back to the kernel's blk_mq_map_queues()).",
                "Linux block/blk-mq-virtio.c blk_mq_virtio_map_queues(): get_vq_affinity or the fallback; "
                "virtio_mmio_config_ops has no get_vq_affinity")
        .choice("irq_affinity", &Params::irq_affinity, {"managed", "spread", "cpu0"}, std::string("managed"),
                "vCPU of virtqueue q's MSI-X vector: managed (Linux's managed affinity: the vCPU of q's "
                "group_cpus_evenly() group with the fewest managed vectors, the highest on a tie), the group's first "
                "vCPU (spread), or vCPU 0.",
                "Linux kernel/irq/matrix.c matrix_find_best_cpu_managed(); virtio-vm-1q and qemu-lab-tcg native_q1 "
                "(1 queue, 2 vCPUs): every completion interrupt on vCPU 1")
        .integers("irq_vcpus", &Params::irq_vcpus, 0, 4095,
                  "Explicit vCPU of each virtqueue's MSI-X vector (queue order; e.g. read off /proc/interrupts, where "
                  "the vector allocator may pick another CPU of the queue's mask); empty: irq_affinity decides.")
        .quantity("queue_rq_cpu", Dimension::duration, &Params::queue_rq_cpu_s, 1.0e-6, 0, 1,
                  "vCPU time of virtio_queue_rq per request (setup, sg mapping, virtqueue_add_sgs), beyond the job's "
                  "submit_cpu.",
                  "pvsim estimate")
        .quantity("restart_cpu", Dimension::duration, &Params::restart_cpu_s, 4.0e-6, 0, 1,
                  "vCPU time of one kblockd run of a restarted hardware queue (the kworker's wake-up and "
                  "blk_mq_run_hw_queue), beyond queue_rq_cpu per request it dispatches.",
                  "pvsim estimate: a kworker wake-up and context switch, 2-5 us; pvsim calibrate sets the job "
                  "thread's fitted wake-up cost")
        .quantity("kick_cpu", Dimension::duration, &Params::kick_cpu_s, 2.0e-6, 0, 1,
                  "vCPU time of a kick: the notify register write, a VM exit handled by KVM's ioeventfd.",
                  "pvsim estimate: 1.5-3 us per lightweight MMIO/PIO exit")
        .quantity("kick_latency", Dimension::duration, &Params::kick_latency_s, 1.0e-6, 0, 1,
                  "From the ioeventfd's signal to the eventfd being readable in the IOThread.", "pvsim estimate")
        .number("kick_signal_share", &Params::kick_signal_share, 1.0, 0.0, 1.0,
                "Share of kick_cpu the vCPU has spent when KVM signals the ioeventfd: the exit's way into KVM "
                "before, its way back to the guest after (1: at the end of the exit).",
                "Linux virt/kvm/eventfd.c ioeventfd_write() -> eventfd_signal(), called from the exit handler "
                "(kvm_io_bus_write) before the VM entry; 1 keeps pvsim's earlier timing")
        .quantity("request_cpu", Dimension::duration, &Params::request_cpu_s, 1.5e-6, 0, 1,
                  "IOThread CPU per request: virtqueue_pop, virtio_blk_handle_request, blk_aio_preadv/pwritev up to "
                  "the AIO engine.",
                  "pvsim estimate")
        .quantity("used_cpu", Dimension::duration, &Params::used_cpu_s, 0.6e-6, 0, 1,
                  "IOThread CPU per completion: virtio_blk_rw_complete, virtqueue_push and flush.", "pvsim estimate")
        .quantity("notify_cpu", Dimension::duration, &Params::notify_cpu_s, 1.0e-6, 0, 1,
                  "IOThread CPU of an interrupt: the irqfd eventfd write (virtio_notify_irqfd).", "pvsim estimate")
        .quantity("irq_latency", Dimension::duration, &Params::irq_latency_s, 2.0e-6, 0, 1,
                  "From the irqfd write to the MSI-X interrupt on the vCPU (KVM injection or posted interrupt).",
                  "pvsim estimate")
        .quantity("irq_cpu", Dimension::duration, &Params::irq_cpu_s, 1.5e-6, 0, 1,
                  "vCPU time per interrupt: entry, vring_interrupt, EOI, exit.", "pvsim estimate")
        .quantity("complete_cpu", Dimension::duration, &Params::complete_cpu_s, 0.8e-6, 0, 1,
                  "vCPU time per completion in virtblk_done: virtqueue_get_buf, blk_mq_complete_request.",
                  "pvsim estimate")
        .quantity("irq_ack_cpu", Dimension::duration, &Params::irq_ack_cpu_s, 8.0e-6, 0, 1,
                  "vCPU time per interrupt over virtio-mmio beyond irq_cpu: vm_interrupt reads INTERRUPT_STATUS and "
                  "writes INTERRUPT_ACK, two MMIO exits served in the VMM's userspace (transport mmio only; MSI-X "
                  "needs neither).",
                  "Linux drivers/virtio/virtio_mmio.c vm_interrupt(); Firecracker transport/mmio.rs MmioTransport "
                  "read()/write() of 0x60/0x64; pvsim estimate: two exits to userspace, about 4 us each")
        .quantity("plug_at", Dimension::duration, &Params::plug_at_s, 0.0, 0, 1e6,
                  "Hot-plug: when the disk is added (device_add with iothread=); its AioContexts get it then.",
                  "0: present from the start (cold-plugged)")
        .quantity("unplug_at", Dimension::duration, &Params::unplug_at_s, 0.0, 0, 1e6,
                  "Hot-unplug: when the disk is removed (device_del); it leaves its AioContexts once its rings are "
                  "empty (0: never).",
                  "0: never removed")
        .check([](const Params& p, const JsonNode& obj) {
          if ((p.queue_size & (p.queue_size - 1)) != 0)
            obj.child("queue_size")
                .fail("queue-size must be a power of two (virtio_blk_device_realize), got " +
                      std::to_string(p.queue_size));
          int servers =
              (p.iothread.empty() ? 0 : 1) + (p.iothread_vq_mapping.empty() ? 0 : 1) + (p.vmm.empty() ? 0 : 1);
          if (servers > 1)
            obj.fail("set only one of 'iothread', 'iothread_vq_mapping' (QEMU, virtio_blk_device_realize) and 'vmm'");
          if (servers == 0)
            obj.fail("virtio.blk needs what serves its virtqueues: 'iothread' or 'iothread_vq_mapping' (a QEMU "
                     "AioContext; QEMU's main loop is one more qemu.iothread) or 'vmm' (firecracker.vmm)");
          if (p.unplug_at_s > 0 and p.unplug_at_s <= p.plug_at_s)
            obj.child("unplug_at").fail("expected a time after plug_at");
          if ((p.plug_at_s > 0 or p.unplug_at_s > 0) and not p.vmm.empty())
            obj.child(p.plug_at_s > 0 ? "plug_at" : "unplug_at")
                .fail("hot-plug is modelled for disks on QEMU IOThreads, not with 'vmm'");
        });
    return tb;
  }();
  return t;
}

std::optional<std::string> VirtioBlk::map_queues_policy(const KernelVersion& kernel) const
{
  // virtblk_map_queues() -> blk_mq_virtio_map_queues() since ad71473d9c43 ("virtio_blk: use virtio IRQ affinity",
  // 4.11): each queue's CPUs are its vector's managed affinity mask, spread by irq_build_affinity_masks() (renamed
  // group_cpus_evenly() in 6.3, the same spread on one node). Without per-queue vectors (virtio-mmio) or before 4.11:
  // blk_mq_map_queues(). pvsim's non-managed placements ("spread", "cpu0") are not affinity masks: fallback too.
  if (p_.transport == "pci" and p_.irq_affinity == "managed" and not kernel.before(4, 11))
    return std::string("irq-affinity");
  return std::nullopt;
}

VirtioBlk::VirtioBlk(std::string name, const Params& p)
    : Component(std::move(name), type_name), p_(p), driver_(this->name())
{
}

void VirtioBlk::connect()
{
  vm_     = &GuestVm::from_port(*this, "vm");
  device_ = port("target");
  std::vector<QemuIothread*> iothreads;
  if (not p_.iothread.empty())
    iothreads.push_back(&QemuIothread::from_port(*this, "iothread"));
  for (std::size_t i = 0; i < p_.iothread_vq_mapping.size(); ++i)
    iothreads.push_back(&QemuIothread::from_port(*this, "iothread_vq_mapping/" + std::to_string(i)));
  VirtioBlkBackend* vmm = nullptr;
  if (not p_.vmm.empty()) {
    vmm = dynamic_cast<VirtioBlkBackend*>(port("vmm"));
    if (vmm == nullptr)
      fail("'" + port("vmm")->name() + "' (" + port("vmm")->type() + ") is not a VMM with its own virtio-blk device",
           "vmm");
  }

  // init_vq: num_vqs = min(num_queues, nr_cpu_ids), no poll queues.
  int vcpus   = vm_->vcpus();
  int offered = p_.num_queues > 0 ? static_cast<int>(p_.num_queues) : vcpus;
  int nr      = std::min(offered, vcpus);
  auto size   = static_cast<std::uint16_t>(p_.queue_size);
  // virtblk_probe: queue_depth = num_free, halved without indirect descriptors.
  depth_ = p_.indirect_desc ? size : size / 2;
  // group_cpus_evenly(nr) over the vCPUs: contiguous groups, the first (vcpus % nr) one larger.
  std::vector<std::vector<int>> groups(static_cast<std::size_t>(nr));
  for (int q = 0, first = 0; q < nr; ++q) {
    int size_q = vcpus / nr + (q < vcpus % nr ? 1 : 0);
    for (int c = first; c < first + size_q; ++c)
      groups[static_cast<std::size_t>(q)].push_back(c);
    first += size_q;
  }
  std::vector<int> managed = managed_irq_cpus(groups, vcpus);
  if (not p_.irq_vcpus.empty() and p_.irq_vcpus.size() != static_cast<std::size_t>(nr))
    fail("lists " + std::to_string(p_.irq_vcpus.size()) + " vCPUs for " + std::to_string(nr) + " virtqueues",
         "irq_vcpus");
  for (int q = 0; q < nr; ++q) {
    auto qi      = static_cast<std::size_t>(q);
    auto vq      = std::make_unique<Queue>(*this, qi, size, p_.event_idx);
    vq->name     = name() + ".vq" + std::to_string(qi);
    vq->iothread = vmm ? nullptr : iothreads[qi % iothreads.size()];
    vq->vmm      = vmm;
    vq->cpus     = groups[qi];
    if (not p_.irq_vcpus.empty()) {
      if (p_.irq_vcpus[qi] >= vcpus)
        fail("vCPU " + std::to_string(p_.irq_vcpus[qi]) + " does not exist (the guest has " + std::to_string(vcpus) +
                 ")",
             "irq_vcpus");
      vq->irq_vcpu = static_cast<int>(p_.irq_vcpus[qi]);
    } else if (p_.irq_affinity == "managed") {
      vq->irq_vcpu = managed[qi];
    } else {
      vq->irq_vcpu = p_.irq_affinity == "spread" ? groups[qi].front() : 0;
    }
    if (vmm) {
      vmm->attach(*this, qi, *device_);
    } else {
      if (p_.plug_at_s == 0)
        vq->iothread->attach(*this, *device_, depth_);
      vq->iothread->add_poll_handler(*vq);
    }
    vqs_.push_back(std::move(vq));
  }
  declare_stats();
}

void VirtioBlk::start(Simulation& sim)
{
  sim_          = &sim;
  hotplug_.self = this;
  if (p_.plug_at_s > 0)
    sim.events().schedule_in(p_.plug_at_s, &hotplug_, 0);
  if (p_.unplug_at_s > 0)
    sim.events().schedule_in(p_.unplug_at_s, &hotplug_, 1);
}

std::pair<double, double> VirtioBlk::plugged() const
{
  return {p_.plug_at_s, p_.unplug_at_s > 0 ? p_.unplug_at_s : std::numeric_limits<double>::infinity()};
}

void VirtioBlk::plug()
{
  for (auto& vq : vqs_)
    if (vq->iothread != nullptr)
      vq->iothread->attach(*this, *device_, depth_);
}

void VirtioBlk::begin_unplug()
{
  unplugging_ = true;
  maybe_detach();
}

void VirtioBlk::maybe_detach()
{
  for (auto& vq : vqs_)
    if (vq->ring.in_flight() > 0)
      return;
  unplugging_ = false;
  for (auto& vq : vqs_)
    if (vq->iothread != nullptr)
      vq->iothread->detach(*this);
}

double VirtioBlk::now() const
{
  return sim_->events().now();
}

std::uint16_t VirtioBlk::descriptors(const Request* r) const
{
  if (p_.indirect_desc)
    return 1; // virtqueue_use_indirect: header, data and status in one indirect table
  std::uint32_t segments = std::max<std::uint32_t>(1, (r->size_bytes + 4095) / 4096);
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(2 + segments, p_.queue_size));
}

void VirtioBlk::submit(Request* r)
{
  r->queue = (r->cpu < 0 ? 0 : r->cpu) % nr_hw_queues();
  queue_rq(r);
}

void VirtioBlk::queue_rq(Request* r)
{
  int vcpu = r->cpu < 0 ? 0 : r->cpu % vm_->vcpus();
  vm_->vcpu(vcpu).post_next(p_.queue_rq_cpu_s, this, kind(static_cast<std::size_t>(r->queue), queued), r);
}

void VirtioBlk::add(std::size_t q, Request* r, int vcpu)
{
  Queue& vq = *vqs_[q];
  vq.ring.add(descriptors(r));
  vq.avail.push(r);
  vq.added++;
  vq.events.emit({StationEvent::What::start, now(), r, r->stage_s});
  vq.occupancy_avg.set(now(), vq.ring.in_flight());
  bool kick = vq.ring.kick_prepare();
  if (path_.connected())
    step(PathEvent(PathEvent::What::request_pushed, now(), r, kick), q, vq.ring.indices().req_prod - 1,
         &vm_->vcpu(vcpu));
  if (kick) // up to the ioeventfd's signal; the exit's way back is posted once it is signalled
    vm_->vcpu(vcpu).post_next(p_.kick_cpu_s * p_.kick_signal_share, this, kind(q, kicked));
  if (vq.iothread and vq.iothread->poll_mode())
    poll_ready(q);
}

void VirtioBlk::poll_ready(std::size_t q)
{
  Queue& vq = *vqs_[q];
  if (vq.scheduled) // a pass is queued or running: its re-check (virtio_queue_empty) pops it
    return;
  vq.scheduled = true;
  ++vq.polled_passes;
  vq.iothread->run(0, this, kind(q, handle_vq));
}

void VirtioBlk::Queue::poll_begin()
{
  // virtio_queue_host_notifier_aio_poll_begin: virtio_queue_set_notification(vq, 0). With EVENT_IDX avail_event
  // stays where it was (vring_set_avail_event() returns early while notifications are off), so the guest kicks once
  // more at most, then not until poll mode ends.
  polled = true;
  ring.set_notification(false);
}

void VirtioBlk::Queue::poll_end()
{
  // virtio_queue_host_notifier_aio_poll_end: notifications on (avail_event = avail idx); the caller polls once
  // more for requests that raced with it.
  polled = false;
  ring.set_notification(true);
  if (not ring.device_empty())
    blk.poll_ready(index);
}

void VirtioBlk::on_event(int k, Request* r)
{
  auto q    = static_cast<std::size_t>(k / kinds);
  Queue& vq = *vqs_[q];
  switch (static_cast<Kind>(k % kinds)) {
  case queued: { // virtio_queue_rq: virtblk_add_req, or -ENOSPC and a stopped queue
    double t   = now();
    r->stage_s = t;
    r->push_end_io(&driver_, t);
    vq.arrived++;
    vq.events.emit({StationEvent::What::arrive, t, r, t});
    if (gate_ != nullptr)
      gate_->submitted(*this, *r);
    int vcpu = r->cpu < 0 ? 0 : r->cpu % vm_->vcpus();
    if (vq.waiting.empty() and vq.ring.num_free() >= descriptors(r)) {
      add(q, r, vcpu);
      break;
    }
    if (vq.waiting.empty())
      ++vq.stops; // blk_mq_stop_hw_queue
    vq.waiting.push(r);
    break;
  }
  case kicked: // KVM signalled the ioeventfd; the vCPU still has the exit's way back to the guest
    sim_->events().schedule_in(p_.kick_latency_s, this, kind(q, eventfd));
    if (double rest = p_.kick_cpu_s * (1 - p_.kick_signal_share); rest > 0 and CpuThread::current() != nullptr)
      CpuThread::current()->post_next(rest, nullptr, 0); // a continuation of the kick's first part: its vCPU
    break;
  case eventfd: // virtio_queue_host_notifier_read in the virtqueue's AioContext
    if (vq.vmm) {
      vq.vmm->notified(*this, q);
      break;
    }
    if (vq.scheduled) {
      vq.eventfd_pending = true;
      ++vq.kicks_coalesced;
      break;
    }
    vq.scheduled = true;
    vq.iothread->run(0, this, kind(q, handle_vq));
    break;
  case handle_vq: // virtio_blk_handle_vq: event_notifier_test_and_clear, defer_call_begin, notifications off
    vq.eventfd_pending = false;
    ++vq.passes;
    vq.popped   = 0;
    vq.suppress = not vq.polled; // suppress_notifications = virtio_queue_get_notification(vq)
    if (vq.suppress)
      vq.ring.set_notification(false);
    pop_all(q);
    break;
  case handled: // blk_aio_preadv/pwritev: into the AioContext's engine
    r->push_end_io(this, now());
    vq.iothread->engine().submit(r);
    break;
  case pass_tail: // notifications on (avail_event = avail idx), then the loop's re-check
    if (vq.suppress)
      vq.ring.set_notification(true);
    if (can_pop(q)) {
      if (vq.suppress)
        vq.ring.set_notification(false);
      pop_all(q);
      break;
    }
    vq.per_pass.sample(static_cast<long long>(vq.popped));
    vq.iothread->engine().flush(); // defer_call_end()
    vq.scheduled = false;
    vq.gated     = not vq.ring.device_empty(); // the gate held these back: gate_changed() runs the handler again
    if (vq.eventfd_pending) {                  // kicked during the pass: the event loop runs the handler again
      vq.scheduled = true;
      vq.iothread->run(0, this, kind(q, handle_vq));
    }
    break;
  case used: { // virtio_blk_req_complete: virtqueue_push, virtio_notify_irqfd if virtio_should_notify
    vq.ring.push_used();
    vq.used_list.push(r);
    bool notify = vq.ring.should_notify();
    if (path_.connected())
      step(PathEvent(PathEvent::What::response_pushed, now(), r, notify), q, vq.ring.indices().rsp_prod - 1,
           &vq.iothread->thread());
    if (notify)
      vq.iothread->run(p_.notify_cpu_s, this, kind(q, irqfd));
    --in_qemu_;
    if (gate_ != nullptr) {
      gate_->completed(*this, *r, in_qemu_);
      gate_changed();
    }
    break;
  }
  case irqfd:
    sim_->events().schedule_in(p_.irq_latency_s, this, kind(q, interrupt));
    break;
  case interrupt: // the MSI-X message: one pending interrupt per vector in the local APIC (IRR)
    if (vq.irq_pending) {
      ++vq.irq_coalesced;
      break;
    }
    vq.irq_pending = true;
    vm_->vcpu(vq.irq_vcpu).post(p_.irq_cpu_s + (p_.transport == "mmio" ? p_.irq_ack_cpu_s : 0.0), this, kind(q, irq));
    break;
  case irq: // vring_interrupt
    vq.irq_pending = false;
    ++vq.interrupts;
    if (not vq.ring.more_used()) {
      ++vq.spurious; // IRQ_NONE: the buffers were taken by a previous pass
      break;
    }
    vq.ring.interrupt_taken();
    drain(q);
    break;
  case completed:
    if (gate_ != nullptr)
      gate_->delivered(*this, *r);
    r->end_io(); // the driver frame: blk_mq_complete_request, the tag goes back, the job hears of it
    break;
  case irq_tail: // while (!virtqueue_enable_cb(vq)); then blk_mq_start_stopped_hw_queues
    if (not vq.ring.enable_cb()) {
      drain(q);
      break;
    }
    // blk_mq_start_stopped_hw_queues(q, true): the stopped queue is run by kblockd (one pending run at a time).
    if (not vq.waiting.empty() and not vq.run_work_pending) {
      vq.run_work_pending = true;
      vm_->vcpu(kblockd_cpu(vq)).post(p_.restart_cpu_s, this, kind(q, restart));
    }
    break;
  case restart: { // blk_mq_run_hw_queue on the kworker: each waiting request through queue_rq again
    vq.run_work_pending = false;
    ++vq.restarts;
    int cpu = vq.cpus.empty() ? 0 : vq.cpus[vq.next_cpu];
    while (Request* w = vq.waiting.front()) {
      if (vq.ring.num_free() < descriptors(w)) {
        ++vq.stops; // -ENOSPC again: stopped until the next completion
        break;
      }
      vm_->vcpu(cpu).post_next(p_.queue_rq_cpu_s, nullptr, 0);
      add(q, vq.waiting.pop(), cpu);
    }
    if (vq.waiting.empty() and upper_ != nullptr) // blk_mq_run_hw_queue goes on into the I/O scheduler
      upper_->restarted(static_cast<int>(q), cpu);
    break;
  }
  default:
    break;
  }
}

int VirtioBlk::kblockd_cpu(Queue& vq)
{
  if (vq.cpus.empty())
    return 0;
  if (--vq.next_cpu_batch <= 0) {
    vq.next_cpu       = (vq.next_cpu + 1) % vq.cpus.size();
    vq.next_cpu_batch = 8; // BLK_MQ_CPU_WORK_BATCH
  }
  return vq.cpus[vq.next_cpu];
}

void VirtioBlk::pop_all(std::size_t q)
{
  // One turn of the do { } while (!virtio_queue_empty(vq)) loop: every request published so far is popped and
  // handled before anything else runs on the IOThread.
  Queue& vq = *vqs_[q];
  while (can_pop(q)) {
    vq.ring.pop();
    vq.popped++;
    ++in_qemu_;
    Request* r = vq.avail.pop();
    if (path_.connected()) {
      PathEvent taken(PathEvent::What::request_taken, now(), r);
      taken.batch = static_cast<std::uint32_t>(vq.popped);
      step(taken, q, vq.ring.indices().req_cons - 1, &vq.iothread->thread());
    }
    vq.iothread->run(p_.request_cpu_s, this, kind(q, handled), r);
  }
  vq.iothread->run(0, this, kind(q, pass_tail));
}

bool VirtioBlk::can_pop(std::size_t q) const
{
  return not vqs_[q]->ring.device_empty() and (gate_ == nullptr or gate_->admit(*this, in_qemu_));
}

void VirtioBlk::gate_changed()
{
  for (std::size_t q = 0; q < vqs_.size(); ++q) {
    Queue& vq = *vqs_[q];
    if (not vq.gated or vq.scheduled or vq.iothread == nullptr or not can_pop(q))
      continue;
    vq.gated     = false;
    vq.scheduled = true;
    vq.iothread->run(0, this, kind(q, handle_vq));
  }
}

std::uint64_t VirtioBlk::in_avail() const
{
  std::uint64_t n = 0;
  for (const auto& vq : vqs_)
    n += vq->avail.size();
  return n;
}

std::uint64_t VirtioBlk::in_driver() const
{
  std::uint64_t n = 0;
  for (const auto& vq : vqs_)
    n += vq->waiting.size();
  return n;
}

std::uint64_t VirtioBlk::in_used() const
{
  std::uint64_t n = 0;
  for (const auto& vq : vqs_)
    n += vq->used_list.size();
  return n;
}

Request* VirtioBlk::device_pop(std::size_t q)
{
  Queue& vq = *vqs_[q];
  if (vq.ring.device_empty())
    return nullptr;
  vq.ring.pop();
  Request* r = vq.avail.pop();
  vq.popped++; // in this pass (device_pass() ends it)
  if (path_.connected()) {
    PathEvent taken(PathEvent::What::request_taken, now(), r);
    taken.batch = static_cast<std::uint32_t>(vq.popped);
    step(taken, q, vq.ring.indices().req_cons - 1, vq.vmm->backend_thread());
  }
  return r;
}

void VirtioBlk::device_undo_pop(std::size_t q, Request* r)
{
  Queue& vq = *vqs_[q];
  vq.ring.undo_pop();
  vq.avail.push_front(r);
  vq.popped -= vq.popped > 0 ? 1 : 0;
}

void VirtioBlk::device_disable_notification(std::size_t q)
{
  vqs_[q]->ring.set_notification(false);
}

bool VirtioBlk::device_enable_notification(std::size_t q)
{
  Queue& vq = *vqs_[q];
  vq.ring.set_notification(true);
  return vq.ring.device_empty();
}

void VirtioBlk::device_add_used(std::size_t q, Request* r)
{
  vqs_[q]->written.push(r);
}

bool VirtioBlk::device_publish_used(std::size_t q)
{
  Queue& vq = *vqs_[q];
  if (vq.written.empty())
    return false;
  std::vector<Request*> pushed; // for the path events only
  while (Request* r = vq.written.pop()) {
    vq.ring.push_used();
    vq.used_list.push(r);
    if (path_.connected())
      pushed.push_back(r);
  }
  bool notify = vq.ring.should_notify();
  // One used.idx store for the batch, one notification decision for all of it.
  std::uint32_t slot = vq.ring.indices().rsp_prod - static_cast<std::uint32_t>(pushed.size());
  for (Request* r : pushed)
    step(PathEvent(PathEvent::What::response_pushed, now(), r, notify), q, slot++, vq.vmm->backend_thread());
  return notify;
}

void VirtioBlk::device_interrupt(std::size_t q)
{
  sim_->events().schedule_in(p_.irq_latency_s, this, kind(q, interrupt));
}

void VirtioBlk::device_pass(std::size_t q, std::uint64_t popped)
{
  Queue& vq = *vqs_[q];
  ++vq.passes;
  vq.per_pass.sample(static_cast<long long>(popped));
  vq.popped = 0;
}

void VirtioBlk::end_io(Request* r, double)
{
  vqs_[static_cast<std::size_t>(r->queue)]->iothread->run(p_.used_cpu_s, this,
                                                          kind(static_cast<std::size_t>(r->queue), used), r);
}

void VirtioBlk::drain(std::size_t q)
{
  // virtblk_done: callbacks off, every used buffer, then the re-check in irq_tail.
  Queue& vq      = *vqs_[q];
  CpuThread& cpu = vm_->vcpu(vq.irq_vcpu);
  vq.ring.disable_cb();
  std::uint64_t n = 0;
  while (vq.ring.more_used()) {
    Request* r = vq.used_list.pop();
    vq.ring.get_buf(descriptors(r));
    vq.taken++;
    n++;
    vq.events.emit({StationEvent::What::depart, now(), r, r->top().enter_s});
    if (path_.connected()) {
      PathEvent taken(PathEvent::What::response_taken, now(), r);
      taken.batch = static_cast<std::uint32_t>(n);
      step(taken, q, vq.ring.indices().rsp_cons - 1, &cpu);
    }
    cpu.post(p_.complete_cpu_s, this, kind(q, completed), r);
  }
  vq.occupancy_avg.set(now(), vq.ring.in_flight());
  vq.max_per_interrupt.sample(static_cast<double>(n));
  if (unplugging_)
    maybe_detach();
  cpu.post(0, this, kind(q, irq_tail));
}

void VirtioBlk::step(PathEvent ev, std::size_t q, std::uint32_t slot, const CpuThread* thread)
{
  const Queue& vq = *vqs_[q];
  ev.ring         = &vq.name;
  bool push       = ev.what == PathEvent::What::request_pushed;
  // The kick is a write to the queue's notify address that KVM turns into its ioeventfd; the device's notification an
  // MSI-X message on the queue's vector (vector 0 is the config change), or virtio-mmio's one interrupt line.
  bool pci      = p_.transport == "pci";
  ev.channel    = push ? "ioeventfd" : pci ? "MSI-X vector" : "virtio-mmio interrupt";
  ev.channel_id = push ? static_cast<int>(q) : pci ? static_cast<int>(q) + 1 : -1;
  ev.thread     = thread;
  ev.idx        = vq.ring.indices();
  ev.slot       = ev.idx.size > 0 ? slot % ev.idx.size : slot;
  path_.emit(ev);
}

std::vector<QueueView> VirtioBlk::queues() const
{
  std::vector<QueueView> out;
  for (std::size_t q = 0; q < vqs_.size(); ++q)
    out.push_back({vqs_[q]->name, vqs_[q].get()});
  return out;
}

void VirtioBlk::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/num_queues", [this] { return vqs_.size(); }, "request virtqueues the driver uses (min(num_queues, vCPUs))");
  st.info(
      "/queue_depth", [this] { return depth_; },
      "blk-mq's queue depth (num_free, halved without indirect descriptors)");
  st.info(
      "/indirect_desc", [this] { return p_.indirect_desc; }, "VIRTIO_RING_F_INDIRECT_DESC negotiated");
  st.info(
      "/event_idx", [this] { return p_.event_idx; }, "VIRTIO_RING_F_EVENT_IDX negotiated");
  for (std::size_t q = 0; q < vqs_.size(); ++q) {
    Queue& vq      = *vqs_[q];
    std::string vp = "/virtqueues/" + std::to_string(q) + "/";
    st.info(
        vp + "vq", [q] { return q; }, "virtqueue index");
    if (vq.iothread)
      st.info(
          vp + "iothread", [&vq] { return vq.iothread->name(); }, "the qemu.iothread (AioContext) serving it");
    st.info(
        vp + "irq_vcpu", [&vq] { return vq.irq_vcpu; }, "vCPU of its MSI-X vector");
    st.info(
        vp + "size", [&vq] { return vq.ring.num(); }, "virtqueue entries");
    st.add(vp + "mean_in_ring", vq.occupancy_avg, "entries",
           "time-averaged entries published and not yet taken back from the used ring");
    st.add(vp + "kicks", vq.ring.stat_kicks(), "kicks", "driver kicks (virtqueue_kick_prepare said notify)");
    st.add(vp + "kicks_suppressed", vq.ring.stat_kicks_suppressed(), "kicks",
           "kicks avail_event (or VRING_USED_F_NO_NOTIFY) suppressed");
    st.add(vp + "kicks_coalesced", vq.kicks_coalesced, "kicks",
           "kicks reaching the AioContext during a handler pass (one more pass follows)");
    st.add(vp + "notifications", vq.ring.stat_notifications(), "notifications",
           "device interrupts sent (virtio_should_notify said notify: an irqfd write)");
    st.add(vp + "notifications_suppressed", vq.ring.stat_notifications_suppressed(), "notifications",
           "device interrupts used_event (or VRING_AVAIL_F_NO_INTERRUPT) suppressed");
    st.add(vp + "interrupts", vq.interrupts, "interrupts", "vring_interrupt runs on the vector's vCPU");
    st.add(vp + "interrupts_coalesced", vq.irq_coalesced, "interrupts",
           "MSI-X messages merged into one already pending in the local APIC");
    st.add(vp + "spurious_interrupts", vq.spurious, "interrupts", "interrupts that found nothing used (IRQ_NONE)");
    st.add(vp + "max_used_per_interrupt", vq.max_per_interrupt, "requests",
           "most used buffers one virtblk_done pass took");
    st.add(vp + "handler_passes", vq.passes, "passes",
           vq.vmm ? "passes of the VMM's queue handler (Firecracker's process_queue)"
                  : "virtio_blk_handle_vq runs on the IOThread");
    if (vq.iothread and vq.iothread->polls())
      st.add(vp + "polled_passes", vq.polled_passes, "passes",
             "handler passes the IOThread's poll started (requests found without a kick: poll mode)");
    st.add(vp + "requests_per_pass", vq.per_pass, "passes", "handler passes by requests popped");
    st.add(vp + "queue_stops", vq.stops, "stops", "-ENOSPC: the hardware queue stopped for want of descriptors");
    st.add(vp + "queue_restarts", vq.restarts, "runs", "kblockd runs of the restarted hardware queue");
  }
}

PVSIM_REGISTER_MODEL(VirtioBlk);

} // namespace pvsim
