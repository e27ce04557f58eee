/* pvsim model "firecracker.vmm": the Firecracker VMM's event-loop thread serving virtio-blk drives with its own
 * device code (virtio.blk with `vmm`), as of Firecracker main at 81b38b9 (2026-08, after v1.16.1); `version` "1.0"
 * gives v1.0-v1.12's per-request used ring updates.
 *
 * Models:
 * - One thread for every device of the microVM (src/vmm/src/api_server_adapter.rs ApiServerAdapter::run_microvm():
 *   one EventManager loop; each device is a subscriber, device_manager/{mmio,pci_mngr}.rs add_subscriber): the
 *   drives attached here are served one handler at a time, in the order their events became ready; a handler runs to
 *   its end before the next. A thread asleep in epoll_wait pays wakeup_cpu when an event wakes it; each handler
 *   dispatch costs event_cpu (epoll return, the eventfd read).
 * - The queue handler (block/virtio/device.rs VirtioBlock::process_queue_event / process_queue): nothing but the
 *   eventfd read while the rate limiter is blocked or the io_uring is throttled; else pop requests until the avail
 *   ring is empty (devices/virtio/queue.rs pop_or_enable_notification(): avail_event is written only when the ring is
 *   found empty, then re-checked, so the guest kicks at most once per pass), one request at a time: request_cpu
 *   (pop, Request::parse, the rate-limit check, add_used) plus the engine's work.
 * - Used ring and interrupt: since v1.13 (commit ffe77023c) used.idx advances once at the end of a pass
 *   (advance_used_ring_idx) and one prepare_kick decides one interrupt (the irqfd write, notify_cpu); before, both
 *   after every request (version "1.0"). Either way vring_need_event() over used_event.
 * - Sync engine (default, block/virtio/io/sync_io.rs SyncFileEngine): the I/O is done on the thread, blocking
 *   (seek then read_exact_volatile / write_all_volatile): sync_io_cpu per request served by the host page cache;
 *   a miss blocks the thread (and every device on it) for the backing device's time, then costs a wake-up. A write
 *   the page cache takes may sleep in the syscall after its copy (sync_write_wait: the host's write path, Linux
 *   mm/page-writeback.c balance_dirty_pages_ratelimited() called per page by generic_perform_write(), the
 *   filesystem's block allocation and journal handle, fs/jbd2/transaction.c start_this_handle()), blocking the
 *   thread likewise; a write with a wait is served alone (the next request is popped once it is done).
 * - Async engine (io/async_io.rs AsyncFileEngine, io_uring/mod.rs): an io_uring of io_uring_entries (128,
 *   block/virtio/mod.rs IO_URING_NUM_ENTRIES) submission entries and twice as many completion entries; push() fails
 *   (ProcessingResult::Throttled: undo_pop, is_io_engine_throttled) when the submission queue is full or as many ops
 *   are in flight as the completion queue holds; one io_uring_enter per pass (kick_submission_queue) with
 *   uring_enter_cpu, plus uring_io_cpu per page-cache hit (done inline in the syscall); misses go to the backing
 *   device. Completions signal the ring's eventfd: the completion handler (process_async_completion_event) reaps
 *   every CQE (uring_cqe_cpu each, add_used), advances used.idx once, prepare_kick, then re-runs the queue if it was
 *   throttled.
 * - The host page cache: the backing file is opened without O_DIRECT (block/mod.rs DiskProperties), so a request
 *   is a hit with probability page_cache_hit, else it goes to the drive's backing device (virtio.blk `target`).
 * - The rate limiter (rate_limiter.hpp, token_bucket.hpp): checked per request before its I/O; a refusal puts the
 *   request back (undo_pop) and ends the pass; the limiter's timer (100 ms, or ratio × refill time) restarts the
 *   queue (process_rate_limiter_event).
 * The guest side (kicks through an ioeventfd, one MSI-X vector or the MMIO line, the driver's 128 tags for a
 * 256-entry ring without VIRTIO_RING_F_INDIRECT_DESC) is virtio.blk's: set queue_size 256, num_queues 1,
 * indirect_desc false, event_idx true (Firecracker's VirtioBlock::new() offers VERSION_1 and EVENT_IDX, FLUSH with
 * cache_type Writeback, never INDIRECT_DESC or MQ; BLOCK_QUEUE_SIZES = [256]).
 * Leaves out: the other devices' events on the same thread (net, vsock, balloon, serial, API requests: not
 * simulated, their load is not taken), vhost-user block, the unreleased threaded block worker (branches
 * feature/virtio-blk-threaded), flush/discard/GetDeviceID requests (pvsim's requests are reads and writes), dirty
 * page tracking, io_uring's io-wq workers (a miss costs the device's time only), page-cache eviction and readahead
 * (a fixed hit ratio), seccomp, snapshots. */
#pragma once

#include "models/firecracker/rate_limiter.hpp"
#include "models/host/cpu_host.hpp"
#include "models/virtio/virtio_blk.hpp"
#include "models/virtio/virtio_blk_backend.hpp"
#include "sim/component.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/params.hpp"
#include "sim/rng.hpp"

#include <deque>
#include <memory>

