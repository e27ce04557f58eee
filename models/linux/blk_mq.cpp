#include "models/linux/blk_mq.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

namespace pvsim {

const ParamTable<BlkMqParams>& BlkMq::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("vm", &Params::vm, true, "The guest.vm whose vCPUs submit (one software context per vCPU).")
        .ref("target", &Params::target, true, "The block driver (its hardware queues and queue depth).")
        .choice(
            "map", &Params::map, queue_map_policy_names(), std::string("default"),
            "CPU to hardware-queue mapping policy; default: the driver's map_queues (virtio-blk over PCI with managed "
            "interrupts: the vectors' affinity spread), else the guest kernel's blk_mq_map_queues() (guest.vm's "
            "kernel).",
            "Linux blk_mq_map_queues (block/blk-mq-cpumap.c), by kernel era")
        .integers("map_table", &Params::map_table, 0, 4095,
                  "With map \"explicit\": the hardware queue of each vCPU, in vCPU order.")
        .flag("map_clusters", &Params::map_clusters, false,
              "With map \"default\": group CPUs by L2 cluster first (group_cpus_evenly's 2026 cluster step).",
              "off, as in the kernels of the recorded guests (6.1, 6.18)")
        .integer("numa_nodes", &Params::numa_nodes, 1, 1, 64, "NUMA nodes the guest's vCPUs are spread over.",
                 "one node")
        .integer("threads_per_core", &Params::threads_per_core, 1, 1, 8, "SMT threads per core in the guest.", "no SMT")
        .integer("queue_depth", &Params::queue_depth, 0, 0, 1 << 16,
                 "Tags per hardware queue (0: the driver's queue depth).", "the driver's tag_set.queue_depth")
        .quantity("tag_sleep_cpu", Dimension::duration, &Params::tag_sleep_cpu_s, 3e-6, 0, 1,
                  "CPU of the submitter's vCPU each time it sleeps for a tag: switched out (io_schedule) and back in.",
                  "pvsim estimate: two context switches of ~1.5 us (lmbench lat_ctx on 2015 Xeons)")
        .quantity("tag_wake_cpu", Dimension::duration, &Params::tag_wake_cpu_s, 1.5e-6, 0, 1,
                  "CPU of the vCPU whose completion frees the tag and wakes a sleeper on another vCPU.",
                  "pvsim estimate: try_to_wake_up and a reschedule IPI (xen_send_IPI_one: an event-channel send)")
        .choice("scheduler", &Params::scheduler, {"none", "mq-deadline", "kernel"}, std::string("none"),
                "The I/O scheduler (/sys/block/*/queue/scheduler); kernel: the guest kernel's own choice, "
                "mq-deadline when the driver has one hardware queue and the kernel is 4.11 or later, else none.",
                "none: pvsim's default, not the kernel's (README \"I/O schedulers\"); Linux block/elevator.c "
                "elevator_get_default() picks mq-deadline for single-queue devices since 4.11")
        .integer("nr_requests", &Params::nr_requests, 0, 0, 1 << 16,
                 "With a scheduler: scheduler tags per hardware queue, the requests it can hold "
                 "(/sys/block/*/queue/nr_requests; 0: 2 x min(queue depth, 128)).",
                 "Linux block/blk-mq-sched.c blk_mq_init_sched(): 2 * min(tag set depth, BLKDEV_DEFAULT_RQ)")
        .quantity("dd_insert_cpu", Dimension::duration, &Params::dd_insert_cpu_s, 0.3e-6, 0, 1,
                  "mq-deadline: CPU of one insert under dd->lock (the bio-merge lookup, dd_insert_request's rb-tree, "
                  "FIFO and hash insertions), besides the tree's cache lines.",
                  "pvsim estimate: a few hundred instructions of list and tree work")
        .quantity("dd_dispatch_cpu", Dimension::duration, &Params::dd_dispatch_cpu_s, 0.3e-6, 0, 1,
                  "mq-deadline: CPU of one dispatch under dd->lock (dd_dispatch_request: the FIFO check, the next "
                  "request in sort order, its removal) and the driver tag, besides the tree's cache lines.",
                  "pvsim estimate: a few hundred instructions of list and tree work")
        .choice("dd_lock", &Params::dd_lock, {"default", "ticket", "qspinlock"}, std::string("default"),
                "mq-deadline's dd->lock (sim/spin_lock.hpp); default by the guest's kernel (ticket up to 4.1, "
                "queued spinlock from 4.2).",
                "Linux arch/x86: queued spinlocks from 4.2")
        .integer("dd_lock_lines", &Params::dd_lock_lines, 2, 0, 1024,
                 "Cache lines of struct deadline_data an insert or dispatch writes besides the lock word (list heads, "
                 "the sort tree's root, batching and statistics).",
                 "pvsim estimate from struct deadline_data")
        .integer("fifo_batch", &Params::fifo_batch, 16, 1, 1 << 16,
                 "mq-deadline: requests dispatched in sector order before the FIFO is checked again.",
                 "Linux block/mq-deadline.c: fifo_batch = 16")
        .quantity("read_expire", Dimension::duration, &Params::read_expire_s, 0.5, 1e-6, 3600,
                  "mq-deadline: a read's deadline after its insertion.",
                  "Linux block/mq-deadline.c: read_expire = HZ / 2")
        .quantity("write_expire", Dimension::duration, &Params::write_expire_s, 5.0, 1e-6, 3600,
                  "mq-deadline: a write's deadline after its insertion.",
                  "Linux block/mq-deadline.c: write_expire = 5 * HZ")
        .integer("writes_starved", &Params::writes_starved, 2, 0, 1 << 16,
                 "mq-deadline: read batches chosen over waiting writes before writes get one.",
                 "Linux block/mq-deadline.c: writes_starved = 2");
    return tb;
  }();
  return t;
}

