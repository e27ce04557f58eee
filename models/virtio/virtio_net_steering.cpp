/* pvsim model "virtio.net", queue steering in both directions: the guest's Tx queue choice (net/core/dev.c
 * netdev_pick_tx with the socket's cached queue, get_xps_queue, skb_tx_hash) and the tap device's Rx queue choice
 * (drivers/net/tun.c tun_automq_select_queue). The class and the sources are described in virtio_net.hpp. */
#include "models/net/net_flow.hpp"
#include "models/virtio/virtio_net.hpp"

namespace pvsim {

unsigned VirtioNet::hash_queue(const Request* r) const
{
  return static_cast<unsigned>((static_cast<std::uint64_t>(NetFlow::skb_hash(r)) * num_pairs()) >> 32);
}

unsigned VirtioNet::fresh_tx_queue(const Request* r, int vcpu) const
{
  if (p_.tx_select == "hash" or not p_.xps) // no XPS map: get_xps_queue gives -1, skb_tx_hash decides
    return hash_queue(r);
  return xps_queue(vcpu); // get_xps_queue(): the sending CPU's map
}

VirtioNet::TxSocket& VirtioNet::tx_socket(int job)
{
  auto j = static_cast<std::size_t>(job < 0 ? 0 : job);
  if (j >= sockets_.size())
    sockets_.resize(j + 1);
  return sockets_[j];
}

unsigned VirtioNet::pick_tx(const Request* r, int vcpu)
{
  TxSocket& sk  = tx_socket(r->job);
  unsigned pick = fresh_tx_queue(r, vcpu);
  unsigned q    = pick;
  if (p_.tx_select == "xps-flow") {
    // __tcp_transmit_skb: ooo_okay when nothing of the socket is left below TCP; netdev_pick_tx keeps the cache else.
    bool ooo_okay = sk.in_flight == 0;
    q             = virtio_net_pick_tx(sk.queue, ooo_okay, num_pairs(), pick);
  }
  if (sk.queue >= 0 and static_cast<unsigned>(sk.queue) != q)
    ++tx_repicks_;
  sk.queue = static_cast<int>(q); // sk_tx_queue_set (xps-flow); the last queue otherwise, for the count
  sk.in_flight++;
  if (q != xps_queue(vcpu))
    ++tx_off_xps_;
  return q;
}

unsigned VirtioNet::select_rx_queue(const Request* r) const
{
  std::uint32_t h = NetFlow::skb_hash(r); // stand-in for the flow's symmetric rxhash
  if (p_.rx_steering == "automq") {
    const FlowEntry& e = flows_[h & (flows_.size() - 1)]; // tun_hashfn: rxhash & TUN_MASK_FLOW_ENTRIES
    if (e.queue >= 0 and e.hash == h and static_cast<unsigned>(e.queue) < num_pairs())
      return static_cast<unsigned>(e.queue);
  }
  return hash_queue(r); // reciprocal_scale
}

} // namespace pvsim
