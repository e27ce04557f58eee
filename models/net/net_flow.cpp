#include "models/net/net_flow.hpp"

#include "models/net/toeplitz.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <cmath>

namespace pvsim {

const ParamTable<NetFlowParams>& NetFlow::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("vm", &Params::vm, true, "The guest (guest.vm) whose vCPUs run the streams' threads.")
        .ref("target", &Params::target, true, "The guest's network driver (xen.netfront or virtio.net).")
        .integer("streams", &Params::streams, 1, 1, 4096, "Parallel TCP streams (iperf -P).", "iperf default: 1")
        .choice("direction", &Params::direction, {"tx", "rx"}, std::string("tx"),
                "tx: the guest sends to the remote host; rx: the remote host sends to the guest.", "pvsim")
        .quantity("packet_size", Dimension::size, &Params::packet_size_bytes, 65536, 1, 65536,
                  "Payload per packet: 64 KiB for a GSO/GRO super-packet, one MSS without offloads.",
                  "include/linux/netdevice.h: GSO_LEGACY_MAX_SIZE = 65536")
        .integer("mss", &Params::mss, 1448, 64, 9000,
                 "TCP maximum segment size: MTU 1500 minus IPv4 (20), TCP (20) and timestamps (12).",
                 "RFC 879; Linux tcp_current_mss() with timestamps")
        .quantity("window", Dimension::size, &Params::window_bytes, 1 << 20, 1, 1e12,
                  "Bytes a stream keeps in flight (TCP window / send-buffer budget); at least one packet.",
                  "pvsim estimate: above the path's bandwidth-delay product")
        .quantity("rate", Dimension::bandwidth, &Params::rate_Bps, 0, 0, 1e15,
                  "Pacing rate per stream (iperf -b); 0: window-limited only.", "iperf default: unlimited for TCP")
        .integer("port_base", &Params::port_base, 40000, 1, 65535 - 4096,
                 "Source port of stream 0 (stream i uses port_base + i); the destination port is 5201.", "pvsim")
        .integer("hash_seed", &Params::hash_seed, 0, 0, 4294967295LL,
                 "Seed of the skb_get_hash() stand-in (Linux: hashrnd, random per boot).", "pvsim")
        .quantity("packet_cpu", Dimension::duration, &Params::packet_cpu_s, 3e-6, 0, 1,
                  "vCPU time per packet in the stream's thread: the socket call and the TCP/IP layers (tx: "
                  "tcp_sendmsg to dev_queue_xmit; rx: tcp_recvmsg and the ACK).",
                  "pvsim estimate")
        .quantity("copy_rate", Dimension::bandwidth, &Params::copy_Bps, 4e9, 1, 1e15,
                  "Rate of the copy between user space and socket buffers on the stream's vCPU.",
                  "pvsim estimate: copy_from_user/copy_to_user, cache-cold, ~4 GB/s")
        .quantity("migrate_interval", Dimension::duration, &Params::migrate_interval_s, 0, 0, 1e6,
                  "Every interval each stream's thread moves to the next vCPU (the scheduler's load balancing, as "
                  "pvsim abstracts it); 0: threads never move.",
                  "pvsim")
        .quantity("startdelay", Dimension::duration, &Params::startdelay_s, 0.0, 0, 1e6,
                  "Time from the start of the run to the streams' first packets (a transfer that starts later).",
                  "iperf starts at once: 0")
        .quantity("runtime", Dimension::duration, &Params::runtime_s, 0.0, 0, 1e6,
                  "How long the streams send after startdelay (0: until the end of the run); packets in flight "
                  "then still arrive.",
                  "iperf -t (0 here: the whole run)");
    return tb;
  }();
  return t;
}

NetFlow::NetFlow(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p) {}

void NetFlow::connect()
{
  vm_     = &GuestVm::from_port(*this, "vm");
  target_ = port("target");
  tx_     = p_.direction == "tx";
}

