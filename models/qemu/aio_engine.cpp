#include "models/qemu/aio_engine.hpp"

#include <algorithm>
#include <stdexcept>

namespace pvsim {

namespace {

std::map<std::string, AioEngineInfo>& engine_registry()
{
  static std::map<std::string, AioEngineInfo> registry;
  return registry;
}

} // namespace

void register_aio_engine(AioEngineInfo info)
{
  std::string name = info.name;
  if (not engine_registry().emplace(name, std::move(info)).second)
    throw std::logic_error("AIO engine '" + name + "' registered twice");
}

std::vector<std::string> aio_engine_names()
{
  std::vector<std::string> out;
  for (const auto& [name, info] : engine_registry())
    out.push_back(name);
  return out;
}

std::string aio_engine_summary(const std::string& name)
{
  auto it = engine_registry().find(name);
  return it == engine_registry().end() ? std::string() : it->second.summary;
}

std::unique_ptr<AioEngine> make_aio_engine(const std::string& name, const AioEngineParams& p, AioEngine::Context& ctx)
{
  auto it = engine_registry().find(name);
  if (it == engine_registry().end())
    throw std::invalid_argument("no AIO engine named '" + name + "'");
  return it->second.make(p, ctx);
}

// --- the part every engine shares: station accounting and the reaping of completions -------------------------------

void AioEngine::submit(Request* r)
{
  double t   = now();
  r->stage_s = t; // the engine is the stage the request is in until it is issued
  arrived_++;
  probe_.emit({StationEvent::What::arrive, t, r, t});
  enqueue(r);
}

void AioEngine::issue(Request* r)
{
  double t = now();
  started_++;
  in_flight_++;
  max_in_flight_.set(static_cast<double>(in_flight_));
  in_flight_avg_.set(t, static_cast<double>(in_flight_));
  probe_.emit({StationEvent::What::start, t, r, r->stage_s});
}

void AioEngine::device_done(Request* r, double submitted_s)
{
  departed_++;
  probe_.emit({StationEvent::What::depart, now(), r, submitted_s});
  device_completed(r);
}

void AioEngine::completion_ready(Request* r)
{
  completions_.push(r);
  if (not reaping_) { // the eventfd (or ring fd, or completion BH) wakes the AioContext
    reaping_ = true;
    ctx_.run(0, this, reap_pass);
  }
}

void AioEngine::on_event(int kind, Request* r)
{
  switch (kind) {
  case reap_pass: { // qemu_laio_process_completions / luring_process_completions / thread_pool_completion_bh
    ++reap_passes_;
    std::size_t n = completions_.size();
    for (std::size_t i = 0; i < n; ++i)
      ctx_.run(p_.completion_cpu_s, this, reaped, completions_.pop());
    ctx_.run(0, this, reap_tail);
    break;
  }
  case reaped: // "Change counters one-by-one": in_flight--, then the request's callback
    in_flight_--;
    max_in_flight_.set(static_cast<double>(in_flight_));
    ++reaped_;
    in_flight_avg_.set(now(), static_cast<double>(in_flight_));
    ctx_.complete(r);
    break;
  case reap_tail:
    if (not completions_.empty()) { // the ring is peeked again until it is empty: same pass, no new wake-up
      on_event(reap_pass, nullptr);
      break;
    }
    reaping_ = false;
    after_reaping();
    break;
  default:
    engine_event(kind - first_engine_kind, r);
    break;
  }
}

Occupancy AioEngine::occupancy() const
{
  return {arrived_, departed_, queued() + (started_ - departed_)};
}

void AioEngine::declare_stats(StatSet& set, const std::string& prefix)
{
  set.info(
      prefix + "name", [this] { return name(); }, "the AIO engine (aio=)");
  set.add(prefix + "mean_in_flight", in_flight_avg_, "requests",
          "time-averaged requests in flight (QEMU's in_flight: submitted, not reaped)");
  set.add(prefix + "max_in_flight", max_in_flight_, "requests", "most requests in flight");
  set.add(prefix + "waited", waited_, "requests", "requests that found the engine's limit reached and waited");
  set.add(prefix + "syscalls", syscalls_, "calls", "submissions: io_submit, io_uring_enter calls, worker hand-offs");
  set.add(prefix + "batches", batches_, "requests", "requests per submission -> submissions");
  set.formula(
      prefix + "mean_batch",
      [this](const StatWindow&) {
        double n = 0, sum = 0;
        for (auto [size, count] : batches_.counts()) {
          n += static_cast<double>(count);
          sum += static_cast<double>(static_cast<std::uint64_t>(size) * count);
        }
        return json(n > 0 ? sum / n : 0.0);
      },
      "requests", "mean requests per submission");
  set.add(prefix + "reap_passes", reap_passes_, "passes", "passes of the AioContext reaping completions");
  set.add(prefix + "completions_reaped", reaped_, "requests", "completions reaped");
  declare_engine_stats(set, prefix);
}

namespace {

// --- aio=threads ------------------------------------------------------------------------------------------------

class ThreadPoolEngine final : public AioEngine {
public:
  static constexpr const char* engine_name = "threads";
  static constexpr const char* summary =
      "util/thread-pool.c: each request handed to a worker thread that blocks in preadv (at most max_threads).";

