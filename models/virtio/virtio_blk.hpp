/* pvsim model "virtio.blk": a virtio-blk disk of a KVM guest, the Linux driver (drivers/block/virtio_blk.c) and the
 * QEMU device (hw/block/virtio-blk.c) in one component, as xen.blkfront and xen.blkback are a pair.
 *
 * Models:
 * - Queues and tags (virtio_blk.c init_vq, virtblk_probe): nr_hw_queues = min(num_queues, vCPUs) request virtqueues
 *   (num_queues is QEMU's num-queues, by default -smp N; poll queues are not modelled); blk-mq's queue_depth is the
 *   virtqueue's num_free, halved when the device does not offer VIRTIO_RING_F_INDIRECT_DESC.
 * - The split vring of each virtqueue: descriptors (one per request with indirect descriptors, else one for the
 *   header, one per 4 KiB data segment and one for the status), the avail ring (avail idx, the device's
 *   last_avail_idx), the used ring (used idx, the driver's last_used_idx), and VIRTIO_RING_F_EVENT_IDX notification
 *   suppression on both sides with vring_need_event()'s 16-bit wrap-around arithmetic (the same test as Xen's ring
 *   macros): the driver kicks (virtqueue_kick_prepare) only when the device's avail_event lies in the entries it just
 *   published; the device notifies (virtio_split_should_notify) only when the driver's used_event lies in the entries
 *   pushed since its last check. Without EVENT_IDX, the VRING_USED_F_NO_NOTIFY / VRING_AVAIL_F_NO_INTERRUPT flags.
 * - Guest submission: virtio_queue_rq on the submitting vCPU (queue_rq_cpu), virtqueue_add_sgs; with too few free
 *   descriptors, -ENOSPC stops the hardware queue (blk_mq_stop_hw_queue) and requests wait (hctx->dispatch) until a
 *   completion frees descriptors: virtblk_done then calls blk_mq_start_stopped_hw_queues(async), which queues the
 *   hctx's run_work on kblockd on the hctx's next CPU (blk_mq_hctx_next_cpu: the hctx's CPUs in turn, 8 runs each;
 *   one pending run at a time). Differs from the kernel with one hardware queue: there blk_mq_hctx_next_cpu()
 *   returns WORK_CPU_UNBOUND and kblockd, a per-CPU workqueue, runs the work on the queuing CPU (kernel/workqueue.c
 *   __queue_work(): raw_smp_processor_id()), virtblk_done's vCPU, where the traced guest's fio also ran (86 % of its
 *   requests, blktrace at qd16); fio's job sits on vCPU 0 here, and the turns put half the runs beside it, which
 *   stands for that contention. Running them on the interrupt's vCPU alone made the shared traces' ring-full runs
 *   faster still (5-fold with session 45's calibration: qd128 +26 %, qd256 +35 %, against +19 % and +22 %; README
 *   "Validation against real hosts"). That kworker wakes up and runs the queue (restart_cpu), passing each
 *   waiting request through queue_rq again (queue_rq_cpu) until the ring is full again, and then, with an I/O
 *   scheduler above (blk_mq's mq-deadline), the scheduler's requests on the same kworker (BlockDriver::Upper). A
 *   kick is an ioeventfd write: a VM exit on the vCPU (kick_cpu), then the eventfd reaches the virtqueue's AioContext
 * after kick_latency. KVM signals the eventfd inside the exit (virt/kvm/eventfd.c ioeventfd_write()), kick_signal_share
 *   of the way through it; the default, 1, signals it at the exit's end (evaluated: 0.5 made the leave-out figures
 *   on the real traces worse, README "Validation against real hosts").
 * - Device, unless `vmm` names a VMM with its own device code (Firecracker: firecracker.vmm, through
 *   virtio_blk_backend.hpp; then the VMM pops, serves and interrupts, and request_cpu, used_cpu and notify_cpu here
 *   are not used): virtio_blk_handle_vq on the virtqueue's IOThread: notifications off (avail_event left where it was),
 *   pop every request (request_cpu each: virtqueue_pop, virtio_blk_handle_request, blk_aio_preadv) into the
 *   AioContext's engine, notifications on (avail_event = avail idx), re-check, loop; then defer_call_end lets the
 *   engine submit what it batched. Kicks during a pass only set the eventfd: one more pass follows. Under the
 *   IOThread's adaptive polling (qemu_iothread.hpp), each virtqueue is a polled handler (hw/virtio/virtio.c,
 *   QEMU 9.2: virtio_queue_host_notifier_aio_poll_begin/_end, virtio_queue_host_notifier_aio_poll): in poll mode
 *   its notifications are off, and with EVENT_IDX avail_event is not moved (vring_set_avail_event() returns early,
 *   also in virtqueue_pop), so after at most one more kick the guest stops kicking; the poll sees a request as soon
 *   as the guest publishes it and runs the handler, which then leaves the notifications alone
 *   (virtio_blk_handle_vq: suppress_notifications = virtio_queue_get_notification(vq)). Leaving poll mode turns
 *   them on (avail_event = avail idx) and checks the ring once more. Completion on the
 *   same IOThread (used_cpu: virtio_blk_rw_complete, virtqueue_push), then an irqfd write (notify_cpu) when
 *   virtio_should_notify says so; the MSI-X interrupt reaches the virtqueue's vCPU after irq_latency.
 * - Guest completion: vring_interrupt (irq_cpu; spurious when nothing is used) and virtblk_done: callbacks off, every
 *   used buffer (complete_cpu each: virtqueue_get_buf, blk_mq_complete_request), virtqueue_enable_cb (used_event =
 *   last_used_idx) and its re-check, loop. An MSI-X message for a vector already pending in the local APIC (IRR)
 *   merges into it.
 * - One MSI-X vector per virtqueue, bound to a vCPU: the first vCPU of the group group_cpus_evenly() gives the queue
 *   (the virtio0-req.N interrupts, one per queue: vCPU q when there are as many queues as vCPUs), or vCPU 0.
 * - The CPU -> queue map (block/blk-mq-virtio.c blk_mq_virtio_map_queues(), since 4.11): over PCI with managed
 *   vectors blk-mq takes each queue's CPUs from its vector's affinity mask (group_cpus_evenly's spread); over
 *   virtio-mmio (Firecracker: no get_vq_affinity) and before 4.11 it falls back to the kernel's blk_mq_map_queues(),
 *   whose map changed across kernels (models/linux/blk_mq_map_eras.cpp). `transport` chooses.
 * - Virtqueue to IOThread: `iothread` (every virtqueue there) or `iothread_vq_mapping` (QEMU 9's
 *   iothread-vq-mapping: virtqueue i on iothreads[i mod n]); one of the two is required (QEMU's main loop is one
 *   more qemu.iothread). Each request is submitted through the AIO engine of its virtqueue's AioContext to this
 *   disk's backing device (`target`).
 * - An admission gate (VirtioBlkGate, installed by a qemu.migration): the handler pops a request only while the gate
 *   admits it; what it does not admit stays in the avail ring, and the handler runs again when the gate reopens (a
 *   completion, gate_changed()). Not a QEMU mechanism: the hook of pvsim's bounded-drain policies and of vm_stop's
 *   dataplane stop (virtio_blk_data_plane_stop: no handler runs while the VM is stopped).
 * - Hot-plug (plug_at, unplug_at: device_add / device_del with iothread=): the disk joins its AioContexts at plug_at
 *   (their sizing policy reacts) and leaves them at unplug_at once its rings are empty.
 * Leaves out: poll queues and polled completion, packed rings, VIRTIO_F_NOTIFY_ON_EMPTY (legacy, not negotiated by
 * Linux), virtqueue_enable_cb_delayed (used by virtio-net, not virtio-blk), blk-mq batching (bd->last, queue_rqs:
 * every request is kicked as the last of its batch), request merging and splitting, flush/discard/write-zeroes,
 * the I/O scheduler in front of the restarted queue, irqfd notification batching
 * (defer_call around virtio_notify_irqfd in some QEMU versions), ioeventfd disabled (QEMU's vCPU-thread handling). */
