/* pvsim model "virtio.net", the guest's transmit path (drivers/net/virtio_net.c): start_xmit() on the sending vCPU,
 * freeing the used Tx buffers there first (free_old_xmit), and the Tx NAPI's freeing after an interrupt
 * (virtnet_poll_tx). The class and the sources are described in virtio_net.hpp. */
#include "models/virtio/virtio_net.hpp"

#include "sim/simulation.hpp"

namespace pvsim {

void VirtioNet::start_xmit(unsigned q, Request* r, int vcpu)
{
  Pair& p = *pairs_[q];
  p.tx_reserved++;
  p.txd.held++;
  r->cpu = vcpu;
  vm_->vcpu(vcpu).post(p_.xmit_cpu_s, this, k(q, xmit_done), r);
  if (not tx_room(p)) { // netif_stop_subqueue
    p.tx_stopped = true;
    ++p.tx_stops;
  }
}

void VirtioNet::free_old_xmit(unsigned q, int vcpu)
{
  // start_xmit(): "Free up any pending old buffers before queueing new ones", on the sending vCPU, then the Tx
  // callback re-armed delayed (virtqueue_enable_cb_delayed: an interrupt once 3/4 of the outstanding buffers are
  // used). Up to 5.13 the callback stays on while freeing and the re-arm is not checked; from 5.14 ("virtio_net:
  // disable cb aggressively", a7766ef18b33) it is off while freeing, and freeing starts again while the re-arm finds
  // more than 3/4 used already. pvsim has no xmit_more: every packet kicks, so every packet re-arms.
  Pair& p    = *pairs_[q];
  unsigned n = 0;
  do {
    if (tx_disable_cb_)
      p.txq.disable_cb();
    n += reap_tx(p);
  } while (tx_disable_cb_ and not p.txq.enable_cb_delayed());
  if (not tx_disable_cb_)
    p.txq.enable_cb_delayed();
  if (n == 0)
    return;
  p.tx_freed_in_xmit += n;
  vm_->vcpu(vcpu).post(n * p_.tx_free_cpu_s, nullptr, 0);
}

void VirtioNet::tx_free(unsigned q)
{
  // The Tx NAPI (virtnet_poll_tx): callbacks off, free what was used, on the vector's vCPU.
  Pair& p = *pairs_[q];
  p.txq.disable_cb();
  unsigned n = reap_tx(p);
  vm_->vcpu(p.irq_vcpu).post(n * p_.tx_free_cpu_s, this, k(q, tx_irq_tail));
}

unsigned VirtioNet::reap_tx(Pair& p)
{
  // free_old_xmit(): virtqueue_get_buf until nothing is used, one descriptor per packet.
  unsigned n = 0;
  for (; p.txq.more_used(); ++n)
    p.txq.get_buf(1);
  if (n > 0)
    p.txd.ring_occupancy.set(now(), p.txq.num() - p.txq.num_free());
  return n;
}

} // namespace pvsim