  ThreadPoolEngine(const AioEngineParams& p, Context& ctx) : AioEngine(p, ctx)
  {
    idle_.reserve(static_cast<std::size_t>(p.max_threads));
    blocked_.reserve(static_cast<std::size_t>(p.max_threads));
  }
  const char* name() const override { return engine_name; }
  int servers() const override { return static_cast<int>(p_.max_threads); }
  void start() override
  {
    // The pool as it is after warm-up: its threads exist and idle ones sleep on request_cond. They are all placed
    // on the host now, so that the host knows how many threads share its cores.
    for (long long i = 0; i < p_.max_threads; ++i) {
      workers_.push_back(std::make_unique<CpuThread>(ctx_.id() + ".worker" + std::to_string(i), 20e-6));
      ctx_.host().run(*workers_.back(), ctx_.events());
    }
    for (auto w = static_cast<int>(p_.max_threads) - 1; w >= 0; --w)
      idle_.push_back(w);
  }

protected:
  enum Kind { handed_off = 0, woken = 1, in_syscall = 2, returned = 3, kinds = 4 };
  int kind(int worker, Kind k) const { return first_engine_kind + worker * kinds + k; }

  void enqueue(Request* r) override
  {
    handing_off_++;
    ctx_.run(p_.pool_submit_cpu_s, this, kind(0, handed_off), r);
  }

  void engine_event(int k, Request* r) override
  {
    int w = k / kinds;
    switch (static_cast<Kind>(k % kinds)) {
    case handed_off: // thread_pool_submit_aio(): request_list, qemu_cond_signal()
      handing_off_--;
      request_list_.push(r);
      if (idle_.empty()) {
        ++waited_; // every worker is in a system call: the request waits in request_list
        break;
      }
      w = idle_.back();
      idle_.pop_back();
      ++wakeups_;
      ctx_.events().schedule_in(p_.worker_wakeup_s, this, kind(w, woken));
      break;
    case woken: // worker_thread(): the oldest request of request_list
      if (Request* next = request_list_.pop())
        take(w, next);
      else
        idle_.push_back(w);
      break;
    case in_syscall: // req->func(): the blocking preadv/pwritev
      blocked_.push_back(w);
      ctx_.dispatch(r);
      break;
    case returned: // THREAD_DONE, qemu_bh_schedule(completion_bh); the worker loops for more work
      busy_--;
      max_busy_.set(static_cast<double>(busy_));
      completion_ready(r);
      if (Request* next = request_list_.pop())
        take(w, next);
      else
        idle_.push_back(w);
      break;
    default:
      break;
    }
  }

  void device_completed(Request* r) override
  {
    // The preadv of some worker returns. Workers inside a system call have no CPU work pending, so whichever of them
    // returns behaves the same.
    int w = blocked_.back();
    blocked_.pop_back();
    workers_[static_cast<std::size_t>(w)]->post(p_.worker_cpu_s / 2, this, kind(w, returned), r);
  }

