/* pvsim: QEMU's AIO engines, the aio= option of a host file or block device (block/file-posix.c), as classes behind
 * one interface, registered by name (no switch over names). An engine belongs to one AioContext (a qemu.iothread):
 * QEMU keeps one engine state per AioContext (aio_get_thread_pool(), aio_get_linux_aio(), aio_get_linux_io_uring()),
 * so every disk attached to that AioContext shares the engine's queue and its limits.
 *
 * Models:
 * - "threads" (util/thread-pool.c): thread_pool_submit_aio() queues the request on the pool's request_list and
 *   signals request_cond; an idle worker wakes up (worker_wakeup later), takes the oldest request and runs the
 *   blocking preadv/pwritev (worker_cpu on the host CPUs, the worker held for the whole I/O); at most max_threads
 *   workers (the IOThread's thread-pool-max, THREAD_POOL_MAX_THREADS_DEFAULT = 64): requests beyond wait in
 *   request_list. A finished worker marks the element THREAD_DONE, schedules the completion BH and takes the next
 *   request without sleeping; the BH (thread_pool_completion_bh) runs every done callback in the AioContext.
 * - "native" (block/linux-aio.c): laio_co_submit() appends the iocb to s->io_q.pending; while notifications are
 *   batched by defer_call (a virtqueue handler pass) the queue is submitted as soon as in_queue reaches
 *   laio_max_batch() = min(aio_max_batch, MAX_EVENTS - in_flight), else at defer_call_end (laio_deferred_fn).
 *   ioq_submit() issues io_submit() calls of every pending iocb that fits under max_events in flight (io_setup's
 *   MAX_EVENTS = 1024) and sets io_q.blocked when some stay pending: they wait for completions, after which
 *   qemu_laio_process_completions_and_submit() submits them. One io_submit per batch (io_submit_cpu + iocb_cpu each).
 * - "io_uring" (block/io_uring.c, QEMU 8.2 to 10.1): luring_co_submit() appends the sqe to io_q.submit_queue; it is
 *   submitted at once when in_flight + in_queue reaches the ring's MAX_ENTRIES (128), else at defer_call_end
 *   (luring_deferred_fn). ioq_submit() fills at most ring_entries sqes per io_uring_enter() and loops until the
 *   queue is empty: the SQ ring bounds a batch, not what is in flight (the kernel consumes sqes at io_uring_enter, and
 *   since IORING_FEAT_NODROP completions beyond the CQ ring wait in the kernel's overflow list).
 * - For native and io_uring, completions (io_event, cqe) wake the AioContext through its eventfd or the ring fd and
 *   are reaped in one pass (completion_cpu each) that also takes completions arriving meanwhile, then the pending
 *   queue is submitted. Engine statistics: QEMU's in_flight (submitted, not reaped) time average and maximum, the
 *   requests that had to wait for the limit (pending beyond max_events, no idle worker), batch sizes, system calls.
 * Leaves out: min_threads and the spawning of workers (the pool is warm: its threads exist, idle ones sleep), idle
 * workers exiting after 10 s, short reads and resubmission, -EAGAIN from io_submit, the completion peek right after
 * io_submit (ioq_submit's qemu_laio_process_completions: completions wait for their eventfd), io_uring's registered
 * files and SQPOLL, QEMU 10.2's aio_add_sqe() (disk I/O on the fdmon io_uring ring), aio=io_uring's completion polling
 * (qemu_luring_poll_cb), and where the host kernel completes the I/O (on whatever host CPU takes the interrupt). */
#pragma once

#include "models/host/cpu_host.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/event_queue.hpp"
#include "sim/params.hpp"
#include "sim/request.hpp"
#include "sim/station.hpp"
#include "sim/stats.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pvsim {

/** The engine's limits and costs; every engine reads the fields it has a use for. */
struct AioEngineParams {
  std::string aio;
  std::string qemu_version;
  long long max_threads;
  double pool_submit_cpu_s;
  double worker_wakeup_s;
  double worker_cpu_s;
  long long max_events;
  long long aio_max_batch;
  double io_submit_cpu_s;
  double iocb_cpu_s;
  long long ring_entries;
  double io_uring_enter_s;
  double sqe_cpu_s;
  double completion_cpu_s;
};