BlkMq::BlkMq(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p) {}

void BlkMq::connect()
{
  vm_     = &GuestVm::from_port(*this, "vm");
  driver_ = dynamic_cast<BlockDriver*>(port("target"));
  if (driver_ == nullptr)
    fail("'" + port("target")->name() + "' (" + port("target")->type() +
             ") is not a block driver: blk_mq feeds a driver such as a Xen blkfront, a virtio-blk or null_blk",
         "target");
}

void BlkMq::validate()
{
  int cpus = vm_->vcpus();
  int per  = static_cast<int>(p_.numa_nodes * p_.threads_per_core);
  if (cpus % per != 0)
    fail("the guest's " + std::to_string(cpus) + " vCPUs cannot be split into " + std::to_string(p_.numa_nodes) +
         " NUMA nodes of cores with " + std::to_string(p_.threads_per_core) + " threads");
  CpuTopology topo =
      CpuTopology::from_spec(static_cast<int>(p_.numa_nodes), cpus / per, static_cast<int>(p_.threads_per_core));
  nlohmann::json options = nlohmann::json::object();
  if (not p_.map_table.empty())
    options["table"] = p_.map_table;
  if (p_.map_clusters)
    options["clusters"] = true;
  // "default": the driver's own map_queues if it has one (virtio-pci: the MSI-X vectors' affinity), else the guest
  // kernel's blk_mq_map_queues() (the L2-cluster step, a later kernel's, is an option).
  std::string name = p_.map;
  if (name == "default" and not p_.map_clusters)
    name = driver_->map_queues_policy(vm_->kernel()).value_or(kernel_queue_map_policy(vm_->kernel()));
  auto policy = make_queue_map_policy(name, options, QueueMapOrigin{origin_file(), origin_pointer()});
  int nr      = driver_->nr_hw_queues();
  map_        = policy->map(topo, nr);
  scheduler_  = p_.scheduler;
  if (scheduler_ == "kernel")
    scheduler_ = (nr == 1 and not vm_->kernel().before(4, 11)) ? "mq-deadline" : "none";
}

void BlkMq::start(Simulation& sim)
{
  int depth = p_.queue_depth > 0 ? static_cast<int>(p_.queue_depth) : driver_->queue_depth();
  int nr    = driver_->nr_hw_queues();
  int tags  = depth; // without a scheduler a request takes a driver tag; with one, a scheduler tag first
  if (scheduler_ == "mq-deadline") {
    tags = p_.nr_requests > 0 ? static_cast<int>(p_.nr_requests) : 2 * std::min(depth, 128);
    MqDeadlineTunables t{static_cast<int>(p_.fifo_batch), p_.read_expire_s, p_.write_expire_s,
                         static_cast<int>(p_.writes_starved)};
    dd_              = std::make_unique<MqDeadline>(t, nr, tags);
    std::string kind = p_.dd_lock == "default" ? vm_->spinlock_kind() : p_.dd_lock;
    line_cost_       = vm_->pcpus().line_cost();
    dd_lock_         = std::make_unique<SpinLock>(name() + ".dd_lock", SpinLock::kind_of(kind), line_cost_,
                                          static_cast<int>(p_.dd_lock_lines));
    dd_lock_->set_paravirt(vm_->pv_spin());
    driver_free_.assign(static_cast<std::size_t>(nr), {});
    for (auto& f : driver_free_)
      for (int t2 = depth - 1; t2 >= 0; --t2)
        f.push_back(t2);
    driver_tag_of_.assign(static_cast<std::size_t>(nr), std::vector<int>(static_cast<std::size_t>(tags), -1));
    hctx_dispatch_ = std::vector<RequestFifo>(static_cast<std::size_t>(nr));
    running_.assign(static_cast<std::size_t>(vm_->vcpus()), 0);
    driver_->set_upper(this);
  }
  hctx_.reset(static_cast<std::size_t>(nr));
  for (int q = 0; q < nr; ++q)
    hctx_.emplace_back(*this, q, tags).attach(sim.events());
  sim_ = &sim;
  declare_stats();
}