namespace pvsim {

struct FirecrackerVmmParams {
  std::string cpus;
  std::string version;
  std::string io_engine;
  double quantum_s;
  double wakeup_cpu_s;
  Distribution wakeup_latency;
  double event_cpu_s;
  double request_cpu_s;
  double sync_io_cpu_s;
  Distribution sync_write_wait;
  double uring_enter_cpu_s;
  double uring_io_cpu_s;
  double uring_cqe_cpu_s;
  double notify_cpu_s;
  long long io_uring_entries;
  double page_cache_hit;
  double bw_size_bytes;
  double bw_one_time_burst_bytes;
  double bw_refill_time_s;
  long long ops_size;
  long long ops_one_time_burst;
  double ops_refill_time_s;
};

class FirecrackerVmm : public Component, public VirtioBlkBackend {
public:
  static constexpr const char* type_name = "firecracker.vmm";
  static constexpr const char* summary =
      "Firecracker's VMM thread: one event loop serving its virtio-blk drives (Sync or io_uring engine, rate limiter).";
  using Params = FirecrackerVmmParams;
  static const ParamTable<Params>& param_table();

  FirecrackerVmm(std::string name, const Params& p);
  bool accepts_requests() const override { return false; }
  void connect() override;
  void start(Simulation& sim) override;
  void estimate_resources(ResourceEstimate& e) const override;
  void end_io(Request* r, double enter_s) override;
  void on_event(int kind, Request* r) override;

  // VirtioBlkBackend
  void attach(VirtioBlk& disk, std::size_t q, Component& device) override;
  void notified(VirtioBlk& disk, std::size_t q) override;

  const CpuThread& thread() const { return thread_; }
  const CpuThread* backend_thread() const override { return &thread_; }

private:
  enum Kind {
    run_queue      = 0,  // the thread runs the queue handler (process_queue_event)
    run_completion = 1,  // ... the io_uring completion handler (process_async_completion_event)
    run_timer      = 2,  // ... the rate limiter's (process_rate_limiter_event)
    served         = 3,  // a request's work on the thread is done (Sync: its I/O too; Async: its SQE pushed)
    miss_issue     = 4,  // Sync: the read/write syscall goes to the backing device
    entered        = 5,  // Async: io_uring_enter returned
    reaped         = 6,  // Async: the CQEs taken are in the used ring
    notified_irq   = 7,  // the irqfd write is done
    timer          = 8,  // the rate limiter's timerfd expired
    awake          = 9,  // the host runs the woken thread again (after wakeup_latency)
    write_copied   = 10, // Sync: a write's syscall has copied it into the page cache (it may sleep there yet)
    write_woken    = 11, // Sync: ... and the host wakes the thread from that sleep
    kinds          = 16
  };
  enum class Source { queue, completion, timer };
  struct Drive {
    Drive(VirtioBlk& d, std::size_t queue, Component& dev, RateLimiter rl)
        : disk(&d), q(queue), device(&dev), limiter(rl)
    {
    }
    VirtioBlk* disk;
    std::size_t q;
    Component* device;
    RateLimiter limiter;
    bool queue_evt      = false; // eventfd readable, handler not run yet
    bool completion_evt = false;
    bool timer_evt      = false;
    bool throttled      = false; // is_io_engine_throttled
    // the pass in progress
    std::uint64_t popped = 0;
    std::uint64_t posted = 0; // requests whose work is on the thread
    double posted_cost_s = 0; // their CPU, to date the rate-limit checks
    bool used_any        = false;
    bool stopped         = false; // the pass ends once its posted work is done (limiter, full io_uring)
    RequestFifo reaping;          // Async: CQEs taken by the running completion handler
    // Async
    RequestFifo sq;              // pushed, not submitted: page-cache hits
    RequestFifo sq_miss;         // ... and misses
    RequestFifo cq;              // completed, not reaped
    std::uint64_t uring_ops = 0; // submitted or pushed, not reaped
    Counter passes, throttles, limiter_blocks, hits, misses, reaps, write_waits;
    Sum write_wait_s;
    Tally per_pass;
    Maximum max_uring_ops{true};
  };
  int kind(std::size_t drive, Kind k) const { return static_cast<int>(drive) * kinds + k; }
  Drive& drive_of(int k) { return *drives_[static_cast<std::size_t>(k / kinds)]; }
  std::size_t index_of(const VirtioBlk& disk, std::size_t q) const;
  /** An event of drive d became ready: queue it for the loop (epoll), waking the thread if it sleeps. */
  void ready(std::size_t d, Source s);
  /** The thread is free: run the next ready handler, or sleep in epoll_wait. */
  void dispatch_next();
  void next_handler();
  /** Work of the running handler posted to the thread / done; the handler ends when it has said so (finishing_)
   * and nothing of it is left on the thread. */
  void post(double cost_s, std::size_t d, Kind k, Request* r = nullptr, bool next = false);
  void step_done();
  void begin_pass(std::size_t d);
  /** process_queue's loop from where it stands: pop, check, post the work; ends the pass when nothing is left. */
  void process_queue(std::size_t d);
  void end_pass(std::size_t d);
  /** add_used for a finished request (version 1.0: used.idx advanced and prepare_kick at once). */
  void add_used(std::size_t d, Request* r);
  /** advance_used_ring_idx and prepare_kick: posts the irqfd write when the driver must hear of it. */
  void publish(std::size_t d);
  bool is_hit();
  double now() const;

  Params p_;
  bool async_      = false;
  bool per_pass_   = true; // version >= 1.13
  CpuHost* host_   = nullptr;
  Simulation* sim_ = nullptr;
  CpuThread thread_;
  Rng rng_;
  std::vector<std::unique_ptr<Drive>> drives_;
  std::deque<std::pair<std::size_t, Source>> ready_;
  bool busy_           = false; // a handler is running (or its thread blocked in a syscall)
  bool asleep_         = true;  // in epoll_wait: the next event costs a wake-up
  bool finishing_      = false; // the running handler has nothing more to post
  bool woken_          = false; // the next handler pays wakeup_cpu
  std::uint64_t steps_ = 0;     // work items of the running handler still on the thread (or blocked)
  Counter wakeups_, handlers_;
};

} // namespace pvsim
