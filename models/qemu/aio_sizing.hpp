/* pvsim: sizing policies of an AioContext's AIO engine queue (issue 19, part 1), registered by name
 * (PVSIM_REGISTER_AIO_SIZING; no switch over names).
 *
 * QEMU sizes the engine's queue once, whatever the number of disks attached to the AioContext: linux-aio's io_setup()
 * MAX_EVENTS (block/linux-aio.c laio_init(); 128 before QEMU 5.0, 1024 since), io_uring's MAX_ENTRIES (block/io_uring.c
 * luring_init(), 128) and the thread pool's max_threads (util/thread-pool.c, THREAD_POOL_MAX_THREADS_DEFAULT 64). The
 * length a policy sets is, per engine (AioEngine::set_length()): aio=native the iocbs in flight (max_events),
 * aio=threads the workers that may hold a request (max_threads), aio=io_uring the SQ ring entries (sqes per
 * io_uring_enter, and the CQ ring of twice as many completions, beyond which completions overflow).
 *
 * Policies (the length is always kept within [min_length, cap]; cap = max_length, or the engine's own bound):
 * - "fixed": QEMU as it is: the engine's configured length (max_events, max_threads, ring_entries).
 * - "per-disk": the sum over the attached disks of per_disk_length (0: each disk's own request capacity, its
 *   virtqueues' descriptors as blk-mq's tags see them, so that no disk can be starved by the engine), recomputed
 *   when a disk is attached or detached. This is the "make MAX_EVENTS parametric" step QEMU's aio-max-batch series
 *   (2021) left for later; a pvsim proposal, not a QEMU mechanism.
 * - "adaptive": additive increase, multiplicative decrease of the length, once per `sizing_interval`, from what the
 *   AioContext measured over it:
 *     aio=native and a request found its host request queue full      -> L = L * decrease
 *     else requests waited for the engine's limit, thread busy < 95 %  -> L = L + step * disks
 *     else nothing waited and the peak in flight stayed below L / 2   -> L = max(L * decrease, 2 * peak)
 *   and L scales with the number of disks when one is attached or detached (L * new / old). It starts at the fixed
 *   length. Only aio=native shrinks on host-queue overflow: there the sleep holds the AioContext (every disk
 *   stalls); with threads a worker sleeps and with io_uring an io-wq worker does, which costs a thread but stalls no
 *   other disk. Why it is stable: L moves only on congestion signals, by a bounded step up and a fixed factor < 1
 *   down, within [min_length, cap]: the AIMD loop of Chiu and Jain (1989) for one shared bottleneck, sawing below the
 *   largest length that does not overflow the host queues (by at most 1 - decrease of it); it stops growing when
 *   nothing waits (the guests' own depth is reached) or when the AioContext's thread is the bottleneck (a longer
 *   queue then only adds latency). A decrease proportional to the share of the interval spent asleep (DCTCP's) was
 *   tried: that share is large as soon as the queue overflows, so it cut deeper and did worse at every disk count.
 *   For io_uring the length is the SQ ring, which bounds batches, not what is in flight: it grows on CQ overflows and
 *   shrinks when unused. A pvsim proposal.
 * Each change of length costs resize_cpu on the AioContext (a new io_setup / io_uring_queue_init context for new
 * submissions while the old one drains, or thread_pool_update_params()).
 * Leaves out: several AioContexts sharing a host device's request queue (each counts its own requests), the host-wide
 * aio-max-nr (fs/aio.c ioctx_alloc(): io_setup fails with EAGAIN beyond it; reported, not enforced). */
#pragma once

#include "sim/params.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pvsim {

struct AioSizingParams {
  std::string sizing;
  long long per_disk_length;
  long long min_length;
  long long max_length;
  double sizing_interval_s;
  long long sizing_step;
  double sizing_decrease;
  double resize_cpu_s;
};

/** What a policy sees of its AioContext when it decides (at start, on attach and detach, every interval). */
struct SizingView {
  long long fixed_length   = 1; // the engine's configured length (max_events, max_threads, ring_entries)
  long long length         = 1; // the length now
  long long lower          = 1; // bounds: min_length and the cap
  long long upper          = 1;
  std::size_t disks        = 0; // disks attached now
  std::size_t disks_before = 0; // on attach/detach: disks attached before the change
  long long disks_capacity = 0; // sum over the attached disks of what each can have in flight (its descriptors)
  // Over the last interval (adaptive):
  std::uint64_t waited         = 0;     // requests that found the engine's limit reached
  std::uint64_t host_full      = 0;     // requests that found their host device's request queue full
  std::uint64_t peak_in_flight = 0;     // most requests in flight in the engine
  double busy_fraction         = 0;     // the AioContext thread's CPU / interval
  bool submit_blocks           = false; // the engine sleeps in the AioContext on a full host queue (aio=native)
};