/** Registered engine names ("io_uring", "native", "threads"), sorted. */
std::vector<std::string> aio_engine_names();

/** Adds the engines' fields to the ParamTable of the model that owns an AioContext. */
template <class P>
void describe_aio_engine(ParamTable<P>& t)
{
  t.choice("aio", &P::aio, aio_engine_names(), std::string("threads"),
           "AIO engine of this AioContext, as QEMU's aio= (every disk attached here uses it and shares its queue).",
           "QEMU block/file-posix.c raw_open_common(): aio=threads unless aio=native or io_uring is given")
      .version_choice("qemu_version", &P::qemu_version, {"4.2", "5.0", "6.1", "9.2"}, "9.2",
                      "QEMU release whose defaults apply where max_events or aio_max_batch is 0 (MAX_EVENTS 128 before "
                      "5.0, 1024 since; no aio-max-batch before 6.1, 32 since).",
                      "pvsim follows 9.2 (the IOThread polling model's version)")
      .integer("max_threads", &P::max_threads, 64, 1, 1 << 16,
               "aio=threads: most worker threads of the AioContext's pool (the IOThread's thread-pool-max).",
               "include/block/thread-pool.h THREAD_POOL_MAX_THREADS_DEFAULT = 64")
      .quantity("pool_submit_cpu", Dimension::duration, &P::pool_submit_cpu_s, 1.5e-6, 0, 1,
                "aio=threads: AioContext CPU per request in thread_pool_submit_aio (element, lock, list, "
                "qemu_cond_signal's futex wake).",
                "pvsim estimate")
      .quantity("worker_wakeup", Dimension::duration, &P::worker_wakeup_s, 5e-6, 0, 1,
                "aio=threads: from qemu_cond_signal to an idle worker running (futex wake-up, scheduling).",
                "pvsim estimate: 2-10 us host scheduler wake-up latency")
      .quantity("worker_cpu", Dimension::duration, &P::worker_cpu_s, 4e-6, 0, 1,
                "aio=threads: host CPU of a worker per request: the preadv/pwritev system call through the host "
                "kernel (half before the I/O, half after) and the completion BH's eventfd write.",
                "pvsim estimate")
      .integer("max_events", &P::max_events, 0, 0, 1 << 20,
               "aio=native: io_setup() events, the most iocbs in flight per AioContext (beyond: io_q.pending); 0: "
               "qemu_version's MAX_EVENTS.",
               "block/linux-aio.c MAX_EVENTS (laio_init, ioq_submit): 128 before QEMU 5.0, 1024 since")
      .integer("aio_max_batch", &P::aio_max_batch, 0, 0, 1 << 20,
               "aio=native: pending iocbs that trigger an io_submit during a batched handler pass (the IOThread's "
               "aio-max-batch); 0: qemu_version's default (32 since 6.1; before, a batch grew until in_flight + "
               "in_queue reached MAX_EVENTS or the handler pass ended).",
               "QEMU 6.1 block/linux-aio.c DEFAULT_MAX_BATCH = 32 (laio_max_batch); before 6.1 laio_do_submit() "
               "submitted a plugged queue only at in_flight + in_queue >= MAX_EVENTS")
      .quantity("io_submit_cpu", Dimension::duration, &P::io_submit_cpu_s, 1.0e-6, 0, 1,
                "aio=native: AioContext CPU per io_submit() system call (entry, exit, context lookup).",
                "pvsim estimate")
      .quantity("iocb_cpu", Dimension::duration, &P::iocb_cpu_s, 1.0e-6, 0, 1,
                "aio=native: AioContext CPU per iocb inside io_submit (aio_read/aio_write, the host bio).",
                "pvsim estimate")
      .integer("ring_entries", &P::ring_entries, 128, 1, 32768,
               "aio=io_uring: SQ ring entries, the most sqes per io_uring_enter() (does not bound what is in flight).",
               "block/io_uring.c MAX_ENTRIES = 128 (luring_init: io_uring_queue_init)")
      .quantity("io_uring_enter_cpu", Dimension::duration, &P::io_uring_enter_s, 0.7e-6, 0, 1,
                "aio=io_uring: AioContext CPU per io_uring_enter() system call.", "pvsim estimate")
      .quantity("sqe_cpu", Dimension::duration, &P::sqe_cpu_s, 0.8e-6, 0, 1,
                "aio=io_uring: AioContext CPU per sqe (preparing it, the kernel issuing it).", "pvsim estimate")
      .quantity("completion_cpu", Dimension::duration, &P::completion_cpu_s, 0.5e-6, 0, 1,
                "AioContext CPU per completion reaped (io_event or cqe peek, ThreadPoolElement callback, the "
                "coroutine's re-entry).",
                "pvsim estimate");
}

