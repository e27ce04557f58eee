#include "models/firecracker/firecracker_vmm.hpp"

#include "sim/registry.hpp"
#include "sim/resource_estimate.hpp"
#include "sim/simulation.hpp"

#include <cmath>

namespace pvsim {

const ParamTable<FirecrackerVmmParams>& FirecrackerVmm::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("cpus", &Params::cpus, true, "The cpu.host whose cores run the VMM thread (fc_vmm).")
        .version_choice("version", &Params::version, {"1.0", "1.13"}, "1.13",
                        "Firecracker release: 1.13 (v1.13 and later: used.idx advanced and one interrupt decided per "
                        "pass) or 1.0 (v1.0-v1.12: after every request).",
                        "Firecracker commit ffe77023c (first in v1.13.0), devices/virtio/queue.rs "
                        "advance_used_ring_idx, block/virtio/device.rs process_queue")
        .choice("io_engine", &Params::io_engine, {"Sync", "Async"}, std::string("Sync"),
                "The drive's io_engine: Sync (blocking I/O on the VMM thread) or Async (io_uring).",
                "Firecracker block/virtio/device.rs FileEngineType #[default] Sync; "
                "docs/api_requests/block-io-engine.md")
        .quantity("quantum", Dimension::duration, &Params::quantum_s, 20e-6, 1e-9, 1,
                  "Most CPU work the thread takes in one batch before acting on it (a modelling knob).", "pvsim: 20us")
        .quantity("wakeup_cpu", Dimension::duration, &Params::wakeup_cpu_s, 3e-6, 0, 1,
                  "CPU when an event wakes the thread asleep in epoll_wait (context switch, cache refill).",
                  "pvsim estimate")
        .distribution("wakeup_latency", &Params::wakeup_latency, Distribution::deterministic(0),
                      "From the event (a kick's eventfd, an io_uring completion, the limiter's timer) to the asleep "
                      "thread running again: the host scheduler's wake-up and, on a nested host, the exits below it. "
                      "Not CPU of the thread.",
                      "pvsim: 0; pvsim calibrate fits it from iodepth-1 latencies")
        .quantity("event_cpu", Dimension::duration, &Params::event_cpu_s, 1e-6, 0, 1,
                  "CPU per handler dispatched: the epoll return for that event and the eventfd read.", "pvsim estimate")
        .quantity("request_cpu", Dimension::duration, &Params::request_cpu_s, 1.5e-6, 0, 1,
                  "CPU per request besides its I/O: pop_or_enable_notification, Request::parse, the rate-limit check, "
                  "add_used.",
                  "pvsim estimate")
        .quantity("sync_io_cpu", Dimension::duration, &Params::sync_io_cpu_s, 3e-6, 0, 1,
                  "Sync engine: CPU of one request's I/O on the thread when the host page cache has the data (seek, "
                  "read or write syscall, the copy to or from guest memory).",
                  "Firecracker block/virtio/io/sync_io.rs SyncFileEngine::read/write; pvsim estimate")
        .distribution(
            "sync_write_wait", &Params::sync_write_wait, Distribution::deterministic(0),
            "Sync engine: time a write's syscall sleeps on the host after copying the data into the page cache "
            "(dirty-page throttling, waits on pages under writeback or on the filesystem's journal); the VMM thread "
            "serves nothing meanwhile and pays wakeup_cpu when it returns (0: it does not sleep).",
            "Linux mm/page-writeback.c balance_dirty_pages_ratelimited() (from mm/filemap.c "
            "generic_perform_write()), fs/jbd2/transaction.c start_this_handle(); pvsim: 0, pvsim calibrate fits it "
            "from an iodepth-1 write run")
        .quantity("uring_enter_cpu", Dimension::duration, &Params::uring_enter_cpu_s, 2e-6, 0, 1,
                  "Async engine: CPU of the io_uring_enter at the end of a pass (kick_submission_queue).",
                  "Firecracker io_uring/mod.rs IoUring::submit; pvsim estimate")
        .quantity("uring_io_cpu", Dimension::duration, &Params::uring_io_cpu_s, 2e-6, 0, 1,
                  "Async engine: CPU per SQE inside io_uring_enter (the page-cache copy of a hit, done inline).",
                  "pvsim estimate")
        .quantity("uring_cqe_cpu", Dimension::duration, &Params::uring_cqe_cpu_s, 0.5e-6, 0, 1,
                  "Async engine: CPU per CQE reaped (pop, PendingRequest::finish, add_used).", "pvsim estimate")
        .quantity("notify_cpu", Dimension::duration, &Params::notify_cpu_s, 1e-6, 0, 1,
                  "CPU of an interrupt: the irqfd eventfd write (IrqTrigger / VirtioInterruptMsix::trigger).",
                  "pvsim estimate")
        .integer("io_uring_entries", &Params::io_uring_entries, 128, 1, 32768,
                 "Async engine: submission queue entries (the completion queue has twice as many).",
                 "Firecracker block/virtio/mod.rs IO_URING_NUM_ENTRIES = 128; io_uring_setup() without "
                 "IORING_SETUP_CQSIZE gives a CQ of 2 x entries")
        .number("page_cache_hit", &Params::page_cache_hit, 1.0, 0, 1,
                "Share of requests the host's page cache serves (the backing file is opened without O_DIRECT); the "
                "others go to the drive's backing device (virtio.blk target).",
                "Firecracker block/mod.rs DiskProperties::open_file (no O_DIRECT); pvsim: 1, a file that fits in "
                "the host's memory once warm")
        .quantity("bw_size", Dimension::size, &Params::bw_size_bytes, 0.0, 0, 1e15,
                  "Rate limiter bandwidth bucket size in bytes (0: no bandwidth limit).",
                  "Firecracker rate_limiter/mod.rs TokenBucket; API field rate_limiter.bandwidth.size")
        .quantity("bw_one_time_burst", Dimension::size, &Params::bw_one_time_burst_bytes, 0.0, 0, 1e15,
                  "Bandwidth bucket's one-time burst, spent first, never refilled.",
                  "API field rate_limiter.bandwidth.one_time_burst")
        .quantity("bw_refill_time", Dimension::duration, &Params::bw_refill_time_s, 0.0, 0, 3600,
                  "Time for the bandwidth bucket to refill from empty (0: no bandwidth limit).",
                  "API field rate_limiter.bandwidth.refill_time (ms)")
        .integer("ops_size", &Params::ops_size, 0, 0, 1LL << 40,
                 "Rate limiter ops bucket size in requests (0: no ops limit).", "API field rate_limiter.ops.size")
        .integer("ops_one_time_burst", &Params::ops_one_time_burst, 0, 0, 1LL << 40, "Ops bucket's one-time burst.",
                 "API field rate_limiter.ops.one_time_burst")
        .quantity("ops_refill_time", Dimension::duration, &Params::ops_refill_time_s, 0.0, 0, 3600,
                  "Time for the ops bucket to refill from empty (0: no ops limit).",
                  "API field rate_limiter.ops.refill_time (ms)")
        .check([](const Params& p, const JsonNode& obj) {
          // The API takes whole milliseconds (refill_time: u64 ms); a sub-millisecond bucket would arm a 0 ms timer.
          for (auto [key, refill] :
               {std::pair{"bw_refill_time", p.bw_refill_time_s}, {"ops_refill_time", p.ops_refill_time_s}})
            if (refill != 0 and (refill < 1e-3 or std::abs(refill * 1e3 - std::round(refill * 1e3)) > 1e-9))
              obj.child(key).fail(std::string(key) +
                                  " must be 0 or a whole number of milliseconds (Firecracker's "
                                  "refill_time is in ms), got " +
                                  std::to_string(refill * 1e3) + " ms");
        });
    return tb;
  }();
  return t;
}

