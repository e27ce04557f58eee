#include "models/qemu/qemu_iothread.hpp"
#include "sim/resource_estimate.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pvsim {

const ParamTable<QemuIothreadParams>& QemuIothread::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("cpus", &Params::cpus, true, "The cpu.host whose cores run the IOThread (and its pool's workers).")
        .quantity("wakeup_cpu", Dimension::duration, &Params::wakeup_cpu_s, 2e-6, 0, 1,
                  "CPU each time an eventfd wakes the sleeping IOThread out of ppoll/epoll_wait (context switch, "
                  "cache refill).",
                  "pvsim estimate")
        .quantity("quantum", Dimension::duration, &Params::quantum_s, 20e-6, 1e-9, 1,
                  "Most CPU work the thread takes in one batch before acting on it.", "pvsim: 20us")
        .quantity(
            "poll_max", Dimension::duration, &Params::poll_max_s, 32768e-9, 0, 1,
            "poll-max-ns: longest the thread busy-polls its handlers before it blocks (0: never polls; QEMU's main "
            "loop does not poll: set 0s for a qemu.iothread that stands for it).",
            "QEMU iothread.c IOTHREAD_POLL_MAX_NS_DEFAULT (32768 ns on POSIX hosts); util/async.c aio_context_new(): 0 "
            "for other AioContexts")
        .integer("poll_grow", &Params::poll_grow, 0, 0, 1 << 20,
                 "poll-grow: factor poll_ns grows by after a short block (0: 2).",
                 "QEMU iothread.c (0 unless set); util/aio-posix.c aio_poll(): grow 0 means 2")
        .integer("poll_shrink", &Params::poll_shrink, 0, 0, 1 << 20,
                 "poll-shrink: divisor of poll_ns after a block longer than poll_max (0: poll_ns drops to 0).",
                 "QEMU iothread.c (0 unless set); util/aio-posix.c aio_poll(): shrink 0 resets poll_ns");
    describe_aio_engine(tb);
    describe_aio_sizing(tb);
    tb.integer("host_nr_requests", &Params::host_nr_requests, 256, 0, 1 << 20,
               "Requests each backing device's host request queue takes (sysfs queue/nr_requests); beyond, a request "
               "sleeps for a tag: inside io_submit with aio=native (the AioContext's thread blocks), in a worker or an "
               "io-wq punt otherwise. 0: no limit.",
               "Linux 5.x-6.15 block/blk-mq-sched.c blk_mq_init_sched(): 2 x min(queue depth, BLKDEV_DEFAULT_RQ 128) "
               "= 256 under mq-deadline (SATA/SCSI disks' default scheduler)");
    return tb;
  }();
  return t;
}

namespace {
/** The QEMU version's defaults where max_events or aio_max_batch is 0. */
QemuIothreadParams with_version_defaults(QemuIothreadParams p)
{
  bool before_5_0 = p.qemu_version == "4.2";
  bool before_6_1 = before_5_0 or p.qemu_version == "5.0";
  if (p.max_events == 0)
    p.max_events = before_5_0 ? 128 : 1024;
  if (p.aio_max_batch == 0) // before 6.1 no batch limit: laio_max_batch() then gives the events left
    p.aio_max_batch = before_6_1 ? (1LL << 40) : 32;
  return p;
}
} // namespace

QemuIothread::QemuIothread(std::string name, const Params& p)
    : Component(std::move(name), type_name), p_(with_version_defaults(p)), thread_(this->name(), p.quantum_s),
      engine_(make_aio_engine(p.aio, p_, *this)), sizing_(make_aio_sizing(p.sizing, p)),
      poll_max_ns_(std::llround(p.poll_max_s * 1e9))
{
  sizing_timer_.self = this;
  fixed_length_      = engine_->length(); // the engine's configured length, before any policy sets one
  upper_             = p_.max_length > 0 ? p_.max_length : engine_->bound();
  if (sizing_->bounded())
    engine_->reserve(upper_);
}

void QemuIothread::connect()
{
  host_ = &CpuHost::from_port(*this, "cpus");
}

void QemuIothread::estimate_resources(ResourceEstimate& e) const
{
  // The IOThread and, with aio=threads, its pool's workers (created on demand, at most max_threads).
  double workers = p_.aio == "threads"
                       ? static_cast<double>(sizing_->bounded() ? std::max(p_.max_threads, upper_) : p_.max_threads)
                       : 0.0;
  e.add_actors(name(), 1.0 + workers, Simulation::actor_stack_bytes(), "IOThread and AIO pool threads");
}

