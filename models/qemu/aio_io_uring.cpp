/* pvsim: aio=io_uring, QEMU's io_uring engine (see aio_engine.hpp). */
#include "models/qemu/aio_engine.hpp"

#include <algorithm>

namespace pvsim {

namespace {

// --- aio=io_uring -----------------------------------------------------------------------------------------------

class IoUringEngine final : public AioEngine {
public:
  static constexpr const char* engine_name = "io_uring";
  static constexpr const char* summary =
      "block/io_uring.c: sqes batched into io_uring_enter calls of at most ring_entries; in flight is not bounded.";

  IoUringEngine(const AioEngineParams& p, Context& ctx) : AioEngine(p, ctx), entries_(p.ring_entries) {}
  const char* name() const override { return engine_name; }
  long long length() const override { return entries_; }
  void set_length(long long length) override { entries_ = length; }
  long long bound() const override { return 32768; } // IORING_MAX_ENTRIES
  /** io_uring_setup(): the SQ ring (entries x 4-byte index) and the sqe array (entries x 64 bytes), the CQ ring
   * (2 x entries cqes of 16 bytes), each in pages; ring headers left out. */
  double kernel_memory_bytes(long long length, int) const override
  {
    auto pages = [](long long b) { return (b + 4095) / 4096 * 4096; };
    return static_cast<double>(pages(length * 4) + pages(length * 64) + pages(2 * length * 16));
  }
  int servers() const override { return 0; } // no limit on what is in flight
  void flush() override                      // luring_deferred_fn
  {
    if (not submit_queue_.empty())
      ioq_submit();
  }

protected:
  void enqueue(Request* r) override // luring_do_submit()
  {
    submit_queue_.push(r);
    if (in_flight() + submit_queue_.size() >= static_cast<std::uint64_t>(entries_))
      ioq_submit(); // otherwise defer_call(luring_deferred_fn)
  }

  void engine_event(int, Request* last) override
  {
    while (Request* r = in_syscall_.pop()) {
      ctx_.dispatch(r);
      if (r == last)
        break;
    }
  }

  void device_completed(Request* r) override
  {
    // IORING_FEAT_NODROP: a cqe that finds the CQ ring full goes to the kernel's overflow list, flushed back into the
    // ring when the AioContext next enters the kernel (io_cqring_overflow_flush): about one more reaping's CPU.
    if (unreaped() >= 2 * static_cast<std::size_t>(entries_)) {
      ++overflows_;
      note_waited();
      ctx_.run(p_.completion_cpu_s, nullptr, 0);
    }
    completion_ready(r);
  }

  void after_reaping() override // luring_process_completions_and_submit()
  {
    if (not submit_queue_.empty())
      ioq_submit();
  }

  std::uint64_t queued() const override { return submit_queue_.size(); }
  void declare_engine_stats(StatSet& set, const std::string& prefix) override
  {
    set.info(
        prefix + "ring_entries", [this] { return entries_; },
        "SQ ring entries: most sqes per io_uring_enter (at the end)");
    set.add(prefix + "cq_overflows", overflows_, "completions",
            "completions beyond the CQ ring's 2 x entries not yet reaped (the kernel's overflow list)");
  }

private:
  void ioq_submit()
  {
    // Every sqe of the ring is free again once io_uring_enter returns: each call takes up to ring_entries.
    while (not submit_queue_.empty()) {
      std::uint64_t n = std::min<std::uint64_t>(submit_queue_.size(), static_cast<std::uint64_t>(entries_));
      Request* last   = nullptr;
      for (std::uint64_t i = 0; i < n; ++i) {
        last = submit_queue_.pop();
        issue(last);
        in_syscall_.push(last);
      }
      count_batch(n);
      ctx_.run(p_.io_uring_enter_s + static_cast<double>(n) * p_.sqe_cpu_s, this, first_engine_kind, last);
    }
  }

  RequestFifo submit_queue_; // s->io_q.submit_queue
  RequestFifo in_syscall_;
  long long entries_; // SQ ring entries (MAX_ENTRIES, or what the sizing policy set); the CQ ring has twice as many
  Counter overflows_;
};

PVSIM_REGISTER_AIO_ENGINE(IoUringEngine);

} // namespace

} // namespace pvsim
