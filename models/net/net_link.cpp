#include "models/net/net_link.hpp"
#include "sim/resource_estimate.hpp"

#include "sim/platform.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Mailbox.hpp>

namespace pvsim {

const ParamTable<NetLinkParams>& NetLink::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.choice("model", &Params::model, {"simgrid", "fifo"}, std::string("fifo"),
              "How packets cross: SimGrid Comms over a CM02 link per direction (one packet crossing at a time: "
              "its latency and serialization in series), or an event-driven FIFO (serialized in turn, latencies "
              "overlapping: the NIC; use it for long links or many flows).",
              "fifo: a NIC puts its packets on the wire one after another while earlier ones propagate (the "
              "default since pvsim's session 30; simgrid before, which serializes latency and transfer per packet)")
        .quantity("rate", Dimension::bandwidth, &Params::rate_Bps, 10e9 / 8, 1, 1e15, "Line rate of each direction.",
                  "IEEE 802.3ae 10GBASE: 10 Gbit/s")
        .quantity("latency", Dimension::duration, &Params::latency_s, 2e-6, 0, 10,
                  "Propagation and switching delay from one NIC to the other.",
                  "pvsim estimate: a few metres of fibre and one cut-through switch")
        .integer("frame_overhead", &Params::frame_overhead, 90, 0, 10000,
                 "Bytes on the wire per MSS segment beyond its payload: preamble 8, Ethernet 14, IPv4 20, TCP 20, "
                 "timestamps option 12, FCS 4, inter-frame gap 12.",
                 "IEEE 802.3 framing; RFC 791, RFC 793, RFC 7323");
    return tb;
  }();
  return t;
}

NetLink::NetLink(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p)
{
  declare_stats();
}

void NetLink::declare_stats()
{
  StatSet& st         = stats();
  const char* names[] = {"egress", "ingress"};
  for (int i = 0; i < 2; ++i) {
    Direction& d      = dirs_[i];
    std::string where = std::string("/") + names[i] + "/";
    st.track(d.busy_s);
    st.track(d.bytes);
    st.track(d.wire);
    st.formula(
        where + "goodput_bps",
        [&d](const StatWindow& w) { return json(w.per_second(8.0 * static_cast<double>(d.bytes.get()))); }, "bit/s",
        "payload bits delivered per second");
    st.formula(
        where + "wire_bps",
        [&d](const StatWindow& w) { return json(w.per_second(8.0 * static_cast<double>(d.wire.get()))); }, "bit/s",
        "bits on the wire per second (payload, headers, preamble, inter-frame gap)");
    st.formula(
        where + "utilization",
        [this, &d](const StatWindow& w) { // the packet on the wire counts its time so far, not to the window's end
          double upto = sim_ != nullptr ? std::min(w.now_s, sim_->events().now()) : w.now_s;
          double busy = d.busy_s.get() + (d.on_wire ? std::max(0.0, upto - std::max(d.on_wire_since, w.start_s)) : 0.0);
          return json(w.per_second(busy));
        },
        "fraction", "fraction of the window the line was busy serializing");
  }
  st.info(
      "/line_rate_bps", [this] { return 8 * p_.rate_Bps; }, "line rate of each direction, in bit/s");
}

void NetLink::build_platform(Platform& platform)
{
  simgrid_ = p_.model == "simgrid";
  if (not simgrid_)
    return;
  hosts_[0] = platform.add_host(name() + ".nic", 1, 1.0);
  hosts_[1] = platform.add_host(name() + ".peer", 1, 1.0);
  platform.add_duplex_link(name(), hosts_[0], hosts_[1], p_.rate_Bps, p_.latency_s);
}

void NetLink::estimate_resources(ResourceEstimate& e) const
{
  if (simgrid_) // a sender and a receiver per direction
    e.add_actors(name(), 4, Simulation::actor_stack_bytes(), "link actors of '" + name() + "'");
}