class AioEngine : public EventTarget, public Station {
public:
  /** The AioContext an engine belongs to (a qemu.iothread). */
  class Context {
  public:
    virtual ~Context()              = default;
    virtual EventQueue& events()    = 0;
    virtual CpuHost& host()         = 0;
    virtual const std::string& id() = 0;
    /** Runs `cost_s` of CPU on the AioContext's thread, then target->on_event(kind, r); wakes the thread (an eventfd
     * in its ppoll) when it sleeps. */
    virtual void run(double cost_s, EventTarget* target, int kind, Request* r = nullptr) = 0;
    /** The request is issued to its disk's backing device (after the system call, or from a worker). */
    virtual void dispatch(Request* r) = 0;
    /** The request's completion callback, in the AioContext (the coroutine waiting in laio_co_submit & co.). */
    virtual void complete(Request* r) = 0;
  };

  AioEngine(const AioEngineParams& p, Context& ctx) : p_(p), ctx_(ctx) {}
  ~AioEngine() override = default;

  virtual const char* name() const = 0;
  /** The simulation starts (workers of the thread pool are created here). */
  virtual void start() {}
  /** laio_co_submit / luring_co_submit / thread_pool_submit_co, called on the AioContext's thread. */
  void submit(Request* r);
  /** defer_call_end(): the handler pass that batched submissions is over (laio_deferred_fn, luring_deferred_fn). */
  virtual void flush() {}
  /** The backing device completed r (the kernel posts an io_event or a cqe, a worker returns from preadv). */
  void device_done(Request* r, double submitted_s);

  void on_event(int kind, Request* r) override;
  /** Registers the engine's statistics with `set` (its AioContext's) under `prefix` ("/engine/"), once the engine has
   * started (the thread pool's workers exist from then on). */
  void declare_stats(StatSet& set, const std::string& prefix);

  /** The queue length a sizing policy sets (aio_sizing.hpp): native max_events, threads max_threads, io_uring
   * ring_entries. set_length() may be called while the simulation runs. */
  virtual long long length() const          = 0;
  virtual void set_length(long long length) = 0;
  /** The longest length the engine supports when a policy gives no max_length. */
  virtual long long bound() const = 0;
  /** The workers a pool needs for the longest length it may be given (called before start()). */
  virtual void reserve(long long /*length*/) {}
  /** Host kernel memory the queue of `length` takes (the io_setup ring, the io_uring rings, the workers' kernel
   * stacks), on a host of `cpus` CPUs. */
  virtual double kernel_memory_bytes(long long length, int cpus) const = 0;
  /** Whether a request finding its host device's request queue full blocks the AioContext's thread (io_submit
   * sleeping in blk_mq_get_tag) rather than one worker (preadv) or an io-wq punt (io_uring). */
  virtual bool submit_blocks() const { return false; }
  /** Requests that found the engine's limit reached, since the start (not reset with the window). */
  std::uint64_t waited_total() const { return waited_total_; }
  /** The most requests in flight since the last call (the sizing policy's interval). */
  std::uint64_t take_interval_peak()
  {
    std::uint64_t p = interval_peak_;
    interval_peak_  = in_flight_;
    return p;
  }

  /** Requests QEMU counts in flight: handed to the kernel or a worker and not reaped yet. */
  std::uint64_t in_flight() const { return in_flight_; }
  /** Statistics of the window. */
  std::uint64_t max_in_flight() const { return static_cast<std::uint64_t>(max_in_flight_.get()); }
  /** Requests that found the engine's limit reached and had to wait for a completion. */
  std::uint64_t waited() const { return waited_.get(); }
  std::uint64_t syscalls() const { return syscalls_.get(); }
  /** Requests per submission (io_submit, io_uring_enter, worker hand-off) → count. */
  std::map<long long, std::uint64_t> batches() const { return batches_.counts(); }