namespace {
std::uint64_t ns_of(double s)
{
  return static_cast<std::uint64_t>(std::llround(s * 1e9));
}
} // namespace

FirecrackerVmm::FirecrackerVmm(std::string name, const Params& p)
    : Component(std::move(name), type_name), p_(p), async_(p.io_engine == "Async"), per_pass_(p.version != "1.0"),
      thread_(this->name(), p.quantum_s)
{
}

void FirecrackerVmm::connect()
{
  host_ = &CpuHost::from_port(*this, "cpus");
}

void FirecrackerVmm::estimate_resources(ResourceEstimate& e) const
{
  e.add_actors(name(), 1.0, Simulation::actor_stack_bytes(), "VMM thread");
}

void FirecrackerVmm::attach(VirtioBlk& disk, std::size_t q, Component& device)
{
  RateLimiter limiter(TokenBucket(static_cast<std::uint64_t>(p_.bw_size_bytes),
                                  static_cast<std::uint64_t>(p_.bw_one_time_burst_bytes), ns_of(p_.bw_refill_time_s)),
                      TokenBucket(static_cast<std::uint64_t>(p_.ops_size),
                                  static_cast<std::uint64_t>(p_.ops_one_time_burst), ns_of(p_.ops_refill_time_s)));
  drives_.push_back(std::make_unique<Drive>(disk, q, device, limiter));
  Drive& dr      = *drives_.back();
  StatSet& st    = stats();
  std::string dp = "/drives/" + std::to_string(drives_.size() - 1) + "/";
  st.info(
      dp + "disk", [&dr] { return dr.disk->name() + ".vq" + std::to_string(dr.q); }, "the virtqueue served");
  st.add(dp + "passes", dr.passes, "passes", "queue handler passes (process_queue)");
  st.add(dp + "requests_per_pass", dr.per_pass, "passes", "passes by requests popped");
  st.add(dp + "page_cache_hits", dr.hits, "requests", "requests served from the host's page cache");
  st.add(dp + "page_cache_misses", dr.misses, "requests", "requests that went to the backing device");
  if (not async_ and not p_.sync_write_wait.is_zero()) {
    st.add(dp + "write_waits", dr.write_waits, "requests", "writes whose syscall slept (sync_write_wait)");
    st.add(dp + "write_wait_s", dr.write_wait_s, "s", "time the thread slept in those writes");
  }
  if (async_) {
    st.add(dp + "io_uring_throttled", dr.throttles, "passes",
           "passes ended by a full io_uring (ProcessingResult::Throttled)");
    st.add(dp + "completion_reaps", dr.reaps, "handlers", "completion handler runs (process_async_completion_event)");
    st.add(dp + "max_io_uring_ops", dr.max_uring_ops, "ops", "most ops pushed and not reaped at once");
  }
  if (dr.limiter.enabled())
    st.add(dp + "rate_limited", dr.limiter_blocks, "requests", "requests the rate limiter put back (undo_pop)");
}

