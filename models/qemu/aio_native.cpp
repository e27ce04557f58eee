/* pvsim: aio=native, QEMU's linux-aio (see aio_engine.hpp). */
#include "models/qemu/aio_engine.hpp"

#include <algorithm>

namespace pvsim {

namespace {

// --- aio=native -------------------------------------------------------------------------------------------------

class LinuxAioEngine final : public AioEngine {
public:
  static constexpr const char* engine_name = "native";
  static constexpr const char* summary =
      "block/linux-aio.c: iocbs batched into io_submit calls, at most max_events in flight (io_q.pending beyond).";

  LinuxAioEngine(const AioEngineParams& p, Context& ctx) : AioEngine(p, ctx), max_events_(p.max_events) {}
  const char* name() const override { return engine_name; }
  int servers() const override { return static_cast<int>(max_events_); }
  long long length() const override { return max_events_; }
  void set_length(long long length) override
  {
    bool more   = length > max_events_;
    max_events_ = length;
    if (more and not pending_.empty()) // the new context takes what waited for events
      ioq_submit();
  }
  long long bound() const override { return 65536; } // fs/aio.c ioctx_alloc(): EAGAIN beyond aio-max-nr
  /** fs/aio.c ioctx_alloc() and aio_setup_ring(): nr_events = max(nr, 4 x CPUs) x 2 io_events of 32 bytes after a
   * 32-byte struct aio_ring header, in pages. The aio_kiocb of each iocb in flight is left out. */
  double kernel_memory_bytes(long long length, int cpus) const override
  {
    long long events = std::max<long long>(length, 4LL * cpus) * 2;
    long long bytes  = 32 + events * 32;
    return static_cast<double>((bytes + 4095) / 4096 * 4096);
  }
  bool submit_blocks() const override { return true; }
  void flush() override // laio_deferred_fn
  {
    if (not blocked_ and not pending_.empty())
      ioq_submit();
  }

protected:
  enum Kind { submitted = 0 };

  void enqueue(Request* r) override // laio_do_submit()
  {
    pending_.push(r);
    if (in_flight() + pending_.size() > static_cast<std::uint64_t>(max_events_))
      note_waited(); // it cannot be submitted before completions free events
    if (not blocked_ and pending_.size() >= max_batch())
      ioq_submit(); // otherwise defer_call(laio_deferred_fn) at the end of the handler pass
  }

  void engine_event(int, Request* last) override
  {
    // The io_submit call has returned: its iocbs are in the kernel.
    while (Request* r = in_syscall_.pop()) {
      ctx_.dispatch(r);
      if (r == last)
        break;
    }
  }

  void after_reaping() override // qemu_laio_process_completions_and_submit()
  {
    if (not pending_.empty())
      ioq_submit();
  }

  std::uint64_t queued() const override { return pending_.size(); }
  void declare_engine_stats(StatSet& set, const std::string& prefix) override
  {
    set.info(
        prefix + "max_events", [this] { return max_events_; }, "io_setup() events: most iocbs in flight (at the end)");
    set.info(
        prefix + "aio_max_batch", [this] { return p_.aio_max_batch; }, "pending iocbs that trigger an io_submit");
    set.info(
        prefix + "pending", [this] { return json(pending_.size()); },
        "iocbs pending (io_q.pending) at the end of the run (a state, not a count over the window)");
  }

private:
  /** laio_max_batch(): aio-max-batch, lowered to the events left (MIN_NON_ZERO: no events left keeps the batch). */
  std::uint64_t max_batch() const
  {
    std::uint64_t batch = static_cast<std::uint64_t>(p_.aio_max_batch);
    auto max_events     = static_cast<std::uint64_t>(max_events_);
    std::uint64_t left  = max_events - std::min<std::uint64_t>(in_flight(), max_events);
    return left > 0 ? std::min(batch, left) : batch;
  }

  void ioq_submit()
  {
    const auto max_events = static_cast<std::uint64_t>(max_events_);
    while (not pending_.empty() and in_flight() < max_events) {
      std::uint64_t len = std::min<std::uint64_t>(pending_.size(), max_events - in_flight());
      Request* last     = nullptr;
      for (std::uint64_t i = 0; i < len; ++i) {
        last = pending_.pop();
        issue(last);
        in_syscall_.push(last);
      }
      count_batch(len);
      ctx_.run(p_.io_submit_cpu_s + static_cast<double>(len) * p_.iocb_cpu_s, this,
               first_engine_kind + static_cast<int>(submitted), last);
    }
    blocked_ = not pending_.empty(); // io_q.blocked: wait for completions
  }

  RequestFifo pending_;    // s->io_q.pending
  RequestFifo in_syscall_; // iocbs of io_submit calls being made
  bool blocked_ = false;
  long long max_events_; // the io_setup() size (MAX_EVENTS, or what the sizing policy set)
};

PVSIM_REGISTER_AIO_ENGINE(LinuxAioEngine);

} // namespace

} // namespace pvsim
