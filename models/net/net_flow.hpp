/* pvsim model "net.flow": bulk TCP streams (iperf/netperf TCP_STREAM style) between a guest and a remote host.
 *
 * Models, per stream: a closed loop of at most `window` bytes in flight (the TCP window, or the socket's send-buffer
 * budget that TCP small queues hand back when the driver frees a transmitted skb), optionally paced to `rate`;
 * packets of `packet_size` bytes of payload (a GSO/GRO super-packet of up to 64 KiB, or one MSS segment), each
 * carrying gso_segs = ceil(size / mss) in Request::tag; the stream's thread on one vCPU (stream i on vCPU
 * i mod vCPUs), paying per packet and per byte (copy from or to user space) for tcp_sendmsg (Tx) or tcp_recvmsg (Rx);
 * a synthetic IPv4 4-tuple per stream (remote 10.0.0.1, guest 10.0.0.2, ports port_base + i and 5201) and its two
 * hashes, carried in Request::offset: the guest kernel's skb_get_hash() (low 32 bits; Linux uses the flow dissector
 * and siphash with a per-boot random key, pvsim a 32-bit integer mix of the tuple with `hash_seed`) and the Toeplitz
 * hash of the tuple under the Microsoft RSS key (high 32 bits; what a physical NIC's RSS and netback compute).
 * Direction tx: the guest sends to the remote host; rx: the remote host sends, the guest receives.
 * Thread migration (`migrate_interval`, pvsim's abstraction of the scheduler's load balancing, not a kernel fact):
 * every interval each stream's thread moves to the next vCPU (i mod vCPUs, then i + 1, ...). A packet already in
 * sendmsg finishes where it started; the next one runs, and picks its Tx queue, on the new vCPU (see virtio.net's
 * tx_select for what the socket's cached queue makes of that); for rx, the reader's copies and ACKs move.
 * Leaves out: congestion control, losses and retransmission, delayed ACKs and the ACK packets themselves (an
 * acknowledgement reopens the window at once), Nagle, receive-window autotuning. */
#pragma once

#include "models/host/guest_vm.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/statistics.hpp"

namespace pvsim {

struct NetFlowParams {
  std::string vm;
  std::string target;
  long long streams;
  std::string direction;
  double packet_size_bytes;
  long long mss;
  double window_bytes;
  double rate_Bps;
  long long port_base;
  long long hash_seed;
  double packet_cpu_s;
  double copy_Bps;
  double migrate_interval_s;
  double startdelay_s;
  double runtime_s;
};

class NetFlow : public Component {
public:
  static constexpr const char* type_name = "net.flow";
  static constexpr const char* summary   = "Bulk TCP streams between a guest and a remote host, window-limited.";
  using Params                           = NetFlowParams;
  static const ParamTable<Params>& param_table();

  NetFlow(std::string name, const Params& p);
  bool is_source() const override { return true; }
  bool accepts_requests() const override { return false; }
  const char* workload_kind() const override { return "net"; }
  void connect() override;
  void validate() override;
  void start(Simulation& sim) override;
  void end_io(Request* r, double enter_s) override;
  void on_event(int kind, Request* r) override;
  std::optional<Occupancy> occupancy() const override;
  const Probe<JobEvent>* job_probe() const override { return &done_; }

  /** The two hashes a packet of this model carries (Request::offset). */
  static std::uint32_t skb_hash(const Request* r) { return static_cast<std::uint32_t>(r->offset); }
  static std::uint32_t toeplitz_hash(const Request* r) { return static_cast<std::uint32_t>(r->offset >> 32); }
  /** The stand-in for skb_get_hash(): a 32-bit mix of the IPv4 4-tuple. */
  static std::uint32_t mix_hash(std::uint32_t saddr, std::uint32_t daddr, std::uint16_t sport, std::uint16_t dport,
                                std::uint32_t seed);

private:
  struct Stream {
    int vcpu                = 0;
    int job_id              = -1;
    std::uint64_t hashes    = 0;
    double in_flight_bytes  = 0;
    double next_send_s      = 0;
    bool pacing             = false;
    bool sending            = false; // tx: the thread is in sendmsg (one packet at a time)
    std::uint64_t submitted = 0;
    std::uint64_t completed = 0;
    Counter bytes;      // delivered in the window
    Counter migrations; // thread moves in the window
  };
  enum Kind { fill = 0, sent = 1, received = 2, migrate = 3, kinds = 4 };
  void try_send(std::size_t s);
  /** Once the streams exist (start). */
  void declare_stats();
  /** A stream's throughput over the window, in bit/s. */
  static double throughput_bps(const Stream& st, const StatWindow& w)
  {
    return w.per_second(8.0 * static_cast<double>(st.bytes.get()));
  }

  Params p_;
  GuestVm* vm_         = nullptr;
  Component* target_   = nullptr;
  Simulation* sim_     = nullptr;
  double send_until_s_ = 0; // streams send until then: the end of the run, or startdelay + runtime
  int first_job_id_    = 0;
  bool tx_             = true;
  std::vector<Stream> streams_;
  Probe<JobEvent> done_;
};

} // namespace pvsim
