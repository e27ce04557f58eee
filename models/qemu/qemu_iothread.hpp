/* pvsim model "qemu.iothread": a QEMU IOThread (-object iothread), that is one AioContext and the thread that runs
 * its event loop. QEMU's main loop is an AioContext too: model it as one more qemu.iothread.
 *
 * Models: the thread as a CpuThread on a cpu.host (resource `cpus`) that sleeps in ppoll/epoll_wait when it has
 * nothing to do and is woken by an eventfd (a guest's kick through ioeventfd, the io_event eventfd, the io_uring fd,
 * the thread pool's completion BH) at wakeup_cpu; work arriving while it runs waits its turn, without a wake-up.
 * It runs the handlers of the virtqueues mapped to it (virtio.blk's iothread or iothread_vq_mapping), the submission
 * of their requests into its AIO engine and the completion callbacks. One AIO engine per AioContext (aio=threads,
 * native or io_uring, models/qemu/aio_engine.hpp), shared by every disk attached to it: its limits (max_threads,
 * max_events) apply to all of them together. Each disk keeps its own backing device (virtio.blk's `target`); the
 * engine issues a request to the device of the disk it came from. The engine's queue length is set by a sizing
 * policy (`sizing`: fixed, per-disk, adaptive; models/qemu/aio_sizing.hpp) at start, when a disk is attached or
 * detached (hot-plug) and, for adaptive, every sizing_interval.
 * The host's request queue of each backing device (host_nr_requests, sysfs queue/nr_requests: block/blk-mq-sched.c
 * blk_mq_init_sched(), Linux 5.x to 6.15: 2 x min(the hardware queue depth, BLKDEV_DEFAULT_RQ 128) = 256 under an I/O
 * scheduler, the driver's tag depth without one): a request that finds it full sleeps for a tag
 * (blk_mq_get_tag() without BLK_MQ_REQ_NOWAIT). With aio=native that sleep is inside io_submit(), on the AioContext's
 * thread: the thread is held (it reaps no completion, pops no virtqueue, for every disk attached) until the device
 * completes one request, and the iocbs after it in the call wait behind it; this is where a longer engine queue
 * makes things worse. With aio=threads a worker sleeps in preadv; with aio=io_uring the nowait issue fails with
 * -EAGAIN and the request is punted to an io-wq worker that sleeps: neither holds the AioContext.
 * Adaptive polling (QEMU 9.2: util/aio-posix.c aio_poll(), try_poll_mode(), run_poll_handlers(), poll_set_started();
 * iothread.c IOTHREAD_POLL_MAX_NS_DEFAULT = 32768 ns on POSIX hosts, properties poll-max-ns, poll-grow, poll-shrink,
 * the last two 0 by default): when its work is done the thread busy-polls its handlers for up to poll_ns before it
 * blocks. The polling burns host CPU (reported in the utilization and in poll/cpu_s). Work that arrives inside the
 * window (a request made available in a polled virtqueue, an AIO completion, a BH) is picked up at once, without
 * wakeup_cpu; after the window the thread blocks and the next eventfd wakes it as above. Entering poll mode calls
 * the handlers' io_poll_begin, leaving it io_poll_end, then the handlers are checked once more
 * (poll_set_started()); virtio.blk's are virtio_queue_host_notifier_aio_poll_begin/_end (hw/virtio/virtio.c):
 * virtqueue notifications off while in poll mode, so the guest's kicks are suppressed (see virtio_blk.hpp). Poll
 * mode lasts from the first window until one runs out (or poll_ns is 0), across the busy stretches between windows
 * that caught work, as aio_poll() keeps it when run_poll_handlers() made progress. poll_ns self-tunes after each
 * idle period from block_ns, the time from the thread going idle to the next work (poll plus sleep; aio_poll's
 * adjustment): block_ns <= poll_ns: unchanged; block_ns > poll_max: poll_ns / poll_shrink, or 0 when poll_shrink is
 * 0; else, while both poll_ns and block_ns are below poll_max, poll_ns * poll_grow (2 when 0), from 4000 ns when it
 * was 0, capped at poll_max. poll_ns starts at 0 (aio_context_new), so the first idle period after start blocks.
 * QEMU's main loop does not poll (aio_context_new() leaves poll_max_ns 0; only IOThreads get the default): a
 * qemu.iothread standing for it needs poll_max 0s (from the sources as remembered, not re-read here).
 * QEMU 10.0 keeps one poll time per handler (AioPolledEvent in each AioHandler, adjusted only for the handlers that
 * had an event, the window being the largest): not followed here, one poll_ns per AioContext as in 8.x and 9.x.
 * Leaves out: adaptive polling's adjustment at each aio_poll() of a busy stretch (here once per idle period: QEMU
 * also adjusts when an aio_poll() finds work ready at once, block_ns about 0), the time a poll takes to notice work
 * (0 here), the polling's hold on a core when the host has more threads than cores (its CPU is counted in the
 * thread's and its cpu.host's, CpuThread::account_spin(), but the core is not held meanwhile), POLL_IDLE_INTERVAL_NS (a
 * handler idle for 7 s leaves the polled set), the order of BHs, timers and fd handlers within one iteration, the
 * AioContext lock, a per-drive aio= (here the engine is the AioContext's: every disk attached uses the same one), the
 * main loop's other duties (monitor, migration). */