void QemuIothread::start(Simulation& sim)
{
  sim_ = &sim;
  host_->run(thread_, sim.events());
  idle_         = Idle::blocked; // asleep until the first work (ctx->poll_ns starts at 0)
  idle_since_s_ = sim.events().now();
  poll_ns_level_.set(idle_since_s_, 0);
  engine_->start();
  resize(AioSizing::Why::start, disks_.size());
  if (sizing_->periodic())
    sim.events().schedule_in(p_.sizing_interval_s, &sizing_timer_, 0);
  declare_stats();
}

SizingView QemuIothread::sizing_view() const
{
  SizingView v;
  v.fixed_length = fixed_length_;
  v.length       = engine_->length();
  v.lower        = std::min(p_.min_length, upper_);
  v.upper        = upper_;
  v.disks        = disks_.size();
  for (const Disk& d : disks_)
    v.disks_capacity += d.capacity;
  return v;
}

void QemuIothread::resize(AioSizing::Why why, std::size_t disks_before)
{
  SizingView v   = sizing_view();
  v.disks_before = disks_before;
  set_queue_length(sizing_->length(v, why), v, why == AioSizing::Why::start);
}

void QemuIothread::set_queue_length(long long length, const SizingView& v, bool first)
{
  long long l = sizing_->bounded() ? clamp_length(length, v) : length;
  if (l == engine_->length() and not first)
    return;
  if (not first) {
    ++resizes_;
    run(p_.resize_cpu_s, nullptr, 0); // a new io context for new submissions, the old one drains
  }
  engine_->set_length(l);
  length_level_.set(events().now(), static_cast<double>(engine_->length()));
  length_peak_.set(static_cast<double>(engine_->length()));
}

void QemuIothread::sizing_tick()
{
  SizingView v     = sizing_view();
  double cpu       = thread_.cpu_s();
  double used      = cpu >= cpu_seen_s_ ? cpu - cpu_seen_s_ : cpu; // the window restarted (warm-up's end)
  cpu_seen_s_      = cpu;
  v.busy_fraction  = used / p_.sizing_interval_s;
  v.waited         = engine_->waited_total() - waited_seen_;
  waited_seen_     = engine_->waited_total();
  v.host_full      = host_full_total_ - host_full_seen_;
  host_full_seen_  = host_full_total_;
  v.peak_in_flight = engine_->take_interval_peak();
  v.submit_blocks  = engine_->submit_blocks();
  set_queue_length(sizing_->length(v, AioSizing::Why::interval), v, false);
  events().schedule_in(p_.sizing_interval_s, &sizing_timer_, 0);
}

void QemuIothread::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/disks",
      [this] {
        json disks = json::array();
        for (const Disk& d : disks_)
          disks.push_back(d.disk->name());
        return disks;
      },
      "the virtio.blk disks with virtqueues served here");
  st.formula("/utilization", thread_.utilization(), "fraction",
             "CPU time the thread consumed (its work and its polling) / window");
  st.formula("/running_fraction", thread_.running_fraction(), "fraction",
             "fraction of the window the thread spent running a batch (waits for a core included)");
  st.add("/wakeups", wakeups_, "wakeups", "eventfds that woke the thread asleep in ppoll (paying wakeup_cpu)");
  if (poll_max_ns_ > 0) { // the utilization above includes the polling (CpuThread::account_spin)
    st.add("/poll/caught", caught_, "events",
           "work that arrived while the thread polled (picked up without a wake-up)");
    st.add("/poll/windows", windows_, "windows", "poll windows started (the thread idle with poll_ns > 0)");
    st.add("/poll/expired", expired_, "windows", "poll windows that ran out with nothing found (then it blocks)");
    st.add("/poll/cpu_s", poll_cpu_s_, "s", "CPU time spent polling");
    st.formula(
        "/poll/utilization", [this](const StatWindow& w) { return json(w.per_second(poll_cpu_s_.get())); }, "fraction",
        "CPU time spent polling / window");
    st.add("/poll/mean_poll_ns", poll_ns_level_, "ns", "time-averaged poll time (ctx->poll_ns)");
    st.info(
        "/poll/poll_ns", [this] { return poll_ns_; }, "poll time (ctx->poll_ns) at the end of the run, in ns");
  }
  st.add("/work_items", thread_.stat_items(), "items", "work items the thread ran");
  st.info(
      "/sizing/policy", [this] { return p_.sizing; }, "the engine queue's sizing policy");
  st.add("/sizing/mean_length", length_level_, "requests", "time-averaged queue length of the engine");
  st.add("/sizing/max_length", length_peak_, "requests", "longest queue length of the engine");
  st.info(
      "/sizing/length", [this] { return engine_->length(); }, "queue length at the end of the run");
  st.add("/sizing/resizes", resizes_, "changes", "changes of the queue length");
  st.info(
      "/sizing/kernel_memory_bytes",
      [this] { return json(engine_->kernel_memory_bytes(engine_->length(), host_->cores())); },
      "host kernel memory of the engine's queue at the end of the run, in bytes (ring pages or worker stacks)");
  st.add("/host_queue/full", host_full_, "requests",
         "requests that found their device's host request queue full (host_nr_requests) and slept for a tag");
  st.add("/host_queue/blocked_s", blocked_s_, "s",
         "time the AioContext's thread slept inside io_submit for a tag (aio=native)");
  st.formula(
      "/host_queue/blocked_fraction", [this](const StatWindow& w) { return json(w.per_second(blocked_s_.get())); },
      "fraction", "share of the window the AioContext's thread slept in io_submit");
  engine_->declare_stats(st, "/engine/");
}