void BlkMq::submit(Request* r)
{
  int cpu  = r->cpu < 0 ? 0 : r->cpu % static_cast<int>(map_.size());
  r->queue = map_[static_cast<std::size_t>(cpu)];
  hctx_[static_cast<std::size_t>(r->queue)].get(r);
}

void BlkMq::tag_granted(Request* r, int hctx, bool woken)
{
  if (woken) { // the submitter slept in blk_mq_get_tag(): the completion that freed the tag wakes it
    CpuThread& sleeper = vm_->vcpu(r->cpu < 0 ? 0 : r->cpu % vm_->vcpus());
    CpuThread* waker   = CpuThread::current();
    if (waker != nullptr and waker != &sleeper and p_.tag_wake_cpu_s > 0)
      waker->post(p_.tag_wake_cpu_s, nullptr, 0); // after the completion path it is on (a ring lock, say)
    if (p_.tag_sleep_cpu_s > 0)
      sleeper.post_next(p_.tag_sleep_cpu_s, nullptr, 0); // before it goes on into the driver
    ++tag_wakeups_;
  }
  r->queue = hctx;
  r->push_end_io(this, r->stage_s);
  if (not dd_) {
    ++hctx_[static_cast<std::size_t>(hctx)].stat_dispatched();
    driver_->queue_rq(r);
    return;
  }
  // blk_mq_sched_insert_request on the submitting vCPU, under dd->lock: the bio-merge lookup and the insertion each
  // search the sort tree.
  int v = r->cpu < 0 ? 0 : r->cpu % vm_->vcpus();
  post_on(v, dd_lock_.get(), p_.dd_insert_cpu_s + 2.0 * dd_->search_depth(r->op) * tree_line(v), inserted, r);
}

void BlkMq::post_on(int v, SpinLock* lock, double cost_s, Kind k, Request* r)
{
  CpuThread& t = vm_->vcpu(v);
  if (CpuThread::current() == &t) // the rest of the code path running there
    t.post_next_locked(lock, cost_s, this, v * kinds + k, r);
  else
    t.post_locked(lock, cost_s, this, v * kinds + k, r);
}

double BlkMq::tree_line(int vcpu)
{
  double t    = tree_owner_ < 0 ? 0.0 : line_cost_.between(vm_->vcpu(tree_owner_).place(), vm_->vcpu(vcpu).place());
  tree_owner_ = vcpu;
  return t;
}

int BlkMq::running_vcpu(const Request* r) const
{
  if (const CpuThread* cur = CpuThread::current())
    for (int i = 0; i < vm_->vcpus(); ++i)
      if (&vm_->vcpu(i) == cur)
        return i;
  return r == nullptr or r->cpu < 0 ? 0 : r->cpu % vm_->vcpus();
}

void BlkMq::on_event(int kind, Request* r)
{
  int v = kind / kinds;
  switch (static_cast<Kind>(kind % kinds)) {
  case inserted:
    r->stage_s = sim_->events().now();
    dd_->insert(r, r->stage_s);
    ++dd_inserted_;
    dd_queued_.set(static_cast<double>(dd_->queued()));
    run_queue(v);
    break;
  case dispatched: // the request leaves the scheduler: queue_rq on this vCPU
    r->cpu = v;    // the CPU running the hardware queue (the frame keeps the submitter's for the layers above)
    ++hctx_[static_cast<std::size_t>(r->queue)].stat_dispatched();
    driver_->queue_rq(r);
    vm_->vcpu(v).post_next(0, this, v * kinds + ran); // after the driver's queue_rq: has it stopped the queue?
    break;
  case ran:
    running_[static_cast<std::size_t>(v)] = 0;
    run_queue(v);
    break;
  default:
    break;
  }
}