#pragma once

#include "models/host/guest_vm.hpp"
#include "models/linux/block_driver.hpp"
#include "models/qemu/qemu_iothread.hpp"
#include "models/virtio/virtio_blk_backend.hpp"
#include "models/virtio/vring.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/path_event.hpp"
#include "sim/probe.hpp"
#include "sim/stats.hpp"

#include <cstdint>
#include <memory>

namespace pvsim {

class VirtioBlk;

/** Decides whether the device may pop one more request of a disk now, and hears of the disk's requests (see the
 * header: installed by qemu.migration). `in_qemu`: popped by the device and not yet completed (in the engine or the
 * backing device). */
class VirtioBlkGate {
public:
  virtual ~VirtioBlkGate()                                         = default;
  virtual bool admit(const VirtioBlk& disk, std::uint64_t in_qemu) = 0;
  /** The guest queued a request (virtio_queue_rq, on its vCPU). */
  virtual void submitted(const VirtioBlk& disk, const Request& r) = 0;
  /** The device completed a request (virtio_blk_req_complete, on the IOThread); `in_qemu` after it. */
  virtual void completed(const VirtioBlk& disk, const Request& r, std::uint64_t in_qemu) = 0;
  /** The guest took the completion (virtblk_done: blk_mq_complete_request, on its vCPU). */
  virtual void delivered(const VirtioBlk& disk, const Request& r) = 0;
};

struct VirtioBlkParams {
  std::string vm;
  std::string target;
  std::string iothread;
  std::vector<std::string> iothread_vq_mapping;
  std::string vmm;
  long long num_queues;
  long long queue_size;
  bool indirect_desc;
  bool event_idx;
  std::string transport;
  std::string irq_affinity;
  std::vector<long long> irq_vcpus;
  double queue_rq_cpu_s;
  double kick_cpu_s;
  double kick_latency_s;
  double kick_signal_share;
  double request_cpu_s;
  double used_cpu_s;
  double notify_cpu_s;
  double irq_latency_s;
  double irq_cpu_s;
  double complete_cpu_s;
  double restart_cpu_s;
  double irq_ack_cpu_s;
  double plug_at_s;
  double unplug_at_s;
};

class VirtioBlk : public Component, public BlockDriver {
public:
  static constexpr const char* type_name = "virtio.blk";
  static constexpr const char* summary =
      "virtio-blk: the Linux driver's virtqueues and the QEMU device's handlers on IOThreads, event-idx suppression.";
  using Params = VirtioBlkParams;
  static const ParamTable<Params>& param_table();