EventQueue& QemuIothread::events()
{
  return sim_->events();
}

QemuIothread::Disk* QemuIothread::find_disk(const Component* disk)
{
  for (Disk& d : disks_)
    if (d.disk == disk)
      return &d;
  return nullptr;
}

void QemuIothread::attach(const Component& disk, Component& device, long long capacity)
{
  if (Disk* d = find_disk(&disk)) {
    d->capacity += capacity;
    return;
  }
  std::size_t dev = devices_.size();
  for (std::size_t i = 0; i < devices_.size(); ++i)
    if (devices_[i].component == &device)
      dev = i;
  if (dev == devices_.size())
    devices_.push_back(Device{&device, 0, {}});
  std::size_t before = disks_.size();
  disks_.push_back(Disk{&disk, dev, capacity});
  if (sim_ != nullptr) // hot-plugged while the simulation runs: the policy reacts
    resize(AioSizing::Why::attach, before);
}

void QemuIothread::detach(const Component& disk)
{
  std::size_t before = disks_.size();
  std::erase_if(disks_, [&disk](const Disk& d) { return d.disk == &disk; });
  if (sim_ != nullptr and disks_.size() != before)
    resize(AioSizing::Why::detach, before);
}

void QemuIothread::run(double cost_s, EventTarget* target, int kind, Request* r)
{
  if (poll_max_ns_ == 0) {
    if (thread_.idle()) { // asleep in ppoll: the eventfd that brought this work wakes it up
      cost_s += p_.wakeup_cpu_s;
      ++wakeups_;
    }
    thread_.post(cost_s, target, kind, r);
    return;
  }
  double now = events().now();
  if (idle_ == Idle::polling) { // run_poll_handlers() found it: no wake-up, aio_poll returns
    ++caught_;
    account_poll();
    adjust_poll_ns(now - idle_since_s_);
  } else if (idle_ == Idle::blocked and not rechecking_) { // asleep: the eventfd wakes it up
    cost_s += p_.wakeup_cpu_s;
    ++wakeups_;
    adjust_poll_ns(now - idle_since_s_);
  }
  idle_ = Idle::busy;
  ++outstanding_;
  thread_.post(cost_s, this, route(target, kind), r);
}

int QemuIothread::route(EventTarget* target, int kind)
{
  auto [it, added] = route_ids_.try_emplace({target, kind}, static_cast<int>(routes_.size()));
  if (added)
    routes_.emplace_back(target, kind);
  return it->second;
}

void QemuIothread::on_event(int kind, Request* r)
{
  if (kind < 0) { // a poll window's timer: stale unless it is the current window's and the thread still polls
    if (idle_ == Idle::polling and kind == -1 - static_cast<int>(window_ & 0x3fffffff))
      window_over();
    return;
  }
  auto [target, k] = routes_[static_cast<std::size_t>(kind)];
  --outstanding_;
  if (target != nullptr)
    target->on_event(k, r);
  if (outstanding_ == 0) // the last continuation queued, and it posted nothing: the thread goes back to aio_poll
    went_idle();
}

void QemuIothread::went_idle()
{
  idle_since_s_ = events().now();
  if (poll_ns_ == 0) { // try_poll_mode(): max_ns 0, poll mode off (it may find work), then block
    end_poll_mode();
    if (outstanding_ == 0)
      idle_ = Idle::blocked;
    return;
  }
  if (not poll_mode_) { // poll_set_started(ctx, true): io_poll_begin on every handler
    poll_mode_ = true;
    for (PollHandler* h : poll_handlers_)
      h->poll_begin();
  }
  idle_ = Idle::polling;
  ++windows_;
  ++window_;
  events().schedule_at(idle_since_s_ + poll_s(), this, -1 - static_cast<int>(window_ & 0x3fffffff));
}

