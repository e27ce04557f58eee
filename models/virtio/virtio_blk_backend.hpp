/* pvsim: the device half of a virtio-blk disk when a VMM serves its virtqueues with its own device code rather than
 * QEMU's handlers on an IOThread (virtio_blk.hpp): Firecracker's VMM thread (models/firecracker/). virtio.blk keeps
 * the guest's driver, the vring and the interrupt path; the backend pops the avail ring, does the I/O, writes the
 * used ring and decides when to interrupt, through VirtioBlk's device_* calls. */
#pragma once

#include <cstddef>

namespace pvsim {

class Component;
class VirtioBlk;
class CpuThread;

class VirtioBlkBackend {
public:
  virtual ~VirtioBlkBackend() = default;
  /** Virtqueue q of `disk` is served here; its requests that miss the host's page cache go to `device`. */
  virtual void attach(VirtioBlk& disk, std::size_t q, Component& device) = 0;
  /** The queue's ioeventfd became readable (a guest kick, after kick_latency). */
  virtual void notified(VirtioBlk& disk, std::size_t q) = 0;
  /** The thread that pops the virtqueue's requests (for the path events: sim/path_event.hpp). */
  virtual const CpuThread* backend_thread() const { return nullptr; }
};

} // namespace pvsim