void NetFlow::validate()
{
  if (target_->type() != "xen.netfront" and target_->type() != "virtio.net")
    fail("'target' must name a guest network driver (xen.netfront, virtio.net), got '" + target_->name() + "' (" +
             target_->type() + ")",
         "target");
}

std::uint32_t NetFlow::mix_hash(std::uint32_t saddr, std::uint32_t daddr, std::uint16_t sport, std::uint16_t dport,
                                std::uint32_t seed)
{
  // A murmur3-style finalizer over the tuple words: well spread, deterministic (documented stand-in for siphash).
  auto fmix = [](std::uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6bU;
    h ^= h >> 13;
    h *= 0xc2b2ae35U;
    h ^= h >> 16;
    return h;
  };
  std::uint32_t h = seed ^ 0x9e3779b9U;
  for (std::uint32_t w : {saddr, daddr, (static_cast<std::uint32_t>(sport) << 16) | dport})
    h = fmix(h ^ w) * 5 + 0xe6546b64U;
  return fmix(h);
}

void NetFlow::start(Simulation& sim)
{
  sim_          = &sim;
  send_until_s_ = p_.runtime_s > 0 ? std::min(sim.duration_s(), p_.startdelay_s + p_.runtime_s) : sim.duration_s();
  const net::Ipv4Address remote{10, 0, 0, 1}, guest{10, 0, 0, 2};
  auto word = [](const net::Ipv4Address& a) {
    return (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) | (std::uint32_t{a[2]} << 8) | a[3];
  };
  for (long long i = 0; i < p_.streams; ++i) {
    Stream s;
    s.vcpu   = static_cast<int>(i % vm_->vcpus());
    s.job_id = sim.register_job();
    if (i == 0)
      first_job_id_ = s.job_id;
    // The data packets' tuple: from the sender's ephemeral port to the receiver's 5201.
    auto sport          = static_cast<std::uint16_t>(p_.port_base + i);
    std::uint16_t dport = 5201;
    const auto& src     = tx_ ? guest : remote;
    const auto& dst     = tx_ ? remote : guest;
    std::uint32_t skb   = mix_hash(word(src), word(dst), sport, dport, static_cast<std::uint32_t>(p_.hash_seed));
    std::uint32_t toeplitz =
        net::toeplitz_hash(net::microsoft_rss_key(), net::hash_input_ipv4_tcp(src, dst, sport, dport));
    s.hashes = (static_cast<std::uint64_t>(toeplitz) << 32) | skb;
    streams_.push_back(s);
  }
  for (std::size_t s = 0; s < streams_.size(); ++s)
    sim.events().schedule_in(p_.startdelay_s, this, static_cast<int>(s) * kinds + fill);
  if (p_.migrate_interval_s > 0 and p_.migrate_interval_s < sim.duration_s() and vm_->vcpus() > 1)
    sim.events().schedule_in(p_.migrate_interval_s, this, migrate);
  declare_stats();
}

void NetFlow::declare_stats()
{
  StatSet& st = stats();
  for (std::size_t s = 0; s < streams_.size(); ++s) {
    Stream& stream    = streams_[s];
    std::string where = "/streams/" + std::to_string(s) + "/";
    st.track(stream.bytes);
    st.info(
        where + "vcpu", [&stream] { return stream.vcpu; }, "vCPU the stream's thread runs on (at the end)");
    if (p_.migrate_interval_s > 0)
      st.add(where + "migrations", stream.migrations, "moves", "times the stream's thread moved to another vCPU");
    st.formula(
        where + "throughput_bps", [&stream](const StatWindow& w) { return json(throughput_bps(stream, w)); }, "bit/s",
        "payload bits the stream delivered per second");
    st.info(
        where + "skb_hash", [&stream] { return static_cast<std::uint32_t>(stream.hashes); },
        "the guest kernel's skb_get_hash() of the stream's packets (pvsim's stand-in)");
    st.info(
        where + "toeplitz_hash", [&stream] { return static_cast<std::uint32_t>(stream.hashes >> 32); },
        "Toeplitz hash of the stream's 4-tuple under the Microsoft RSS key");
  }
  st.formula(
      "/throughput_bps",
      [this](const StatWindow& w) {
        double total = 0;
        for (const auto& stream : streams_)
          total += throughput_bps(stream, w);
        return json(total);
      },
      "bit/s", "payload bits all streams delivered per second");
}