void NetLink::start(Simulation& sim)
{
  sim_            = &sim;
  window_start_s_ = sim.warmup_s();
  if (not simgrid_)
    return;
  for (int dir = 0; dir < 2; ++dir) {
    ready_[dir] = simgrid::s4u::Semaphore::create(0);
    // egress: the NIC sends to the peer; ingress: the peer sends to the NIC.
    simgrid::s4u::Actor::create(name() + ".tx" + std::to_string(dir), hosts_[dir], [this, dir] { sender(dir); });
    simgrid::s4u::Actor::create(name() + ".rx" + std::to_string(dir), hosts_[1 - dir], [this, dir] { receiver(dir); });
  }
}

void NetLink::sender(int dir)
{
  Direction& d = dirs_[dir];
  auto* mbox   = simgrid::s4u::Mailbox::by_name(name() + ".dir" + std::to_string(dir));
  while (true) {
    ready_[dir]->acquire();
    Request* r = d.waiting.pop();
    double now = sim_->events().now();
    d.events.emit({StationEvent::What::start, now, r, r->stage_s});
    d.transit++;
    auto wire_bytes = static_cast<std::uint64_t>(wire_time(r->size_bytes, r->tag) * p_.rate_Bps + 0.5);
    mbox->put_init(r, wire_bytes)->detach(); // started detached: the sender does not wait for it
  }
}

void NetLink::receiver(int dir)
{
  Direction& d = dirs_[dir];
  auto* mbox   = simgrid::s4u::Mailbox::by_name(name() + ".dir" + std::to_string(dir));
  while (true) {
    auto* r    = mbox->get<Request>();
    double now = sim_->events().now();
    d.transit--;
    d.done++;
    double wire = wire_time(r->size_bytes, r->tag);
    d.busy_s += wire;
    d.bytes += r->size_bytes;
    d.wire += static_cast<std::uint64_t>(wire * p_.rate_Bps + 0.5);
    d.events.emit({StationEvent::What::depart, now, r, r->stage_s});
    r->end_io();
  }
}

double NetLink::wire_time(std::uint32_t payload, int segments) const
{
  double frames = segments > 0 ? segments : 1;
  return (static_cast<double>(payload) + frames * static_cast<double>(p_.frame_overhead)) / p_.rate_Bps;
}

void NetLink::submit(Request* r)
{
  int dir      = r->op == Op::write ? 0 : 1;
  Direction& d = dirs_[dir];
  double now   = sim_->events().now();
  r->stage_s   = now;
  d.issued++;
  d.events.emit({StationEvent::What::arrive, now, r, now});
  d.waiting.push(r);
  if (simgrid_)
    ready_[dir]->release();
  else if (d.on_wire == nullptr)
    begin(dir);
}

void NetLink::begin(int dir)
{
  Direction& d = dirs_[dir];
  Request* r   = d.waiting.pop();
  if (r == nullptr)
    return;
  double now      = sim_->events().now();
  d.on_wire       = r;
  d.on_wire_since = now;
  d.events.emit({StationEvent::What::start, now, r, r->stage_s});
  sim_->events().schedule_in(wire_time(r->size_bytes, r->tag), this, dir * kinds + serialized, r);
}

void NetLink::on_event(int kind, Request* r)
{
  int dir      = kind / kinds;
  Direction& d = dirs_[dir];
  double now   = sim_->events().now();
  if (kind % kinds == serialized) {
    d.on_wire = nullptr;
    d.busy_s += now - std::max(d.on_wire_since, window_start_s_);
    d.bytes += r->size_bytes;
    d.wire += static_cast<std::uint64_t>(wire_time(r->size_bytes, r->tag) * p_.rate_Bps + 0.5);
    d.flying.push(r);
    sim_->events().schedule_in(p_.latency_s, this, dir * kinds + arrived, r);
    begin(dir);
    return;
  }
  // Constant latency: packets arrive in the order they left.
  Request* first = d.flying.pop();
  d.done++;
  d.events.emit({StationEvent::What::depart, now, first, first->stage_s});
  first->end_io();
}

std::vector<QueueView> NetLink::queues() const
{
  return {{name() + ".egress", &dirs_[0]}, {name() + ".ingress", &dirs_[1]}};
}

PVSIM_REGISTER_MODEL(NetLink);

} // namespace pvsim