void FirecrackerVmm::start(Simulation& sim)
{
  sim_ = &sim;
  rng_ = sim.rng("firecracker:" + name());
  host_->run(thread_, sim.events());
  StatSet& st = stats();
  st.formula("/utilization", thread_.utilization(), "fraction", "CPU time of the VMM thread / window");
  st.add("/wakeups", wakeups_, "wakeups", "events that woke the thread asleep in epoll_wait");
  st.add("/handlers", handlers_, "handlers", "event handlers run");
}

double FirecrackerVmm::now() const
{
  return sim_->events().now();
}

std::size_t FirecrackerVmm::index_of(const VirtioBlk& disk, std::size_t q) const
{
  for (std::size_t d = 0; d < drives_.size(); ++d)
    if (drives_[d]->disk == &disk and drives_[d]->q == q)
      return d;
  return 0; // attach() runs for every virtqueue at connect
}

bool FirecrackerVmm::is_hit()
{
  return p_.page_cache_hit >= 1.0 or (p_.page_cache_hit > 0 and rng_.uniform() < p_.page_cache_hit);
}

void FirecrackerVmm::notified(VirtioBlk& disk, std::size_t q)
{
  ready(index_of(disk, q), Source::queue);
}

void FirecrackerVmm::ready(std::size_t d, Source s)
{
  Drive& dr  = *drives_[d];
  bool& flag = s == Source::queue ? dr.queue_evt : s == Source::completion ? dr.completion_evt : dr.timer_evt;
  if (flag) // already readable: epoll reports it once
    return;
  flag = true;
  ready_.emplace_back(d, s);
  if (not busy_)
    next_handler();
}

void FirecrackerVmm::next_handler()
{
  if (ready_.empty()) {
    busy_   = false;
    asleep_ = true;
    return;
  }
  busy_ = true;
  if (asleep_) { // epoll_wait returns once the host has run the thread again
    asleep_ = false;
    ++wakeups_;
    woken_     = true;
    double lat = p_.wakeup_latency.is_zero() ? 0.0 : p_.wakeup_latency.sample(rng_);
    if (lat > 0) {
      sim_->events().schedule_in(lat, this, kind(0, awake));
      return;
    }
  }
  dispatch_next();
}

void FirecrackerVmm::dispatch_next()
{
  auto [d, s] = ready_.front();
  ready_.pop_front();
  finishing_ = false;
  double c   = p_.event_cpu_s + (woken_ ? p_.wakeup_cpu_s : 0.0);
  woken_     = false;
  ++handlers_;
  post(c, d, s == Source::queue ? run_queue : s == Source::completion ? run_completion : run_timer);
}