void NetFlow::try_send(std::size_t s)
{
  Stream& st = streams_[s];
  double now = sim_->events().now();
  while (now < send_until_s_ and not st.pacing and not st.sending and
         (st.in_flight_bytes == 0 or st.in_flight_bytes + p_.packet_size_bytes <= p_.window_bytes)) {
    if (p_.rate_Bps > 0 and st.next_send_s > now) {
      st.pacing = true;
      sim_->events().schedule_at(st.next_send_s, this, static_cast<int>(s) * kinds + fill);
      return;
    }
    Request* r    = sim_->pool().get();
    r->op         = tx_ ? Op::write : Op::read;
    r->size_bytes = static_cast<std::uint32_t>(p_.packet_size_bytes);
    r->tag        = static_cast<int>((r->size_bytes + p_.mss - 1) / p_.mss); // gso_segs
    r->offset     = st.hashes;
    r->job        = st.job_id;
    r->cpu        = st.vcpu;
    r->submit_s   = now;
    r->push_end_io(this, now);
    st.submitted++;
    st.in_flight_bytes += r->size_bytes;
    if (p_.rate_Bps > 0)
      st.next_send_s = std::max(st.next_send_s, now) + r->size_bytes / p_.rate_Bps;
    if (tx_) { // tcp_sendmsg on the stream's vCPU, then dev_queue_xmit into the driver; one call at a time
      st.sending = true;
      vm_->vcpu(st.vcpu).post(p_.packet_cpu_s + r->size_bytes / p_.copy_Bps, this, static_cast<int>(s) * kinds + sent,
                              r);
    } else // the remote host sends: no guest CPU until the packet arrives
      target_->submit(r);
  }
}

void NetFlow::on_event(int kind, Request* r)
{
  auto s     = static_cast<std::size_t>(kind / kinds);
  Stream& st = streams_[s];
  switch (kind % kinds) {
  case fill:
    st.pacing = false;
    try_send(s);
    break;
  case sent:
    st.sending = false;
    target_->submit(r);
    try_send(s);
    break;
  case migrate: // every stream's thread to the next vCPU (kind carries no stream: all move at once)
    for (auto& m : streams_) {
      m.vcpu = (m.vcpu + 1) % vm_->vcpus();
      ++m.migrations;
    }
    if (sim_->events().now() + p_.migrate_interval_s < sim_->duration_s())
      sim_->events().schedule_in(p_.migrate_interval_s, this, migrate);
    break;
  case received: {
    st.completed++;
    st.in_flight_bytes -= r->size_bytes;
    st.bytes += r->size_bytes;
    done_.emit({sim_->events().now(), r});
    sim_->pool().put(r);
    try_send(s);
    break;
  }
  default:
    break;
  }
}

void NetFlow::end_io(Request* r, double)
{
  auto s = static_cast<std::size_t>(r->job - first_job_id_);
  if (tx_) // the driver freed the transmitted skb: the window's bytes come back (TSQ / ACK clock)
    on_event(static_cast<int>(s) * kinds + received, r);
  else // tcp_recvmsg copies the data to the reader on its vCPU
    vm_->vcpu(streams_[s].vcpu)
        .post(p_.packet_cpu_s + r->size_bytes / p_.copy_Bps, this, static_cast<int>(s) * kinds + received, r);
}

std::optional<Occupancy> NetFlow::occupancy() const
{
  Occupancy o;
  for (const auto& st : streams_) {
    o.issued += st.submitted;
    o.completed += st.completed;
    o.in_flight += st.submitted - st.completed;
  }
  return o;
}

PVSIM_REGISTER_MODEL(NetFlow);

} // namespace pvsim
