/* pvsim model "net.link": a full-duplex Ethernet link (10 GbE by default) between the host's physical NIC and a
 * remote peer. With model "simgrid" the link is a SimGrid link per direction between a host for the NIC
 * and one for the peer, under the CM02 network model the engine selects (the default LV08 would scale latencies by
 * 13): each packet is a Comm of its wire bytes, sent by an actor on the near host and received by one on the far
 * host. The far actor's get() matches one Comm at a time, so a packet starts crossing only when the one before it
 * has arrived: latency and serialization add up per packet (stop-and-wait), about 4 % below the line rate with 2 us
 * of latency and 64 KiB packets, about 26 % with 20 us. With model "fifo" it is an event-driven FIFO per direction: a
 * packet is serialized at line rate once the packets ahead of it are, then arrives after the propagation latency,
 * the latencies overlapping as on a NIC (the closed form, without actors): the default. A permanent receiver would
 * start every Comm at once, but the line would then be shared fluidly (processor sharing), not a NIC's FIFO either
 * (14 % below the line rate when saturated). A GSO packet
 * is put on the wire as gso_segs frames of one MSS each, each frame paying Ethernet, IPv4 and TCP headers, FCS,
 * preamble and inter-frame gap, so a bulk TCP stream sees the familiar 9.41 Gbit/s goodput on 10 GbE.
 * Request::op says the direction: write = guest to remote (egress), read = remote to guest (ingress); Request::tag
 * holds the number of MSS segments (skb_shinfo(skb)->gso_segs, set by the sender).
 * Leaves out: losses, pause frames, the NIC's own rings, interrupts and DMA, switch queues, the remote host's CPU. */
#pragma once

#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/probe.hpp"
#include "sim/station.hpp"

#include <simgrid/s4u/Semaphore.hpp>

namespace simgrid::s4u {
class Host;
}

namespace pvsim {

struct NetLinkParams {
  std::string model;
  double rate_Bps;
  double latency_s;
  long long frame_overhead;
};

class NetLink : public Component {
public:
  static constexpr const char* type_name = "net.link";
  static constexpr const char* summary   = "A full-duplex Ethernet link: serialization at line rate, then latency.";
  using Params                           = NetLinkParams;
  static const ParamTable<Params>& param_table();

  NetLink(std::string name, const Params& p);
  bool can_complete() const override { return true; }
  /** Packets cross the link as SimGrid communications between its actors. */
  bool uses_simgrid_activities() const override { return p_.model == "simgrid"; }
  void build_platform(Platform& platform) override;
  void start(Simulation& sim) override;
  void estimate_resources(ResourceEstimate& e) const override;
  void submit(Request* r) override;
  void on_event(int kind, Request* r) override;
  std::vector<QueueView> queues() const override;

  /** Time on the wire of a packet of `payload` bytes in `segments` frames. */
  double wire_time(std::uint32_t payload, int segments) const;
  double latency() const { return p_.latency_s; }

private:
  /** One direction: a FIFO in front of the line, then the packets in propagation. */
  struct Direction : public Station {
    RequestFifo waiting;
    RequestFifo flying;
    Request* on_wire      = nullptr;
    double on_wire_since  = 0;
    std::uint64_t issued  = 0;
    std::uint64_t done    = 0;
    std::uint64_t transit = 0; // model "simgrid": packets handed to SimGrid and not yet received
    Sum busy_s;                // line busy time in the window (a packet on the wire at its start: its part after it)
    Counter bytes;             // payload bytes
    Counter wire;              // wire bytes
    Probe<StationEvent> events;
    const Probe<StationEvent>& probe() const override { return events; }
    int servers() const override { return 1; }
    Occupancy occupancy() const override
    {
      return {issued, done, waiting.size() + flying.size() + (on_wire ? 1u : 0u) + transit};
    }
  };
  enum Kind { serialized = 0, arrived = 1, kinds = 2 };
  void begin(int dir);
  /** model "simgrid": each packet is a SimGrid Comm of its wire bytes over the link (CM02), sent by an actor on the
   * near host and received by one on the far host; packets in flight share the line's bandwidth. */
  void sender(int dir);
  void receiver(int dir);
  void declare_stats();
  bool simgrid_                 = false;
  simgrid::s4u::Host* hosts_[2] = {nullptr, nullptr}; // 0: the host's NIC, 1: the remote peer
  simgrid::s4u::SemaphorePtr ready_[2];

  Params p_;
  Simulation* sim_       = nullptr;
  double window_start_s_ = 0; // the end of the warm-up: a packet on the wire then counts its time after it
  Direction dirs_[2];         // 0: egress (guest to remote), 1: ingress
};

} // namespace pvsim