  // Station: a request arrives at submit(), starts when issued to the kernel or a worker, departs when the device
  // completes it.
  const Probe<StationEvent>& probe() const override { return probe_; }
  Occupancy occupancy() const override;

protected:
  enum Kind { reap_pass = 0, reaped = 1, reap_tail = 2, first_engine_kind = 3 };
  /** The engine's own handling of a submission (queueing, batching). */
  virtual void enqueue(Request* r) = 0;
  /** The device completed r: the engine's part before the completion is reaped (a worker returning). */
  virtual void device_completed(Request* r) { completion_ready(r); }
  /** After a reaping pass found nothing more (native, io_uring: submit what is pending). */
  virtual void after_reaping() {}
  /** Requests the engine holds before issuing them (pending, request_list, in a system call being made). */
  virtual std::uint64_t queued() const            = 0;
  virtual void engine_event(int kind, Request* r) = 0;
  /** The engine's own statistics and configuration, under `prefix`. */
  virtual void declare_engine_stats(StatSet& set, const std::string& prefix) = 0;

  /** r leaves the engine's queue for the kernel or a worker: counted in flight. */
  void issue(Request* r);
  /** A completion is ready to be reaped by the AioContext (io_event, cqe, THREAD_DONE). */
  void completion_ready(Request* r);
  /** Completions posted and not reaped yet (in the io_event ring, the CQ ring). */
  std::size_t unreaped() const { return completions_.size(); }
  void count_batch(std::uint64_t n)
  {
    batches_.sample(static_cast<long long>(n));
    ++syscalls_;
  }
  double now() { return ctx_.events().now(); }
  /** A request found the engine's limit reached. */
  void note_waited()
  {
    ++waited_;
    ++waited_total_;
  }

  AioEngineParams p_;
  Context& ctx_;
  Counter waited_;
  std::uint64_t waited_total_  = 0;
  std::uint64_t interval_peak_ = 0;

private:
  RequestFifo completions_; // completions not reaped yet (the io_event ring, the CQ ring, THREAD_DONE elements)
  bool reaping_            = false;
  std::uint64_t in_flight_ = 0;
  std::uint64_t arrived_   = 0; // station counters: submitted to the engine,
  std::uint64_t started_   = 0; // issued to the kernel or a worker,
  std::uint64_t departed_  = 0; // completed by the device
  // Statistics of the window.
  Peak max_in_flight_; // set on every change of in_flight_: the level at the window's start counts
  Counter reaped_;
  Counter reap_passes_;
  Counter syscalls_;
  Tally batches_;
  Level in_flight_avg_;
  Probe<StationEvent> probe_;
};

struct AioEngineInfo {
  std::string name;
  std::string summary;
  std::function<std::unique_ptr<AioEngine>(const AioEngineParams&, AioEngine::Context&)> make;
};

/** Adds an engine to the registry (PVSIM_REGISTER_AIO_ENGINE does it at static initialisation). */
void register_aio_engine(AioEngineInfo info);
/** The engine registered as `name`; std::invalid_argument for an unknown name (the ParamTable's choice has already
 * rejected it with a "did you mean"). */
std::unique_ptr<AioEngine> make_aio_engine(const std::string& name, const AioEngineParams& p, AioEngine::Context& ctx);
/** One line on what the engine does, or "" for an unknown name. */
std::string aio_engine_summary(const std::string& name);

template <class E>
struct AioEngineRegistrar {
  AioEngineRegistrar()
  {
    register_aio_engine({E::engine_name, E::summary, [](const AioEngineParams& p, AioEngine::Context& ctx) {
                           return std::unique_ptr<AioEngine>(std::make_unique<E>(p, ctx));
                         }});
  }
};

} // namespace pvsim

/** Registers engine class E (static constexpr const char* engine_name, summary; E(const AioEngineParams&,
 * AioEngine::Context&)) from its own .cpp. */
#define PVSIM_REGISTER_AIO_ENGINE(E) static const ::pvsim::AioEngineRegistrar<E> pvsim_aio_engine_registrar_##E