void FirecrackerVmm::post(double cost_s, std::size_t d, Kind k, Request* r, bool next)
{
  ++steps_;
  if (next) // the rest of the code path that is running: before the requests popped earlier in the pass
    thread_.post_next(cost_s, this, kind(d, k), r);
  else
    thread_.post(cost_s, this, kind(d, k), r);
}

void FirecrackerVmm::step_done()
{
  if (--steps_ == 0 and finishing_)
    next_handler();
}

void FirecrackerVmm::begin_pass(std::size_t d)
{
  Drive& dr        = *drives_[d];
  dr.popped        = 0;
  dr.used_any      = false;
  dr.stopped       = false;
  dr.posted_cost_s = 0;
  dr.disk->device_disable_notification(dr.q);
  process_queue(d);
}

void FirecrackerVmm::process_queue(std::size_t d)
{
  Drive& dr = *drives_[d];
  for (;;) {
    Request* r = dr.disk->device_pop(dr.q);
    if (r == nullptr) {
      if (dr.posted > 0) // the re-check comes when the work popped so far is done
        return;
      if (not dr.disk->device_enable_notification(dr.q))
        continue; // pop_or_enable_notification: a request arrived while notifications were being enabled
      end_pass(d);
      return;
    }
    if (dr.limiter.enabled()) {
      std::uint64_t arm_ns = 0;
      if (dr.limiter.rate_limit(r->size_bytes, ns_of(now() + dr.posted_cost_s), &arm_ns)) {
        dr.disk->device_undo_pop(dr.q, r);
        ++dr.limiter_blocks;
        dr.stopped = true;
      }
      if (arm_ns > 0)
        sim_->events().schedule_in(dr.posted_cost_s + static_cast<double>(arm_ns) * 1e-9, this, kind(d, timer));
      if (dr.stopped)
        break;
    }
    if (async_ and (dr.uring_ops >= 2 * static_cast<std::uint64_t>(p_.io_uring_entries) or
                    dr.sq.size() + dr.sq_miss.size() + dr.posted >= static_cast<std::uint64_t>(p_.io_uring_entries))) {
      dr.disk->device_undo_pop(dr.q, r); // IoUring::push: FullSq / FullCQueue
      ++dr.throttles;
      dr.throttled = true;
      dr.stopped   = true;
      break;
    }
    ++dr.popped;
    ++dr.posted;
    if (async_) {
      ++dr.uring_ops;
      dr.max_uring_ops.sample(static_cast<double>(dr.uring_ops));
      dr.posted_cost_s += p_.request_cpu_s;
      post(p_.request_cpu_s, d, served, r);
      continue;
    }
    bool hit = is_hit();
    ++(hit ? dr.hits : dr.misses);
    if (not hit) { // Sync: the thread blocks in the syscall until the device is done
      dr.posted_cost_s += p_.request_cpu_s;
      post(p_.request_cpu_s, d, miss_issue, r);
      return;
    }
    double c = p_.request_cpu_s + p_.sync_io_cpu_s;
    dr.posted_cost_s += c;
    if (r->op == Op::write and not p_.sync_write_wait.is_zero()) { // it may sleep: nothing else until it is done
      post(c, d, write_copied, r);
      return;
    }
    post(c, d, served, r);
  }
  if (dr.posted == 0)
    end_pass(d);
}

void FirecrackerVmm::end_pass(std::size_t d)
{
  Drive& dr = *drives_[d];
  ++dr.passes;
  dr.per_pass.sample(static_cast<long long>(dr.popped));
  dr.disk->device_pass(dr.q, dr.popped);
  if (per_pass_ and dr.used_any)
    publish(d);
  if (async_ and (not dr.sq.empty() or not dr.sq_miss.empty())) {
    post(p_.uring_enter_cpu_s + static_cast<double>(dr.sq.size()) * p_.uring_io_cpu_s, d, entered);
    return; // the handler ends after the io_uring_enter
  }
  finishing_ = true;
  if (steps_ == 0)
    next_handler();
}

void FirecrackerVmm::add_used(std::size_t d, Request* r)
{
  Drive& dr   = *drives_[d];
  dr.used_any = true;
  dr.disk->device_add_used(dr.q, r);
  if (not per_pass_)
    publish(d);
}