class AioSizing {
public:
  enum class Why { start, attach, detach, interval };
  explicit AioSizing(const AioSizingParams& p) : p_(p) {}
  virtual ~AioSizing()             = default;
  virtual const char* name() const = 0;
  /** The length the engine should have now (clamped to [lower, upper] by the caller). */
  virtual long long length(const SizingView& v, Why why) = 0;
  /** Called every sizing_interval (adaptive). */
  virtual bool periodic() const { return false; }
  /** The length is kept within [min_length, cap] (and the pool made large enough for the cap); fixed takes QEMU's
   * configured length as it is. */
  virtual bool bounded() const { return true; }

protected:
  AioSizingParams p_;
};

struct AioSizingInfo {
  std::string name;
  std::string summary;
  std::string params; // the parameters it reads, for `pvsim models`
  std::function<std::unique_ptr<AioSizing>(const AioSizingParams&)> make;
};

void register_aio_sizing(AioSizingInfo info);
/** Registered policy names ("adaptive", "fixed", "per-disk"), sorted. */
std::vector<std::string> aio_sizing_names();
const AioSizingInfo* aio_sizing_info(const std::string& name);
/** std::invalid_argument for an unknown name (the ParamTable's choice has rejected it before). */
std::unique_ptr<AioSizing> make_aio_sizing(const std::string& name, const AioSizingParams& p);
/** Clamps `l` to [v.lower, v.upper]. */
long long clamp_length(long long l, const SizingView& v);

/** Adds the sizing fields to the ParamTable of the model that owns an AioContext. */
template <class P>
void describe_aio_sizing(ParamTable<P>& t)
{
  t.choice("sizing", &P::sizing, aio_sizing_names(), std::string("fixed"),
           "How the AIO engine's queue length is set: fixed (QEMU's constants), per-disk (grows with the disks "
           "attached), adaptive (AIMD from measured congestion). See models/qemu/aio_sizing.hpp.",
           "QEMU (all versions): fixed; per-disk and adaptive are pvsim proposals")
      .integer("per_disk_length", &P::per_disk_length, 0, 0, 1 << 20,
               "sizing=per-disk: queue length per disk attached (0: each disk's own request capacity, its "
               "virtqueues' descriptors).",
               "pvsim: 0, so that the engine never starves a disk")
      .integer("min_length", &P::min_length, 16, 1, 1 << 20, "sizing=per-disk, adaptive: the shortest queue length.",
               "pvsim choice")
      .integer("max_length", &P::max_length, 0, 0, 1 << 20,
               "sizing=per-disk, adaptive: the longest queue length (0: the engine's bound: aio=native 65536, fs/aio.c "
               "aio-max-nr, beyond which io_setup fails with EAGAIN (host-wide); io_uring 32768, IORING_MAX_ENTRIES; "
               "threads 256).",
               "Linux fs/aio.c aio_max_nr = 0x10000; include/uapi io_uring IORING_MAX_ENTRIES 32768; pvsim: 256 "
               "threads")
      .quantity("sizing_interval", Dimension::duration, &P::sizing_interval_s, 1e-3, 1e-6, 10,
                "sizing=adaptive: the control period.", "pvsim choice: many completions per period at 10k+ IOPS")
      .integer("sizing_step", &P::sizing_step, 16, 1, 1 << 16,
               "sizing=adaptive: additive increase per period, per disk attached.", "pvsim choice")
      .number("sizing_decrease", &P::sizing_decrease, 0.75, 0.05, 0.99,
              "sizing=adaptive: the factor of the length after an interval in which io_submit slept on a full host "
              "queue (aio=native), or in which capacity stayed unused.",
              "pvsim choice: TCP Reno's 0.5 saws too far below the host queues; 0.75 did better on "
              "qemu-aio-sizing.json at every disk count than a decrease proportional to the time asleep (DCTCP-like)")
      .quantity("resize_cpu", Dimension::duration, &P::resize_cpu_s, 20e-6, 0, 1,
                "sizing=per-disk, adaptive: AioContext CPU per change of the queue length (io_setup of a new "
                "context, io_uring_queue_init, thread_pool_update_params).",
                "pvsim estimate");
}

template <class S>
struct AioSizingRegistrar {
  AioSizingRegistrar()
  {
    register_aio_sizing(
        {S::policy_name, S::summary, S::params, [](const AioSizingParams& p) { return std::make_unique<S>(p); }});
  }
};

} // namespace pvsim

/** Registers sizing policy class S (static constexpr const char* policy_name, summary, params; S(const
 * AioSizingParams&)) from its own .cpp. */
#define PVSIM_REGISTER_AIO_SIZING(S) static const ::pvsim::AioSizingRegistrar<S> pvsim_aio_sizing_registrar_##S
