/* pvsim model "qemu.iothread": a QEMU IOThread (-object iothread), that is one AioContext and the thread that runs
 * its event loop. QEMU's main loop is an AioContext too: model it as one more qemu.iothread.
 *
 * Models: the thread as a CpuThread on a cpu.host (resource `cpus`) that sleeps in ppoll/epoll_wait when it has
 * nothing to do and is woken by an eventfd (a guest's kick through ioeventfd, the io_event eventfd, the io_uring fd,
 * the thread pool's completion BH) at wakeup_cpu; work arriving while it runs waits its turn, without a wake-up.
 * It runs the handlers of the virtqueues mapped to it (virtio.blk's iothread or iothread_vq_mapping), the submission
 * of their requests into its AIO engine and the completion callbacks. One AIO engine per AioContext (aio=threads,
 * native or io_uring, models/qemu/aio_engine.hpp), shared by every disk attached to it: its limits (max_threads,
 * max_events) apply to all of them together. Each disk keeps its own backing device (virtio.blk's `target`); the
 * engine issues a request to the device of the disk it came from.
 * Leaves out: adaptive polling (poll-max-ns, 32 us by default for IOThreads: while polling QEMU disables virtqueue
 * notifications and the thread spins instead of sleeping; this IOThread behaves as with poll-max-ns=0), the order
 * of BHs, timers and fd handlers within one iteration, the AioContext lock, a per-drive aio= (here the engine is
 * the AioContext's: every disk attached uses the same one), the main loop's other duties (monitor, migration). */
#pragma once

#include "models/host/cpu_host.hpp"
#include "models/qemu/aio_engine.hpp"
#include "sim/component.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/params.hpp"

#include <memory>

namespace pvsim {

struct QemuIothreadParams : AioEngineParams {
  std::string cpus;
  double wakeup_cpu_s;
  double quantum_s;
};

class QemuIothread : public Component, public AioEngine::Context {
public:
  static constexpr const char* type_name = "qemu.iothread";
  static constexpr const char* summary =
      "A QEMU IOThread: one AioContext running virtqueue handlers, with one AIO engine shared by its disks.";
  using Params = QemuIothreadParams;
  static const ParamTable<Params>& param_table();

  QemuIothread(std::string name, const Params& p);
  bool accepts_requests() const override { return false; }
  void connect() override;
  void start(Simulation& sim) override;
  std::vector<QueueView> queues() const override;
  /** The backing device completed a request this AioContext issued. */
  void end_io(Request* r, double enter_s) override;

  // AioEngine::Context
  EventQueue& events() override;
  CpuHost& host() override { return *host_; }
  const std::string& id() override { return name(); }
  void run(double cost_s, EventTarget* target, int kind, Request* r = nullptr) override;
  void dispatch(Request* r) override;
  void complete(Request* r) override { r->end_io(); }

  /** `disk` (a virtio.blk) has virtqueues served here; its requests go to `device`. Its requests enter the engine
   * with the disk's end_io frame on top, which tells dispatch() where they go. */
  void attach(const Component& disk, Component& device);
  AioEngine& engine() { return *engine_; }
  const CpuThread& thread() const { return thread_; }

  /** The qemu.iothread a port names, or an InputError naming the port. */
  static QemuIothread& from_port(const Component& owner, const std::string& port);

private:
  /** Once the engine has started (its pool's workers exist). */
  void declare_stats();

  Params p_;
  CpuHost* host_   = nullptr;
  Simulation* sim_ = nullptr;
  CpuThread thread_;
  std::unique_ptr<AioEngine> engine_;
  std::vector<std::pair<const Component*, Component*>> disks_;
  Counter wakeups_;
};

} // namespace pvsim