void BlkMq::run_queue(int v)
{
  if (running_[static_cast<std::size_t>(v)])
    return; // this vCPU is dispatching already: it will look again
  auto can_take = [this](std::size_t h) {
    return not driver_->hw_queue_stopped(static_cast<int>(h)) and not driver_free_[h].empty();
  };
  Request* r   = nullptr;
  bool from_dd = false;
  for (std::size_t h = 0; h < hctx_dispatch_.size() and r == nullptr; ++h) // hctx->dispatch first
    if (not hctx_dispatch_[h].empty() and can_take(h))
      r = hctx_dispatch_[h].pop();
  if (r == nullptr) {
    bool any = false;
    for (std::size_t h = 0; h < driver_free_.size() and not any; ++h)
      any = hctx_dispatch_[h].empty() and can_take(h);
    if (not any or dd_->queued() == 0)
      return;
    r       = dd_->dispatch(sim_->events().now());
    from_dd = true;
    ++dd_dispatched_;
    dd_wait_s_ += sim_->events().now() - r->stage_s;
    dd_queued_.set(static_cast<double>(dd_->queued()));
    auto h = static_cast<std::size_t>(r->queue);
    if (not can_take(h) or not hctx_dispatch_[h].empty()) { // no driver tag for it: it waits on hctx->dispatch
      hctx_dispatch_[h].push(r);
      return;
    }
  }
  auto h   = static_cast<std::size_t>(r->queue);
  int dtag = driver_free_[h].back();
  driver_free_[h].pop_back();
  driver_tag_of_[h][static_cast<std::size_t>(r->tag)] = dtag;
  r->tag                                              = dtag;
  running_[static_cast<std::size_t>(v)]               = 1;
  if (from_dd)
    post_on(v, dd_lock_.get(), p_.dd_dispatch_cpu_s + 2.0 * tree_line(v), dispatched, r);
  else
    post_on(v, nullptr, 0.0, dispatched, r); // from hctx->dispatch: a list splice, no scheduler work
}

void BlkMq::restarted(int /*hctx*/, int vcpu)
{
  if (dd_)
    run_queue(vcpu);
}

void BlkMq::end_io(Request* r, double enter_s)
{
  if (not dd_) {
    hctx_[static_cast<std::size_t>(r->queue)].put(r, enter_s);
    r->end_io();
    return;
  }
  auto h  = static_cast<std::size_t>(r->queue);
  auto st = static_cast<std::size_t>(r->tag); // the frame gave back the scheduler tag
  driver_free_[h].push_back(driver_tag_of_[h][st]);
  driver_tag_of_[h][st] = -1;
  int v                 = running_vcpu(r);
  hctx_[h].put(r, enter_s);
  r->end_io();
  run_queue(v); // blk_mq_sched_restart(): the freed driver tag lets the next request go
}

std::vector<QueueView> BlkMq::queues() const
{
  std::vector<QueueView> out;
  for (std::size_t q = 0; q < hctx_.size(); ++q)
    out.push_back({name() + ".hctx" + std::to_string(q), &hctx_[q]});
  return out;
}

void BlkMq::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/map", [this] { return p_.map; }, "CPU to hardware-queue mapping policy (as set in the scenario)");
  st.add("/tag_wakeups", tag_wakeups_, "wakeups",
         "sleeps for a tag ended by a wake-up (one per wake_batch requests that waited)");
  st.info(
      "/scheduler", [this] { return scheduler_; }, "the I/O scheduler in force (\"kernel\" resolved)");
  if (dd_) {
    st.add("/mq_deadline/inserted", dd_inserted_, "requests", "requests inserted into mq-deadline");
    st.add("/mq_deadline/dispatched", dd_dispatched_, "requests", "requests dispatched from mq-deadline");
    st.add("/mq_deadline/fifo_expired", dd_->stat_expired(), "requests",
           "dispatches that began from the FIFO's oldest request because its deadline had passed");
    st.add("/mq_deadline/queued_peak", dd_queued_, "requests", "most requests queued in the scheduler at once");
    st.add("/mq_deadline/wait_s", dd_wait_s_, "s", "total time requests spent queued in the scheduler");
    st.formula(
        "/mq_deadline/wait_mean_us",
        [this](const StatWindow&) -> nlohmann::json {
          return dd_dispatched_.get() ? dd_wait_s_.get() / static_cast<double>(dd_dispatched_.get()) * 1e6 : 0.0;
        },
        "us", "mean time a request spent queued in the scheduler");
    dd_lock_->track_stats(st, "/mq_deadline/dd_lock");
  }
  auto cpus = cpus_of_queue(map_, static_cast<int>(hctx_.size()));
  for (std::size_t q = 0; q < hctx_.size(); ++q) {
    TagSet& tags   = hctx_[q];
    std::string hw = "/hw_queues/" + std::to_string(q) + "/";
    st.info(
        hw + "hctx", [q] { return q; }, "hardware queue index");
    st.info(
        hw + "cpu_list", [list = format_cpu_list(cpus[q])] { return list; },
        "vCPUs mapped onto the hardware queue (the kernel's cpu_list format)");
    st.info(
        hw + "nr_tags", [&tags] { return tags.depth(); },
        "tags of the hardware queue (its queue depth; with a scheduler, its nr_requests scheduler tags)");
    st.add(hw + "dispatched", tags.stat_dispatched(), "requests",
           "requests that got a tag and went to the driver (queue_rq)");
    st.add(hw + "tag_waits", tags.stat_waits(), "requests", "requests that found no free tag and waited for one");
  }
}

PVSIM_REGISTER_MODEL(BlkMq);

} // namespace pvsim