#pragma once

#include "models/host/cpu_host.hpp"
#include "models/qemu/aio_engine.hpp"
#include "models/qemu/aio_sizing.hpp"
#include "sim/component.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/params.hpp"

#include <map>
#include <memory>

namespace pvsim {

struct QemuIothreadParams : AioEngineParams, AioSizingParams {
  std::string cpus;
  long long host_nr_requests;
  double wakeup_cpu_s;
  double quantum_s;
  double poll_max_s;
  long long poll_grow;
  long long poll_shrink;
};

class QemuIothread : public Component, public AioEngine::Context {
public:
  /** A polled handler's io_poll_begin / io_poll_end (aio_set_event_notifier_poll): called when the AioContext enters
   * and leaves poll mode. io_poll_end may find work (the re-check after it): it then calls run(), which costs no
   * wake-up. While poll_mode(), the handler's owner calls run() itself as soon as work appears (io_poll). */
  class PollHandler {
  public:
    virtual ~PollHandler()    = default;
    virtual void poll_begin() = 0;
    virtual void poll_end()   = 0;
  };

  static constexpr const char* type_name = "qemu.iothread";
  static constexpr const char* summary =
      "A QEMU IOThread: one AioContext running virtqueue handlers, with one AIO engine shared by its disks.";
  using Params = QemuIothreadParams;
  static const ParamTable<Params>& param_table();

  QemuIothread(std::string name, const Params& p);
  bool accepts_requests() const override { return false; }
  void connect() override;
  void start(Simulation& sim) override;
  void estimate_resources(ResourceEstimate& e) const override;
  std::vector<QueueView> queues() const override;
  /** The backing device completed a request this AioContext issued. */
  void end_io(Request* r, double enter_s) override;

  // AioEngine::Context
  EventQueue& events() override;
  CpuHost& host() override { return *host_; }
  const std::string& id() override { return name(); }
  void run(double cost_s, EventTarget* target, int kind, Request* r = nullptr) override;
  void dispatch(Request* r) override;
  void complete(Request* r) override { r->end_io(); }

  /** `disk` (a virtio.blk) has a virtqueue served here, of `capacity` requests (its descriptors as blk-mq's tags see
   * them; called once per virtqueue, the capacities add up); its requests go to `device`. Its requests enter the
   * engine with the disk's end_io frame on top, which tells dispatch() where they go. */
  void attach(const Component& disk, Component& device, long long capacity);
  /** `disk` leaves this AioContext (device_del, or its iothread changed): called once none of its requests is in the
   * engine any more (the disk drained first). Attach and detach may be called while the simulation runs (hot-plug);
   * the engine's sizing policy sees the number of disks attached. */
  void detach(const Component& disk);
  /** Disks attached now. */
  std::size_t disks() const { return disks_.size(); }
  /** The AIO engine's queue length now (its sizing policy's choice). */
  long long queue_length() const { return engine_->length(); }
  /** A handler polled while the thread polls (a virtqueue's host notifier). */
  void add_poll_handler(PollHandler& h) { poll_handlers_.push_back(&h); }
  /** Adaptive polling is on (poll_max > 0). */
  bool polls() const { return poll_max_ns_ > 0; }
  /** In poll mode: the handlers' io_poll_begin has been called, io_poll_end not yet. */
  bool poll_mode() const { return poll_mode_; }
  /** The current poll time (ctx->poll_ns), in seconds. */
  double poll_s() const { return static_cast<double>(poll_ns_) * 1e-9; }
  AioEngine& engine() { return *engine_; }
  const CpuThread& thread() const { return thread_; }