void QemuIothread::window_over()
{
  // run_poll_handlers() ran for poll_ns without progress: poll mode off (io_poll_end and a last check), then block.
  ++expired_;
  account_poll();
  idle_ = Idle::blocked;
  end_poll_mode();
  // If the last check found work, aio_poll did not block: block_ns = poll_ns, no adjustment.
}

void QemuIothread::end_poll_mode()
{
  if (not poll_mode_)
    return;
  poll_mode_  = false;
  rechecking_ = true;
  for (PollHandler* h : poll_handlers_)
    h->poll_end();
  rechecking_ = false;
}

void QemuIothread::adjust_poll_ns(double block_s)
{
  auto block_ns = static_cast<long long>(std::llround(block_s * 1e9));
  if (block_ns <= poll_ns_)
    return; // the sweet spot
  if (block_ns > poll_max_ns_) {
    set_poll_ns(p_.poll_shrink > 0 ? poll_ns_ / p_.poll_shrink : 0);
  } else if (poll_ns_ < poll_max_ns_ and block_ns < poll_max_ns_) {
    long long grow = p_.poll_grow > 0 ? p_.poll_grow : 2;
    set_poll_ns(std::min(poll_ns_ > 0 ? poll_ns_ * grow : 4000, poll_max_ns_)); // 4000: POLL_NS initial 4 us
  }
}

void QemuIothread::account_poll()
{
  double polled = events().now() - idle_since_s_;
  poll_cpu_s_ += polled;
  thread_.account_spin(polled);
}

void QemuIothread::set_poll_ns(long long ns)
{
  poll_ns_ = ns;
  poll_ns_level_.set(events().now(), static_cast<double>(ns));
}

void QemuIothread::dispatch(Request* r)
{
  Disk* disk = find_disk(r->top().component);
  if (disk == nullptr)
    throw std::logic_error("qemu.iothread '" + name() + "': a request of a disk that is not attached here");
  Device& d = devices_[disk->device];
  bool full = p_.host_nr_requests > 0 and d.in_flight >= static_cast<std::uint64_t>(p_.host_nr_requests);
  if (engine_->submit_blocks()) {
    if (full or not submit_wait_.empty()) { // io_submit sleeps in blk_mq_get_tag; the iocbs after it wait behind
      if (full) {
        ++host_full_;
        ++host_full_total_;
      }
      if (submit_wait_.empty()) {
        thread_.hold();
        blocked_since_s_ = events().now();
      }
      submit_wait_.push(r);
      return;
    }
  } else if (full) { // a worker sleeps in preadv, or io_uring punts the request to an io-wq worker that sleeps
    ++host_full_;
    ++host_full_total_;
    d.waiting.push(r);
    return;
  }
  issue_to_device(d, r);
}

void QemuIothread::issue_to_device(Device& d, Request* r)
{
  ++d.in_flight;
  r->push_end_io(this, r->stage_s); // r->stage_s: when the request entered the engine
  d.component->submit(r);
}

void QemuIothread::end_io(Request* r, double enter_s)
{
  Disk* disk = find_disk(r->top().component);
  if (disk != nullptr) { // the host request completed: its tag is free
    Device& d = devices_[disk->device];
    --d.in_flight;
    if (Request* next = d.waiting.pop()) {
      issue_to_device(d, next);
    } else if (not submit_wait_.empty()) { // io_submit goes on while the iocbs at its head find tags
      while (Request* head = submit_wait_.front()) {
        Device& hd = devices_[find_disk(head->top().component)->device];
        if (hd.in_flight >= static_cast<std::uint64_t>(p_.host_nr_requests))
          break;
        submit_wait_.pop();
        issue_to_device(hd, head);
      }
      if (submit_wait_.empty()) {
        blocked_s_ += events().now() - blocked_since_s_;
        thread_.release_hold();
      }
    }
  }
  engine_->device_done(r, enter_s);
}

std::vector<QueueView> QemuIothread::queues() const
{
  return {{name() + ".aio", engine_.get()}};
}

QemuIothread& QemuIothread::from_port(const Component& owner, const std::string& port)
{
  auto* t = dynamic_cast<QemuIothread*>(owner.port(port));
  if (t == nullptr)
    owner.fail("'" + owner.port(port)->name() + "' (" + owner.port(port)->type() + ") is not a qemu.iothread",
               port.substr(0, port.find('/')));
  return *t;
}

PVSIM_REGISTER_MODEL(QemuIothread);

} // namespace pvsim
