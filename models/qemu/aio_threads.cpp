/* pvsim: aio=threads, QEMU's thread pool (see aio_engine.hpp). */
#include "models/qemu/aio_engine.hpp"

#include <algorithm>

namespace pvsim {

namespace {

// --- aio=threads ------------------------------------------------------------------------------------------------

class ThreadPoolEngine final : public AioEngine {
public:
  static constexpr const char* engine_name = "threads";
  static constexpr const char* summary =
      "util/thread-pool.c: each request handed to a worker thread that blocks in preadv (at most max_threads).";

  ThreadPoolEngine(const AioEngineParams& p, Context& ctx) : AioEngine(p, ctx), limit_(p.max_threads), created_(limit_)
  {
  }
  const char* name() const override { return engine_name; }
  int servers() const override { return static_cast<int>(limit_); }
  long long length() const override { return limit_; }
  /** thread_pool_update_params() (QEMU 7.1+, the thread-pool-max property at run time): more workers may take
   * requests at once; fewer: the excess ones go idle when their request is done (QEMU's exit once idle). */
  void set_length(long long length) override
  {
    limit_ = std::min<long long>(length, static_cast<long long>(workers_.size() > 0 ? workers_.size() : created_));
    std::uint64_t wake = request_list_.size();
    while (wake-- > 0 and not idle_.empty() and active() < limit_)
      wake_one();
  }
  long long bound() const override { return 4096; }
  void reserve(long long length) override { created_ = std::max(created_, length); }
  /** Each worker: a kernel stack (THREAD_SIZE 16 KiB on x86-64) and its task_struct and friends (about 8 KiB,
   * unverified estimate). */
  double kernel_memory_bytes(long long length, int) const override { return static_cast<double>(length) * 24576.0; }
  void start() override
  {
    // The pool as it is after warm-up: its threads exist and idle ones sleep on request_cond. They are all placed
    // on the host now, so that the host knows how many threads share its cores (as many as the longest length a
    // sizing policy may give).
    auto n = static_cast<std::size_t>(created_);
    idle_.reserve(n);
    blocked_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      workers_.push_back(std::make_unique<CpuThread>(ctx_.id() + ".worker" + std::to_string(i), 20e-6));
      ctx_.host().run(*workers_.back(), ctx_.events());
    }
    for (auto w = static_cast<int>(n) - 1; w >= 0; --w)
      idle_.push_back(w);
    limit_ = std::min<long long>(limit_, static_cast<long long>(n));
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
      if (idle_.empty() or active() >= limit_) {
        note_waited(); // every worker allowed is in a system call: the request waits in request_list
        break;
      }
      wake_one();
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
      if (active() > limit_) // the pool was shrunk: this worker leaves
        idle_.push_back(w);
      else if (Request* next = request_list_.pop())
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
        prefix + "max_threads", [this] { return limit_; }, "most worker threads of the pool (at the end)");
    set.add(prefix + "max_busy_threads", max_busy_, "threads", "most workers holding a request at once");
    set.add(prefix + "worker_wakeups", wakeups_, "wakeups", "idle workers woken by a hand-off");
  }

private:
  long long active() const { return static_cast<long long>(workers_.size() - idle_.size()); }
  void wake_one()
  {
    int w = idle_.back();
    idle_.pop_back();
    ++wakeups_;
    ctx_.events().schedule_in(p_.worker_wakeup_s, this, kind(w, woken));
  }

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
  long long limit_;   // workers that may hold a request (max_threads, or what the sizing policy set)
  long long created_; // workers created at start
};

PVSIM_REGISTER_AIO_ENGINE(ThreadPoolEngine);

} // namespace

} // namespace pvsim