  VirtioBlk(std::string name, const Params& p);
  void connect() override;
  void start(Simulation& sim) override;
  std::vector<QueueView> queues() const override;
  const Probe<PathEvent>* path_probe() const override { return &path_; }
  /** Without blk_mq in front, a job's request goes to the virtqueue of its vCPU (mod the queues). */
  void submit(Request* r) override;
  /** The AioContext completed a request of this disk (device side: virtio_blk_rw_complete). */
  void end_io(Request* r, double enter_s) override;
  void on_event(int kind, Request* r) override;

  // BlockDriver
  int nr_hw_queues() const override { return static_cast<int>(vqs_.size()); }
  int queue_depth() const override { return depth_; }
  void queue_rq(Request* r) override;
  /** The queue is stopped while requests wait for descriptors (virtio_queue_rq's -ENOSPC, until kblockd's run). */
  bool hw_queue_stopped(int hctx) const override
  {
    return not vqs_.at(static_cast<std::size_t>(hctx))->waiting.empty();
  }
  std::optional<std::string> map_queues_policy(const KernelVersion& kernel) const override;
  /** Hot-plug: [plug_at, unplug_at), infinity when never unplugged. */
  std::pair<double, double> plugged() const override;

  // --- the admission gate (VirtioBlkGate) --------------------------------------------------------------------------
  /** Installs the gate (one per disk; nullptr removes it). Only for virtqueues served by QEMU's handlers. */
  void set_gate(VirtioBlkGate* gate) { gate_ = gate; }
  bool served_by_vmm() const { return not vqs_.empty() and vqs_.front()->vmm != nullptr; }
  /** The gate may admit more now: the handler runs again on every virtqueue whose requests it held back. */
  void gate_changed();
  /** Requests popped by the device and not completed (in the IOThread, the AIO engine or the backing device). */
  std::uint64_t in_qemu() const { return in_qemu_; }
  /** Requests published in the avail ring and not popped. */
  std::uint64_t in_avail() const;
  /** Requests in the guest's stopped hardware queues (waiting for descriptors). */
  std::uint64_t in_driver() const;
  /** Requests in the used ring, not yet taken by the guest. */
  std::uint64_t in_used() const;

