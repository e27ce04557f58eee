/* pvsim model "net.link": a full-duplex Ethernet link (10 GbE by default) between the host's physical NIC and a
 * remote peer, as an event-driven FIFO per direction: a packet (a TCP segment or a GSO/TSO super-packet) is
 * serialized at line rate once the packets ahead of it are, then arrives after the propagation latency. A GSO packet
 * is put on the wire as gso_segs frames of one MSS each, each frame paying Ethernet, IPv4 and TCP headers, FCS,
 * preamble and inter-frame gap, so a bulk TCP stream sees the familiar 9.41 Gbit/s goodput on 10 GbE.
 * Why not SimGrid's network model (CM02): packets are handed over from event handlers and CpuThread continuations,
 * which may not block, while an s4u::Comm needs an actor on each end per packet; a point-to-point FIFO link has an
 * exact closed form (serialization + latency) that this model computes without any actor, deterministically.
 * Request::op says the direction: write = guest to remote (egress), read = remote to guest (ingress); Request::tag
 * holds the number of MSS segments (skb_shinfo(skb)->gso_segs, set by the sender).
 * Leaves out: losses, pause frames, the NIC's own rings, interrupts and DMA, switch queues, the remote host's CPU. */
#pragma once

#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/probe.hpp"
#include "sim/station.hpp"

namespace pvsim {

struct NetLinkParams {
  double rate_Bps          = 10e9 / 8;
  double latency_s         = 2e-6;
  long long frame_overhead = 90;
};

class NetLink : public Component {
public:
  static constexpr const char* type_name = "net.link";
  static constexpr const char* summary   = "A full-duplex Ethernet link: serialization at line rate, then latency.";
  using Params                           = NetLinkParams;
  static const ParamTable<Params>& param_table();

  NetLink(std::string name, const Params& p);
  bool can_complete() const override { return true; }
  void start(Simulation& sim) override;
  void submit(Request* r) override;
  void on_event(int kind, Request* r) override;
  std::vector<QueueView> queues() const override;
  void restart_stats(double now) override;
  void report(json& out, double now) const override;

  /** Time on the wire of a packet of `payload` bytes in `segments` frames. */
  double wire_time(std::uint32_t payload, int segments) const;
  double latency() const { return p_.latency_s; }

private:
  /** One direction: a FIFO in front of the line, then the packets in propagation. */
  struct Direction : public Station {
    RequestFifo waiting;
    RequestFifo flying;
    Request* on_wire     = nullptr;
    double on_wire_since = 0;
    std::uint64_t issued = 0;
    std::uint64_t done   = 0;
    double busy_s        = 0; // line busy time since the last restart
    double window_start  = 0;
    std::uint64_t bytes  = 0; // payload bytes since the last restart
    std::uint64_t wire   = 0; // wire bytes since the last restart
    Probe<StationEvent> events;
    const Probe<StationEvent>& probe() const override { return events; }
    int servers() const override { return 1; }
    Occupancy occupancy() const override
    {
      return {issued, done, waiting.size() + flying.size() + (on_wire ? 1u : 0u)};
    }
  };
  enum Kind { serialized = 0, arrived = 1, kinds = 2 };
  void begin(int dir);

  Params p_;
  Simulation* sim_ = nullptr;
  Direction dirs_[2]; // 0: egress (guest to remote), 1: ingress
};

} // namespace pvsim
