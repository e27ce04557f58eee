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
                  "pvsim estimate: try_to_wake_up and a reschedule IPI (xen_send_IPI_one: an event-channel send)");
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
}

void BlkMq::start(Simulation& sim)
{
  int depth = p_.queue_depth > 0 ? static_cast<int>(p_.queue_depth) : driver_->queue_depth();
  for (int q = 0; q < driver_->nr_hw_queues(); ++q) {
    hctx_.push_back(std::make_unique<TagSet>(*this, q, depth));
    hctx_.back()->attach(sim.events());
  }
  dispatched_ = std::vector<Counter>(hctx_.size());
  declare_stats();
}

void BlkMq::submit(Request* r)
{
  int cpu  = r->cpu < 0 ? 0 : r->cpu % static_cast<int>(map_.size());
  r->queue = map_[static_cast<std::size_t>(cpu)];
  hctx_[static_cast<std::size_t>(r->queue)]->get(r);
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
  ++dispatched_[static_cast<std::size_t>(hctx)];
  driver_->queue_rq(r);
}

void BlkMq::end_io(Request* r, double enter_s)
{
  hctx_[static_cast<std::size_t>(r->queue)]->put(r, enter_s);
  r->end_io();
}

std::vector<QueueView> BlkMq::queues() const
{
  std::vector<QueueView> out;
  for (std::size_t q = 0; q < hctx_.size(); ++q)
    out.push_back({name() + ".hctx" + std::to_string(q), hctx_[q].get()});
  return out;
}

void BlkMq::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/map", [this] { return p_.map; }, "CPU to hardware-queue mapping policy (as set in the scenario)");
  st.add("/tag_wakeups", tag_wakeups_, "wakeups",
         "sleeps for a tag ended by a wake-up (one per wake_batch requests that waited)");
  auto cpus = cpus_of_queue(map_, static_cast<int>(hctx_.size()));
  for (std::size_t q = 0; q < hctx_.size(); ++q) {
    TagSet& tags   = *hctx_[q];
    std::string hw = "/hw_queues/" + std::to_string(q) + "/";
    st.info(
        hw + "hctx", [q] { return q; }, "hardware queue index");
    st.info(
        hw + "cpu_list", [list = format_cpu_list(cpus[q])] { return list; },
        "vCPUs mapped onto the hardware queue (the kernel's cpu_list format)");
    st.info(
        hw + "nr_tags", [&tags] { return tags.depth(); }, "tags of the hardware queue (its queue depth)");
    st.add(hw + "dispatched", dispatched_[q], "requests", "requests that got a tag and went to the driver (queue_rq)");
    st.add(hw + "tag_waits", tags.stat_waits(), "requests", "requests that found no free tag and waited for one");
  }
}

PVSIM_REGISTER_MODEL(BlkMq);

} // namespace pvsim