  /** Descriptors a request takes in the vring. */
  std::uint16_t descriptors(const Request* r) const;

  // --- the device half, for a VMM serving the virtqueues itself (`vmm`, virtio_blk_backend.hpp) -------------------
  /** Pops the next available request of virtqueue q, or nullptr when the avail ring is empty. */
  Request* device_pop(std::size_t q);
  /** The request last popped goes back to the front of the avail ring (Firecracker's undo_pop). */
  void device_undo_pop(std::size_t q, Request* r);
  /** Notifications off for a pass: with EVENT_IDX, avail_event stays where it was while popping. */
  void device_disable_notification(std::size_t q);
  /** avail_event = avail idx, then the re-check: true when the avail ring is empty (the pass may end). */
  bool device_enable_notification(std::size_t q);
  /** A used element written for r (not yet visible to the driver: used.idx not advanced). */
  void device_add_used(std::size_t q, Request* r);
  /** used.idx advanced over every element written; true when the driver must be interrupted (used_event). */
  bool device_publish_used(std::size_t q);
  /** The irqfd of virtqueue q was written now: the interrupt reaches its vCPU after irq_latency. */
  void device_interrupt(std::size_t q);
  /** Handler passes and requests per pass, counted by the backend. */
  void device_pass(std::size_t q, std::uint64_t popped);

private:
  enum Kind {
    queued    = 0,  // virtio_queue_rq done on the vCPU: add to the vring
    kicked    = 1,  // KVM signalled the ioeventfd, partway through the kick's VM exit
    eventfd   = 2,  // the kick reaches the AioContext
    handle_vq = 3,  // virtio_blk_handle_vq
    handled   = 4,  // virtio_blk_handle_request done for one request
    used      = 5,  // virtio_blk_req_complete: push to the used ring
    irqfd     = 6,  // the irqfd write is done: the MSI-X message is on its way
    interrupt = 7,  // the interrupt reaches the vCPU
    irq       = 8,  // vring_interrupt on the vCPU
    completed = 9,  // blk_mq_complete_request for one request
    irq_tail  = 10, // virtqueue_enable_cb and its re-check
    pass_tail = 11, // the end of one turn of virtio_blk_handle_vq's loop
    restart   = 12, // kblockd runs the restarted hardware queue
    kinds     = 16
  };
  /** The driver's end_io frame: a request holds it from virtio_queue_rq until virtblk_done completes it. */
  class DriverFrame : public Component {
  public:
    explicit DriverFrame(const std::string& disk) : Component(disk + ".driver", "virtio.blk driver") {}
    void start(Simulation&) override {}
    void end_io(Request* r, double) override { r->end_io(); }
  };
  struct Queue : public Station, public QemuIothread::PollHandler {
    Queue(VirtioBlk& owner, std::size_t q, std::uint16_t size, bool event_idx)
        : blk(owner), index(q), ring(size, event_idx)
    {
    }
    VirtioBlk& blk;
    std::size_t index;
    Vring ring;
    std::string name;      // "vda.vq1"
    RequestFifo waiting;   // stopped hardware queue: requests waiting for descriptors
    RequestFifo avail;     // published, not popped by the device
    RequestFifo used_list; // pushed to the used ring, not yet taken by the driver
    QemuIothread* iothread = nullptr;
    VirtioBlkBackend* vmm  = nullptr; // or a VMM's own device code serves it
    RequestFifo written;              // used elements written, used.idx not advanced yet (vmm)
    int irq_vcpu = 0;
    std::vector<int> cpus;         // the hctx's CPUs (kblockd runs its work on them in turn)
    std::size_t next_cpu  = 0;     // hctx->next_cpu (index into cpus)
    int next_cpu_batch    = 8;     // hctx->next_cpu_batch: runs left on next_cpu
    bool run_work_pending = false; // hctx->run_work queued on kblockd
    bool irq_pending      = false; // the vector's IRR bit: an interrupt raised and not yet taken
    // device side
    bool scheduled       = false; // a handler pass is queued or running
    bool eventfd_pending = false; // a kick arrived during the pass
    std::uint64_t popped = 0;     // requests popped in the current pass
    bool polled          = false; // the IOThread is in poll mode: notifications off (io_poll_begin)
    bool suppress        = true;  // the current pass toggles notifications (they were on when it began)
    bool gated           = false; // a pass ended with requests the gate held back in the avail ring
    // conservation (never restarted)
    std::uint64_t arrived = 0, added = 0, taken = 0;
    // statistics (sim/stats.hpp: registered by declare_stats, restarted by the engine)
    Counter stops, restarts, passes, kicks_coalesced, polled_passes;
    Counter interrupts, irq_coalesced, spurious;
    Maximum max_per_interrupt{true};
    Tally per_pass; // requests popped per handler pass → passes
    Level occupancy_avg;
    Probe<StationEvent> events;
    const Probe<StationEvent>& probe() const override { return events; }
    int servers() const override { return ring.num(); }
    Occupancy occupancy() const override { return {arrived, taken, waiting.size() + ring.in_flight()}; }
    void poll_begin() override;
    void poll_end() override;
  };
  int kind(std::size_t q, Kind k) const { return static_cast<int>(q) * kinds + k; }
  /** Registers the statistics, once the virtqueues exist (connect). */
  void declare_stats();
  void add(std::size_t q, Request* r, int vcpu);
  void pop_all(std::size_t q);
  /** The avail ring holds a request the gate lets the handler pop. */
  bool can_pop(std::size_t q) const;
  /** The IOThread's poll found requests in virtqueue q (virtio_queue_host_notifier_aio_poll): run the handler. */
  void poll_ready(std::size_t q);
  void drain(std::size_t q);
  /** blk_mq_hctx_next_cpu(): the CPU of the next kblockd run of queue q. */
  int kblockd_cpu(Queue& vq);
  double now() const;

  Params p_;
  GuestVm* vm_       = nullptr;
  Component* device_ = nullptr;
  Simulation* sim_   = nullptr;
  DriverFrame driver_;
  int depth_ = 0;
  std::vector<std::unique_ptr<Queue>> vqs_;
  Probe<PathEvent> path_;
  /** A path event of r on virtqueue q, with the ring's indices, if someone listens. */
  void step(PathEvent ev, std::size_t q, std::uint32_t slot, const CpuThread* thread);
  VirtioBlkGate* gate_   = nullptr;
  std::uint64_t in_qemu_ = 0;
  /** device_add at plug_at: the virtqueues' AioContexts get the disk; device_del at unplug_at: they let it go once
   * every request of its virtqueues has completed (the guest's jobs have stopped, checked at validation). */
  struct Hotplug : EventTarget {
    VirtioBlk* self = nullptr;
    void on_event(int kind, Request*) override { kind == 0 ? self->plug() : self->begin_unplug(); }
  } hotplug_;
  bool unplugging_ = false;
  void plug();
  void begin_unplug();
  /** Detaches from the AioContexts once nothing is in the rings. */
  void maybe_detach();
};

} // namespace pvsim
