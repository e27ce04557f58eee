/* pvsim model "xen.netback": Linux xen-netback in dom0 serving one xen.netfront, per queue two dom0 threads.
 *
 * Models, per queue: the guest-Tx side as NAPI (xenvif_poll): woken by the Tx event channel, it takes at most
 * napi_weight packets per poll off the Tx ring (xenvif_tx_build_gops: per packet tx_packet_cpu, per slot tx_slot_cpu
 * for the grant map and unmap of the frags and the grant copy of the header), hands them to the physical link, and
 * re-arms req_event with RING_FINAL_CHECK_FOR_REQUESTS when a poll ends under budget; responses for a packet's slots
 * are made once the link has sent it (zero-copy: xenvif_zerocopy_callback, then the dealloc's make_tx_response) with
 * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY. The guest-Rx side as the kthread xenvif_kthread_guest_rx: packets from the
 * link go to a queue chosen by xenvif_select_queue() (hash algorithm NONE, the Linux netfront case: the NIC's RSS hash
 * reciprocal-scaled over the queues, skb_tx_hash(); TOEPLITZ when the frontend set it over the control ring: the
 * Toeplitz hash and the 128-entry mapping table), wait in its rx_queue, and the kthread copies up to rx_batch per pass
 * into the frontend's posted buffers (GNTTABOP_copy: per packet rx_packet_cpu, per slot rx_slot_cpu, per byte at
 * grant_copy_rate), one slot per 4 KiB plus one for GSO, pushing the responses with one check per batch; short of
 * slots it sets req_event = req_prod + 1 and sleeps until the frontend's refill notifies. The event channels use late
 * EOI (XSA-332): a port stays masked from the upcall until its NAPI poll or kthread goes idle.
 * The threads run on dom0's cpu.host, so more queues than dom0 CPUs share them.
 * Leaves out: the dealloc kthread (its work is charged to the NAPI thread), the credit-based rate limiter,
 * rx_queue_max and rx_drain_timeout (packets are never dropped: flows are window-limited), copy of the Tx header into
 * a separate buffer, hotplug, multicast control, XDP. */
#pragma once

#include "models/host/cpu_host.hpp"
#include "models/xen/net/netif_negotiation.hpp"
#include "models/xen/net/netif_queue.hpp"
#include "models/xen/net/netif_steering.hpp"
#include "sim/component.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/params.hpp"
#include "sim/path_event.hpp"
#include "sim/probe.hpp"

#include <memory>

namespace pvsim::xen {

class XenNetfront;

struct XenNetbackParams {
  std::string cpus;
  std::string target;
  long long max_queues;
  bool split_event_channels;
  std::vector<long long> mapping;
  long long napi_weight;
  long long rx_batch;
  double wakeup_cpu_s;
  double tx_packet_cpu_s;
  double tx_slot_cpu_s;
  double tx_response_cpu_s;
  double rx_packet_cpu_s;
  double rx_slot_cpu_s;
  double grant_copy_Bps;
  double notify_cpu_s;
  double evtchn_latency_s;
  double quantum_s;
};

class XenNetback : public Component {
public:
  static constexpr const char* type_name = "xen.netback";
  static constexpr const char* summary   = "Linux xen-netback: per-queue NAPI (guest Tx) and guest-Rx kthread in dom0.";
  using Params                           = XenNetbackParams;
  static const ParamTable<Params>& param_table();

  XenNetback(std::string name, const Params& p);
  void connect() override;
  void validate() override;
  void start(Simulation& sim) override;
  void estimate_resources(ResourceEstimate& e) const override;
  /** Packets from the remote host (Op::read) enter here and go out on the link; guest packets come off the ring. */
  void submit(Request* r) override;
  void end_io(Request* r, double enter_s) override;
  void on_event(int kind, Request* r) override;
  const Probe<PathEvent>* path_probe() const override { return &path_; }

  NetbackConfig config() const;
  void attach(XenNetfront& front);
  /** The frontend notified queue q's Tx (rx_dir false) or Rx (rx_dir true) event channel. */
  void notify_from_frontend(unsigned q, bool rx_dir);
  /** xenvif_select_queue() for a packet from the link. */
  unsigned select_queue(const Request* r) const;

private:
  enum Kind {
    irq_tx = 0,
    irq_rx,
    handle_tx,
    handle_rx,
    poll,
    poll_end,
    tx_send,
    tx_respond,
    rx_action,
    rx_copied,
    rx_flush,
    kinds = 12
  };
  struct Threads {
    std::unique_ptr<CpuThread> napi;
    std::unique_ptr<CpuThread> guest_rx;
    std::uint64_t last_work = 0;
  };
  /** Registers every statistic the model reports (per queue: its threads' utilisation, polls, Rx passes,
   * upcalls), once attached: the queues are the frontend's. */
  void declare_stats();
  void handle_irq(unsigned q, bool rx_dir);
  void maybe_eoi(unsigned q, bool rx_side);
  void kick_rx(unsigned q);
  void do_poll(unsigned q);
  void do_rx_action(unsigned q);
  int k(unsigned q, Kind kind) const { return static_cast<int>(q) * kinds + kind; }

  Params p_;
  CpuHost* host_      = nullptr;
  Component* link_    = nullptr;
  XenNetfront* front_ = nullptr;
  Simulation* sim_    = nullptr;
  std::vector<Threads> threads_;
  std::unique_ptr<RssIndirectionTable> table_;
  NetifHashAlgorithm hash_ = NetifHashAlgorithm::none;
  Probe<PathEvent> path_;
};

} // namespace pvsim::xen
