/* pvsim model "virtio.net", the device side: vhost-net's workers (drivers/vhost/net.c handle_tx / handle_rx, their
 * passes bounded by vhost_exceeds_weight(), and vhost_signal). The guest driver's side is in
 * virtio_net.cpp; the class in virtio_net.hpp. */
#include "models/virtio/virtio_net.hpp"

#include "sim/resource_estimate.hpp"
#include "sim/simulation.hpp"

#include <algorithm>

namespace pvsim {

void VirtioNet::estimate_resources(ResourceEstimate& e) const
{
  e.add_actors(name(), static_cast<double>(pairs_.size()), Simulation::actor_stack_bytes(), "vhost workers");
}

void VirtioNet::do_handle_tx(unsigned q)
{
  Pair& p     = *pairs_[q];
  p.tx_queued = false; // the work's QUEUED bit is cleared before it runs
  ++p.txd.passes;
  p.tx_pass_pkts = p.tx_pass_bytes = 0;
  p.txq.set_notification(false); // vhost_disable_notify
  bool exceeded = false;
  do {
    while (not p.txq.device_empty()) {
      Request* r = p.txd.b.pop();
      p.txq.pop();
      p.txd.held++;
      p.tx_pass_pkts++;
      if (path_.connected()) {
        PathEvent ev(PathEvent::What::request_taken, now(), r);
        ev.batch = static_cast<std::uint32_t>(p.tx_pass_pkts);
        step(ev, q, false, p.txq.indices().req_cons - 1, p.worker.get());
      }
      p.tx_pass_bytes += r->size_bytes;
      p.worker->post(p_.vhost_tx_packet_cpu_s + r->size_bytes / p_.copy_Bps, this, k(q, tx_copied), r);
      if (p.tx_pass_pkts >= static_cast<std::uint64_t>(p_.vhost_pkt_limit) or
          p.tx_pass_bytes >= static_cast<std::uint64_t>(p_.vhost_weight)) { // vhost_exceeds_weight
        exceeded = true;
        break;
      }
    }
    if (exceeded)
      break;
    p.txq.set_notification(true); // vhost_enable_notify: true when the guest slipped one in
    if (p.txq.device_empty())
      break;
    p.txq.set_notification(false);
  } while (true);
  p.txd.max_per_pass.sample(static_cast<double>(p.tx_pass_pkts));
  if (exceeded)
    ++p.txd.budget_hits;
  p.tx_exceeded = exceeded;
  p.worker->post(0, this, k(q, tx_pass_end));
}

void VirtioNet::tx_end_pass(unsigned q)
{
  Pair& p = *pairs_[q];
  signal(q, false); // vhost_net_signal_used at the end of handle_tx
  // vhost_exceeds_weight: vhost_poll_queue, behind the worker's other work (notifications stay off). Otherwise
  // notifications are on again and the guest's next kick queues the handler.
  if (p.tx_exceeded and not p.tx_queued) {
    p.tx_queued = true;
    p.worker->post(0, this, k(q, handle_tx));
  }
}

void VirtioNet::do_handle_rx(unsigned q)
{
  Pair& p     = *pairs_[q];
  p.rx_queued = false;
  ++p.rxd.passes;
  p.rx_pass_pkts = p.rx_pass_bytes = 0;
  p.rxq.set_notification(false); // vhost_disable_notify
  p.sock_polling    = false;     // vhost_net_disable_vq
  p.rx_pass_end_why = 0;
  while (Request* r = p.rxd.a.front()) {
    unsigned n = rx_buffers_of(r);
    if (p.rx_avail < n) { // get_rx_bufs: headcount 0; vhost_enable_notify; nothing new: wait for the refill kick
      p.rxq.set_notification(true);
      p.rx_wait_buffers = true;
      ++p.rx_buffer_waits;
      p.rx_pass_end_why = 2;
      break;
    }
    p.rxd.a.pop();
    for (unsigned i = 0; i < n; ++i)
      p.rxq.pop();
    p.rx_avail -= n;
    p.rxd.held++;
    p.rx_pass_pkts++;
    if (path_.connected()) {
      PathEvent ev(PathEvent::What::request_taken, now(), r);
      ev.batch              = static_cast<std::uint32_t>(p.rx_pass_pkts);
      ev.into_posted_buffer = true;
      step(ev, q, true, p.rxq.indices().req_cons - n, p.worker.get());
    }
    p.rx_pass_bytes += r->size_bytes;
    p.worker->post(p_.vhost_rx_packet_cpu_s + n * p_.vhost_rx_buffer_cpu_s + r->size_bytes / p_.copy_Bps, this,
                   k(q, rx_copied), r);
    if (p.rx_pass_pkts >= static_cast<std::uint64_t>(p_.vhost_pkt_limit) or
        p.rx_pass_bytes >= static_cast<std::uint64_t>(p_.vhost_weight)) {
      p.rx_pass_end_why = 1;
      break;
    }
  }
  p.rx_posted.set(now(), p.rx_avail);
  p.rxd.max_per_pass.sample(static_cast<double>(p.rx_pass_pkts));
  if (p.rx_pass_end_why == 1)
    ++p.rxd.budget_hits;
  p.worker->post(0, this, k(q, rx_pass_end));
}

void VirtioNet::rx_end_pass(unsigned q)
{
  Pair& p = *pairs_[q];
  signal(q, true);              // out: vhost_net_signal_used
  if (p.rx_pass_end_why == 1) { // vhost_exceeds_weight: vhost_poll_queue
    if (not p.rx_queued) {
      p.rx_queued = true;
      p.worker->post(0, this, k(q, handle_rx));
    }
    return;
  }
  if (p.rx_pass_end_why == 2) // the socket stays off; the guest's refill kick restarts us
    return;
  p.sock_polling = true; // vhost_net_enable_vq: the poll also reports what arrived meanwhile
  if (not p.rxd.a.empty() and not p.rx_queued) {
    p.rx_queued = true;
    p.worker->post(p_.wakeup_cpu_s, this, k(q, handle_rx));
  }
}

void VirtioNet::signal(unsigned q, bool rx)
{
  Pair& p        = *pairs_[q];
  Vring& v       = rx ? p.rxq : p.txq;
  unsigned& done = rx ? p.rx_done : p.tx_done;
  if (done == 0)
    return;
  done        = 0;
  bool notify = v.should_notify(); // vhost_signal -> vhost_notify: vring_need_event(used_event, new, old)
  auto& held  = rx ? p.rx_unsignalled : p.tx_unsignalled;
  for (Request* r : held)
    step(PathEvent(PathEvent::What::signalled, now(), r, notify), q, rx, v.indices().rsp_prod - 1, p.worker.get());
  held.clear();
  if (notify)
    p.worker->post(p_.signal_cpu_s, this, k(q, rx ? rx_irqfd : tx_irqfd));
}

} // namespace pvsim
