/* pvsim model "xen.netfront": Linux xen-netfront in a domU, multi-queue, one netif queue per negotiated queue.
 *
 * Models, per queue: the Tx and Rx shared rings of 256 slots (one page each) and their indices; xennet_select_queue()
 * (skb_get_hash() % queues: every packet of a flow on one queue); xennet_start_xmit() on the sending vCPU (xmit_cpu per
 * packet, slot_cpu per slot to grant the pages: the head, one per 4 KiB frag, one GSO extra slot, at most
 * XEN_NETIF_NR_SLOTS_MIN data slots), RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, and netif_tx_stop_queue() when fewer than
 * XEN_NETIF_NR_SLOTS_MIN + 1 slots are left (packets then wait in the qdisc until xennet_tx_buf_gc() frees slots and
 * wakes the queue); the event channels (split Tx/Rx ports, or one port for both directions when the backend does not
 * offer feature-split-event-channels, where both directions' notifications meet and merge in one pending bit), each
 * bound to a vCPU by the domU kernel's rule (models/xen/evtchn_placement.hpp: vCPU 0 up to 5.10, the least-loaded
 * vCPU from 5.11, so a queue's Tx and Rx channels may land on different vCPUs), late EOI (XSA-391); the Tx interrupt
 * collecting completions (RING_FINAL_CHECK_FOR_RESPONSES loop); the Rx interrupt scheduling NAPI, and xennet_poll()
 * taking at most napi_weight packets per poll, refilling the Rx ring to 256 posted buffers (xennet_alloc_rx_buffers:
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY against the req_event netback set) and completing NAPI with
 * RING_FINAL_CHECK_FOR_RESPONSES. The queue count and split channels come from the XenStore handshake with the backend
 * (NetifHandshake): min(max_queues or min(8, vCPUs), the backend's multi-queue-max-queues); nothing is set twice.
 * Leaves out: GRO and the page pool, xmit_more batching, skb linearization, the refill timer, XDP, the control ring's
 * messages (its effect, the Toeplitz hash at netback, is modelled), netfront's tx_lock contention. */
#pragma once

#include "models/host/guest_vm.hpp"
#include "models/xen/net/netif_negotiation.hpp"
#include "models/xen/net/netif_queue.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/path_event.hpp"
#include "sim/probe.hpp"

#include <memory>

namespace pvsim::xen {

class XenNetback;

struct XenNetfrontParams {
  std::string vm;
  std::string backend;
  long long max_queues;
  bool control_ring;
  std::string irq_affinity;
  long long preceding_channels;
  long long napi_weight;
  double xmit_cpu_s;
  double slot_cpu_s;
  double gc_packet_cpu_s;
  double gc_slot_cpu_s;
  double rx_packet_cpu_s;
  double rx_slot_cpu_s;
  double refill_slot_cpu_s;
  double notify_cpu_s;
  double irq_cpu_s;
  double evtchn_latency_s;
  double xenstore_step_s;
};

class XenNetfront : public Component {
public:
  static constexpr const char* type_name = "xen.netfront";
  static constexpr const char* summary =
      "Linux xen-netfront: per-queue Tx/Rx rings, event channels and NAPI in a domU.";
  using Params = XenNetfrontParams;
  static const ParamTable<Params>& param_table();

  XenNetfront(std::string name, const Params& p);
  void connect() override;
  void start(Simulation& sim) override;
  std::vector<QueueView> queues() const override;
  const Probe<PathEvent>* path_probe() const override { return &path_; }
  void submit(Request* r) override;
  void on_event(int kind, Request* r) override;

  /** The backend notified queue q's Tx (rx_dir false) or Rx (true) event channel. */
  void notify_from_backend(unsigned q, bool rx_dir);
  const NetifNegotiation& negotiation() const { return negotiation_; }
  /** The XenStore the handshake wrote (`pvsim xenstore` prints it) and both ends' state transitions. */
  const XenStore& xenstore() const { return store_; }
  const std::vector<std::pair<double, std::string>>& transitions() const { return transitions_; }
  VifQueue& queue(unsigned q) { return *queues_.at(q); }
  unsigned num_queues() const { return static_cast<unsigned>(queues_.size()); }
  /** xennet_select_queue(). */
  unsigned select_queue(const Request* r) const;

private:
  enum Kind {
    xmit_done = 0,
    irq_tx,
    irq_rx,
    hnd_tx,
    hnd_rx,
    gc_done,
    eoi_tx,
    eoi_rx,
    napi_poll,
    napi_end,
    rx_deliver,
    kinds = 12
  };
  /** Registers every statistic the model reports (per queue and direction: throughput, ring occupancy,
   * notifications, upcalls, NAPI polls; over the queues: throughput and imbalance). */
  void declare_stats();
  void start_xmit(unsigned q, Request* r, int vcpu);
  bool tx_slot_available(const VifQueue& b) const;
  void handle_irq(unsigned q, bool rx_dir);
  void tx_buf_gc(unsigned q);
  void poll(unsigned q);
  void refill(unsigned q);
  /** The vCPU direction `rx_dir`'s event channel upcalls (the Rx interrupt's is also NAPI's). */
  CpuThread& irq_vcpu(const VifQueue& b, bool rx_dir)
  {
    return vm_->vcpu(static_cast<int>(b.evtchn(rx_dir).frontend().bound_vcpu()));
  }
  int k(unsigned q, Kind kind) const { return static_cast<int>(q) * kinds + kind; }

  Params p_;
  GuestVm* vm_      = nullptr;
  XenNetback* back_ = nullptr;
  Simulation* sim_  = nullptr;
  XenStore store_;
  NetifNegotiation negotiation_;
  std::vector<std::pair<double, std::string>> transitions_;
  std::vector<std::unique_ptr<VifQueue>> queues_;
  std::vector<std::uint64_t> last_work_;
  std::string irq_policy_; // irq_affinity after resolving "default" by the kernel
  Probe<PathEvent> path_;
};

} // namespace pvsim::xen
