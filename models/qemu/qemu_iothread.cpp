#include "models/qemu/qemu_iothread.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

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
                  "Most CPU work the thread takes in one batch before acting on it.", "pvsim: 20us");
    describe_aio_engine(tb);
    return tb;
  }();
  return t;
}

QemuIothread::QemuIothread(std::string name, const Params& p)
    : Component(std::move(name), type_name), p_(p), thread_(this->name(), p.quantum_s),
      engine_(make_aio_engine(p.aio, p, *this))
{
}

void QemuIothread::connect()
{
  host_ = &CpuHost::from_port(*this, "cpus");
}

void QemuIothread::start(Simulation& sim)
{
  sim_ = &sim;
  host_->run(thread_, sim.events());
  engine_->start();
  declare_stats();
}

void QemuIothread::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/disks",
      [this] {
        json disks = json::array();
        for (auto& [disk, device] : disks_)
          disks.push_back(disk->name());
        return disks;
      },
      "the virtio.blk disks with virtqueues served here");
  st.formula("/utilization", thread_.utilization(), "fraction", "CPU time the thread consumed / window");
  st.formula("/running_fraction", thread_.running_fraction(), "fraction",
             "fraction of the window the thread spent running a batch (waits for a core included)");
  st.add("/wakeups", wakeups_, "wakeups", "eventfds that woke the thread asleep in ppoll (paying wakeup_cpu)");
  st.add("/work_items", thread_.stat_items(), "items", "work items the thread ran");
  engine_->declare_stats(st, "/engine/");
}

EventQueue& QemuIothread::events()
{
  return sim_->events();
}

void QemuIothread::attach(const Component& disk, Component& device)
{
  for (auto& [d, dev] : disks_)
    if (d == &disk)
      return;
  disks_.emplace_back(&disk, &device);
}

void QemuIothread::run(double cost_s, EventTarget* target, int kind, Request* r)
{
  if (thread_.idle()) { // asleep in ppoll: the eventfd that brought this work wakes it up
    cost_s += p_.wakeup_cpu_s;
    ++wakeups_;
  }
  thread_.post(cost_s, target, kind, r);
}

void QemuIothread::dispatch(Request* r)
{
  for (auto& [disk, device] : disks_)
    if (disk == r->top().component) {
      r->push_end_io(this, r->stage_s); // r->stage_s: when the request entered the engine
      device->submit(r);
      return;
    }
  throw std::logic_error("qemu.iothread '" + name() + "': a request of a disk that is not attached here");
}

void QemuIothread::end_io(Request* r, double enter_s)
{
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