  /** The qemu.iothread a port names, or an InputError naming the port. */
  static QemuIothread& from_port(const Component& owner, const std::string& port);

private:
  struct Disk {
    const Component* disk;
    std::size_t device; // index in devices_
    long long capacity;
  };
  /** A backing device as the host kernel sees it: its request queue of host_nr_requests (blk-mq's sched or driver
   * tags of the hctx the AioContext's CPU maps to). */
  struct Device {
    Component* component;
    std::uint64_t in_flight = 0;
    RequestFifo waiting; // requests sleeping for a tag (a worker in preadv, an io-wq punt)
  };
  /** Once the engine has started (its pool's workers exist). */
  void declare_stats();
  Disk* find_disk(const Component* disk);
  /** The sizing policy decides again; its length goes to the engine. */
  void resize(AioSizing::Why why, std::size_t disks_before);
  /** Gives the engine `length` (kept within the policy's bounds); a change after the start costs resize_cpu. */
  void set_queue_length(long long length, const SizingView& v, bool first);
  SizingView sizing_view() const;
  void sizing_tick();
  /** Issues r to its device now (a free tag). */
  void issue_to_device(Device& d, Request* r);
  struct SizingTimer : EventTarget {
    QemuIothread* self = nullptr;
    void on_event(int, Request*) override { self->sizing_tick(); }
  };
  // Adaptive polling (poll_max > 0): the thread's work goes through on_event() to see when the thread goes idle.
  enum class Idle { busy, polling, blocked };
  void on_event(int kind, Request* r) override;
  int route(EventTarget* target, int kind);
  /** The thread has nothing left to do: poll for poll_ns, or block. */
  void went_idle();
  /** The poll window ran out without work. */
  void window_over();
  /** Leaves poll mode (io_poll_end on every handler, which may find work). */
  void end_poll_mode();
  /** aio_poll's adjustment of poll_ns from the time it waited. */
  void adjust_poll_ns(double block_s);
  void set_poll_ns(long long ns);
  /** The thread polled from idle_since_s_ to now: its CPU (poll/cpu_s, and the thread's and its host's). */
  void account_poll();

  Params p_;
  CpuHost* host_   = nullptr;
  Simulation* sim_ = nullptr;
  CpuThread thread_;
  std::unique_ptr<AioEngine> engine_;
  std::vector<Disk> disks_;
  std::vector<Device> devices_;
  std::unique_ptr<AioSizing> sizing_;
  SizingTimer sizing_timer_;
  long long fixed_length_ = 1; // the engine's configured length (max_events, max_threads, ring_entries)
  long long upper_        = 1; // the longest length the policy may set
  // The host request queues: io_submit blocked on a full one (aio=native: the iocbs after it wait too).
  RequestFifo submit_wait_;
  double blocked_since_s_        = 0;
  std::uint64_t host_full_total_ = 0, host_full_seen_ = 0, waited_seen_ = 0;
  double cpu_seen_s_ = 0;
  Counter host_full_, resizes_;
  Sum blocked_s_;
  Level length_level_;
  Peak length_peak_;
  Counter wakeups_;
  long long poll_max_ns_     = 0;
  long long poll_ns_         = 0; // ctx->poll_ns
  Idle idle_                 = Idle::busy;
  bool poll_mode_            = false; // ctx->poll_started
  bool rechecking_           = false; // in io_poll_end's re-check: work found costs no wake-up
  double idle_since_s_       = 0;
  std::uint32_t window_      = 0; // poll windows started (the timer of an older one is stale)
  std::uint64_t outstanding_ = 0; // work posted to the thread, its continuation not run yet
  std::vector<std::pair<EventTarget*, int>> routes_;
  std::map<std::pair<EventTarget*, int>, int> route_ids_;
  std::vector<PollHandler*> poll_handlers_;
  Counter caught_, windows_, expired_;
  Sum poll_cpu_s_;
  Level poll_ns_level_;
};

} // namespace pvsim