void FirecrackerVmm::publish(std::size_t d)
{
  Drive& dr = *drives_[d];
  if (dr.disk->device_publish_used(dr.q)) // prepare_kick, then the irqfd write at once (version 1.0: before the
    post(p_.notify_cpu_s, d, notified_irq, nullptr, true); // next request's I/O)
}

void FirecrackerVmm::end_io(Request* r, double)
{
  // The backing device is done with a miss: the routing field saved with this frame says which drive.
  auto d    = static_cast<std::size_t>(r->queue);
  Drive& dr = *drives_[d];
  r->queue  = static_cast<int>(dr.q);
  if (async_) { // its CQE: the ring's eventfd
    dr.cq.push(r);
    ready(d, Source::completion);
    return;
  }
  // The syscall returns: the thread, asleep in it, wakes up (wakeup_cpu), copies, and the request is done.
  --steps_;
  post(p_.wakeup_cpu_s + p_.sync_io_cpu_s, d, served, r);
}

void FirecrackerVmm::on_event(int k, Request* r)
{
  auto d    = static_cast<std::size_t>(k / kinds);
  Drive& dr = *drives_[d];
  switch (static_cast<Kind>(k % kinds)) {
  case run_queue: // process_queue_event: the eventfd read, then the queue unless blocked or throttled
    dr.queue_evt = false;
    if (dr.limiter.blocked() or dr.throttled) {
      finishing_ = true;
      break;
    }
    begin_pass(d);
    break;
  case run_timer: // process_rate_limiter_event
    dr.timer_evt = false;
    dr.limiter.timer_fired();
    begin_pass(d);
    break;
  case run_completion: { // process_async_completion_event: reap every CQE
    dr.completion_evt = false;
    ++dr.reaps;
    std::uint64_t n = 0;
    while (Request* c = dr.cq.pop()) {
      dr.reaping.push(c);
      ++n;
    }
    post(static_cast<double>(n) * p_.uring_cqe_cpu_s, d, reaped);
    break;
  }
  case write_copied:
    if (double w = p_.sync_write_wait.sample(rng_); w > 0) {
      ++dr.write_waits;
      dr.write_wait_s += w;
      ++steps_; // the thread sleeps in the syscall until write_woken
      sim_->events().schedule_in(w, this, kind(d, write_woken), r);
      break;
    }
    [[fallthrough]];
  case served:
    --dr.posted;
    if (async_) { // the SQE is in the submission queue
      if (is_hit()) {
        ++dr.hits;
        dr.sq.push(r);
      } else {
        ++dr.misses;
        dr.sq_miss.push(r);
      }
    } else {
      add_used(d, r);
    }
    if (dr.posted == 0) {
      dr.posted_cost_s = 0;
      if (dr.stopped)
        end_pass(d);
      else
        process_queue(d);
    }
    break;
  case miss_issue:
    r->queue = static_cast<int>(d); // read back in end_io
    r->push_end_io(this, now());
    ++steps_; // the thread stays blocked in the syscall until end_io
    dr.device->submit(r);
    break;
  case entered: { // io_uring_enter returned: hits are complete already, misses went to the device
    bool cqes = not dr.sq.empty();
    while (Request* s = dr.sq.pop())
      dr.cq.push(s);
    while (Request* s = dr.sq_miss.pop()) {
      s->queue = static_cast<int>(d); // read back in end_io
      s->push_end_io(this, now());
      dr.device->submit(s);
    }
    finishing_ = true;
    if (cqes)
      ready(d, Source::completion);
    break;
  }
  case reaped: {
    while (Request* c = dr.reaping.pop()) {
      --dr.uring_ops;
      add_used(d, c);
    }
    if (per_pass_ and dr.used_any)
      publish(d);
    dr.used_any = false;
    if (dr.throttled) {
      dr.throttled = false;
      begin_pass(d);
      break;
    }
    finishing_ = true;
    break;
  }
  case notified_irq:
    dr.disk->device_interrupt(dr.q);
    break;
  case timer:
    ready(d, Source::timer);
    return; // not work of the thread
  case awake:
    dispatch_next();
    return;
  case write_woken: // not work of the thread: it runs again, and pays the wake-up
    --steps_;
    post(p_.wakeup_cpu_s, d, served, r);
    return;
  default:
    break;
  }
  step_done();
}

PVSIM_REGISTER_MODEL(FirecrackerVmm);

} // namespace pvsim