  std::uint64_t queued() const override { return request_list_.size() + handing_off_; }
  void declare_engine_stats(StatSet& set, const std::string& prefix) override
  {
    set.info(
        prefix + "max_threads", [this] { return p_.max_threads; }, "most worker threads of the pool");
    set.add(prefix + "max_busy_threads", max_busy_, "threads", "most workers holding a request at once");
    set.add(prefix + "worker_wakeups", wakeups_, "wakeups", "idle workers woken by a hand-off");
  }

private:
  void take(int w, Request* r)
  {
    issue(r);
    count_batch(1); // one preadv/pwritev per request
    busy_++;
    max_busy_.set(static_cast<double>(busy_));
    workers_[static_cast<std::size_t>(w)]->post(p_.worker_cpu_s / 2, this, kind(w, in_syscall), r);
  }

  std::vector<std::unique_ptr<CpuThread>> workers_;
  std::vector<int> idle_;    // workers waiting on request_cond
  std::vector<int> blocked_; // workers inside preadv/pwritev
  RequestFifo request_list_;
  std::uint64_t handing_off_ = 0; // in thread_pool_submit_aio, not in request_list yet
  std::uint64_t busy_        = 0; // workers holding a request
  Peak max_busy_;                 // set on every change of busy_
  Counter wakeups_;
};

// --- aio=native -------------------------------------------------------------------------------------------------

class LinuxAioEngine final : public AioEngine {
public:
  static constexpr const char* engine_name = "native";
  static constexpr const char* summary =
      "block/linux-aio.c: iocbs batched into io_submit calls, at most max_events in flight (io_q.pending beyond).";

  LinuxAioEngine(const AioEngineParams& p, Context& ctx) : AioEngine(p, ctx) {}
  const char* name() const override { return engine_name; }
  int servers() const override { return static_cast<int>(p_.max_events); }
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
    if (in_flight() + pending_.size() > static_cast<std::uint64_t>(p_.max_events))
      ++waited_; // it cannot be submitted before completions free events
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
        prefix + "max_events", [this] { return p_.max_events; }, "io_setup() events: most iocbs in flight");
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
    std::uint64_t left =
        static_cast<std::uint64_t>(p_.max_events) - std::min<std::uint64_t>(in_flight(), p_.max_events);
    return left > 0 ? std::min(batch, left) : batch;
  }

  void ioq_submit()
  {
    const auto max_events = static_cast<std::uint64_t>(p_.max_events);
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
};

// --- aio=io_uring -----------------------------------------------------------------------------------------------

class IoUringEngine final : public AioEngine {
public:
  static constexpr const char* engine_name = "io_uring";
  static constexpr const char* summary =
      "block/io_uring.c: sqes batched into io_uring_enter calls of at most ring_entries; in flight is not bounded.";

  IoUringEngine(const AioEngineParams& p, Context& ctx) : AioEngine(p, ctx) {}
  const char* name() const override { return engine_name; }
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
    if (in_flight() + submit_queue_.size() >= static_cast<std::uint64_t>(p_.ring_entries))
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

  void after_reaping() override // luring_process_completions_and_submit()
  {
    if (not submit_queue_.empty())
      ioq_submit();
  }

  std::uint64_t queued() const override { return submit_queue_.size(); }
  void declare_engine_stats(StatSet& set, const std::string& prefix) override
  {
    set.info(
        prefix + "ring_entries", [this] { return p_.ring_entries; }, "SQ ring entries: most sqes per io_uring_enter");
  }

private:
  void ioq_submit()
  {
    // Every sqe of the ring is free again once io_uring_enter returns: each call takes up to ring_entries.
    while (not submit_queue_.empty()) {
      std::uint64_t n = std::min<std::uint64_t>(submit_queue_.size(), static_cast<std::uint64_t>(p_.ring_entries));
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
};

PVSIM_REGISTER_AIO_ENGINE(ThreadPoolEngine);
PVSIM_REGISTER_AIO_ENGINE(LinuxAioEngine);
PVSIM_REGISTER_AIO_ENGINE(IoUringEngine);

} // namespace

} // namespace pvsim
