/* pvsim: qemu.migration (see qemu_migration.hpp for what it models, its sources and what it leaves out). */
#include "models/qemu/qemu_migration.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <cmath>
#include <sstream>

namespace pvsim {

namespace {
/** The `policy` field's documentation: the registered drain policies (`pvsim models` lists each one's rule,
 * parameters and source among the choices inside the models). */
std::string policy_doc()
{
  std::string names;
  for (const auto& n : drain_policy_names())
    names += (names.empty() ? "" : ", ") + n;
  return "Drain policy gating the disks' device handlers from `lead` before the planned stop (" + names +
         "; models/qemu/drain_policy.hpp, and the choices listed at the end of `pvsim models`).";
}

/** The time between two vm_stop checks of whether every vCPU has left the batch it was running. */
constexpr double pause_poll_s = 1e-6;
} // namespace

const ParamTable<QemuMigrationParams>& QemuMigration::param_table()
{
  static const ParamTable<Params> t = [] {
    const PrecopyParams pre    = PrecopyParams::defaults();
    const DrainPolicyParams dr = DrainPolicyParams::defaults();
    ParamTable<Params> tb(type_name);
    tb.resource("vm", &Params::vm, true, "The guest.vm migrated: its vCPUs stop at the switchover (pause_all_vcpus).")
        .resource_list("disks", &Params::disks,
                       "The guest's virtio.blk disks (served by qemu.iothreads): drained at the stop "
                       "(bdrv_drain_all) and gated by the drain policy before it.")
        .quantity("start", Dimension::duration, &Params::start_s, std::nullopt, 0, 1e6,
                  "When the first migration starts (migrate command; simulated time).")
        .integer("count", &Params::count, 1, 1, 1000,
                 "Migrations in the run: the guest migrates again from the destination (the same components, "
                 "shared storage).",
                 "pvsim")
        .quantity("every", Dimension::duration, &Params::every_s, 10.0, 1e-6, 1e6,
                  "Time between the starts of consecutive migrations (a migration still running then is followed "
                  "at once by the next one).",
                  "pvsim")
        .quantity("ram", Dimension::size, &Params::ram_bytes, pre.ram_bytes, 1, 1e15,
                  "Guest RAM the first pre-copy iteration sends.", "pvsim: a 4 GiB guest")
        .quantity("max_bandwidth", Dimension::bandwidth, &Params::max_bandwidth_Bps, pre.bandwidth, 1, 1e13,
                  "Migration bandwidth (max-bandwidth; the link assumed saturated at it).",
                  "QEMU migration/options.c MAX_THROTTLE = 128 MiB/s (QEMU 8.2-9.x; 32 MiB/s in older versions, "
                  "version of the change unverified)")
        .quantity("downtime_limit", Dimension::duration, &Params::downtime_limit_s, pre.downtime_limit_s, 1e-6, 1e3,
                  "downtime-limit: pre-copy switches over when pending RAM / bandwidth falls under it.",
                  "QEMU migration/options.c DEFAULT_MIGRATE_SET_DOWNTIME = 300 ms (QEMU 8.2-9.x)")
        .quantity("dirty_rate", Dimension::bandwidth, &Params::dirty_rate_Bps, pre.dirty_rate, 0, 1e13,
                  "Background rate at which the guest dirties RAM, beyond its disks' reads (their DMA is measured).",
                  "pvsim: 0 (an idle guest apart from its I/O)")
        .quantity("working_set", Dimension::size, &Params::working_set_bytes, pre.working_set_bytes, 0, 1e15,
                  "Writable working set the background dirtying is confined to (re-dirtying a page adds nothing).",
                  "pvsim estimate")
        .quantity("io_buffers", Dimension::size, &Params::io_buffers_bytes, 0.0, 0, 1e15,
                  "Guest memory the disks' reads land in (fio reuses numjobs x iodepth x bs); 0: the most read bytes "
                  "the guest had outstanding at once, measured.",
                  "pvsim: fio's reused buffers")
        .integer("max_iterations", &Params::max_iterations, pre.max_iterations, 1, 100000,
                 "Pre-copy iterations after which the switchover happens even without convergence.",
                 "pvsim bound (QEMU keeps iterating unless auto-converge or a forced switchover intervenes)")
        .quantity("device_state", Dimension::size, &Params::device_state_bytes, pre.device_state_bytes, 0, 1e12,
                  "Device state sent in the downtime (vmstate of the devices, the virtqueues' indices).",
                  "pvsim estimate: 1 MiB")
        .choice("policy", &Params::policy, drain_policy_names(), std::string("none"), policy_doc(),
                "none: QEMU as it is")
        .quantity("lead", Dimension::duration, &Params::lead_s, dr.lead_s, 0, 1e6,
                  "depth-cap, deadline: how long before the planned stop the policy gates the disks.",
                  "pvsim: DrainPolicyParams::defaults()")
        .integer("cap", &Params::cap, static_cast<long long>(dr.cap), 1, 1 << 20,
                 "depth-cap: most requests of a disk in QEMU (popped, not completed) in the lead window.",
                 "pvsim: DrainPolicyParams::defaults(); 1 is the internship proposal's one request at a time")
        .quantity("budget", Dimension::duration, &Params::budget_s, dr.budget_s, 0, 1e3,
                  "deadline: the drain time a disk may need at the stop (a share of downtime_limit).",
                  "pvsim: DrainPolicyParams::defaults(), a third of the 300 ms limit")
        .quantity("gap_estimate", Dimension::duration, &Params::gap_estimate_s, dr.gap_estimate_s, 1e-9, 1e3,
                  "deadline: time between completions assumed until `window` completions are measured.",
                  "pvsim: DrainPolicyParams::defaults()")
        .integer("window", &Params::window, static_cast<long long>(dr.window), 2, 1 << 20,
                 "deadline: completions the measured time between completions averages over.",
                 "pvsim: DrainPolicyParams::defaults()")
        .check([](const Params& p, const JsonNode& obj) {
          if (p.disks.empty())
            obj.fail("qemu.migration needs at least one disk in 'disks' (the guest's virtio.blk disks)");
        });
    return tb;
  }();
  return t;
}

QemuMigration::QemuMigration(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p)
{
  precopy_                    = PrecopyParams::defaults();
  precopy_.ram_bytes          = p.ram_bytes;
  precopy_.bandwidth          = p.max_bandwidth_Bps;
  precopy_.downtime_limit_s   = p.downtime_limit_s;
  precopy_.dirty_rate         = p.dirty_rate_Bps;
  precopy_.working_set_bytes  = p.working_set_bytes;
  precopy_.max_iterations     = static_cast<int>(p.max_iterations);
  precopy_.device_state_bytes = p.device_state_bytes;
  StatSet& st                 = stats();
  st.info(
      "/migrations", [this] { return report()["migrations"]; },
      "every migration of the run (whatever the warm-up): pre-copy, QEMU's estimated and the real downtime, drain, "
      "requests at the stop, the lead window's completions, completions on the source and the destination");
  st.info(
      "/accounting", [this] { return report()["accounting"]; },
      "the disks' requests over the run: submitted = completed (source + destination) + in flight at the end");
  st.info(
      "/summary_lines", [this] { return report()["summary_lines"]; }, "one line per migration for the summary");
}

void QemuMigration::connect()
{
  vm_                  = &GuestVm::from_port(*this, "vm");
  DrainPolicyParams dp = DrainPolicyParams::defaults();
  dp.lead_s            = p_.lead_s;
  dp.cap               = static_cast<std::uint64_t>(p_.cap);
  dp.budget_s          = p_.budget_s;
  dp.gap_estimate_s    = p_.gap_estimate_s;
  dp.window            = static_cast<std::uint64_t>(p_.window);
  for (std::size_t i = 0; i < p_.disks.size(); ++i) {
    std::string port = "disks/" + std::to_string(i);
    auto* disk       = dynamic_cast<VirtioBlk*>(this->port(port));
    if (disk == nullptr)
      fail("'" + this->port(port)->name() + "' (" + this->port(port)->type() + ") is not a virtio.blk disk", port);
    for (const auto& g : gates_)
      if (&g->disk() == disk)
        fail("lists '" + disk->name() + "' twice", port);
    gates_.push_back(std::make_unique<DiskGate>(*this, *disk, make_drain_policy(p_.policy, dp)));
  }
}

void QemuMigration::validate()
{
  for (std::size_t i = 0; i < gates_.size(); ++i) {
    VirtioBlk& disk  = gates_[i]->disk();
    std::string port = "disks/" + std::to_string(i);
    if (disk.port("vm") != vm_)
      fail("'" + disk.name() + "' belongs to '" + disk.port("vm")->name() + "', not to the migrated guest '" +
               vm_->name() + "'",
           port);
    if (disk.served_by_vmm())
      fail("'" + disk.name() +
               "' is served by a VMM's own device code ('vmm'); qemu.migration gates QEMU's "
               "virtio-blk handlers on IOThreads",
           port);
    disk.set_gate(gates_[i].get());
  }
}

void QemuMigration::start(Simulation& sim)
{
  sim_ = &sim;
  sim.events().schedule_at(p_.start_s, this, begin);
}

double QemuMigration::now() const
{
  return sim_->events().now();
}

std::uint64_t QemuMigration::in_qemu() const
{
  std::uint64_t n = 0;
  for (const auto& g : gates_)
    n += g->disk().in_qemu();
  return n;
}

// --- the gate ---------------------------------------------------------------------------------------------------

bool QemuMigration::DiskGate::admit(const VirtioBlk&, std::uint64_t in_qemu)
{
  if (m_.phase_ == Phase::stopped or m_.phase_ == Phase::transfer)
    return false; // vm_state_notify stopped the dataplane: no handler pops
  return policy_->admit(in_qemu, m_.now(), m_.planned_stop_);
}

void QemuMigration::DiskGate::submitted(const VirtioBlk&, const Request& r)
{
  ++m_.submitted_;
  if (m_.phase_ != Phase::idle and m_.phase_ != Phase::precopy and m_.records_.back().paused_s >= 0)
    ++m_.records_.back().guest_events_in_downtime;
  if (r.op == Op::read) {
    m_.reads_in_guest_ += r.size_bytes;
    m_.peak_reads_in_guest_ = std::max(m_.peak_reads_in_guest_, m_.reads_in_guest_);
  }
}

void QemuMigration::DiskGate::completed(const VirtioBlk&, const Request& r, std::uint64_t in_qemu)
{
  double t = m_.now();
  ++m_.completed_;
  policy_->completed(t, in_qemu);
  if (r.op == Op::read)
    m_.read_bytes_ += r.size_bytes;
  m_.completion_times_.push_back(t);
  while (not m_.completion_times_.empty() and m_.completion_times_.front() < t - 2 * m_.p_.lead_s)
    m_.completion_times_.pop_front();
  if (m_.phase_ == Phase::stopped and m_.in_qemu() == 0)
    m_.drained();
}

void QemuMigration::DiskGate::delivered(const VirtioBlk&, const Request& r)
{
  ++m_.delivered_;
  if (m_.phase_ != Phase::idle and m_.phase_ != Phase::precopy and m_.records_.back().paused_s >= 0)
    ++m_.records_.back().guest_events_in_downtime;
  if (r.op == Op::read)
    m_.reads_in_guest_ -= r.size_bytes;
}

// --- the migration ----------------------------------------------------------------------------------------------

void QemuMigration::start_iteration()
{
  Record& rec  = records_.back();
  iteration_s_ = pending_ / precopy_.bandwidth;
  rec.sent_bytes += pending_;
  ++rec.iterations;
  read_mark_   = read_bytes_;
  read_mark_s_ = now();
  // Will this iteration be the last? Predicted from the rates measured so far (the policy needs the stop ahead).
  PrecopyParams pp   = precopy_;
  pp.io_read_rate    = io_rate_Bps_;
  pp.io_buffer_bytes = p_.io_buffers_bytes > 0 ? p_.io_buffers_bytes : peak_reads_in_guest_;
  bool last          = dirtied_bytes(pp, iteration_s_) <= precopy_.bandwidth * precopy_.downtime_limit_s or
              rec.iterations >= precopy_.max_iterations;
  planned_stop_ = last ? now() + iteration_s_ : std::numeric_limits<double>::infinity();
  if (last) {
    rec.planned_stop_s  = planned_stop_;
    rec.throttle_from_s = std::max(now(), planned_stop_ - p_.lead_s);
  }
  sim_->events().schedule_in(iteration_s_, this, iteration_end);
}

void QemuMigration::stop_vm()
{
  Record& rec = records_.back();
  phase_      = Phase::stopped;
  rec.stop_s  = now();
  // migration_completion -> vm_stop_force_state -> do_vm_stop: pause_all_vcpus, vm_state_notify (the dataplane stops:
  // the gate admits nothing), bdrv_drain_all.
  for (int i = 0; i < vm_->vcpus(); ++i)
    vm_->vcpu(i).hold();
  for (const auto& g : gates_) {
    rec.in_flight_at_stop += g->disk().in_qemu();
    rec.held_in_avail_at_stop += g->disk().in_avail();
    rec.in_driver_at_stop += g->disk().in_driver();
  }
  for (double t : completion_times_) {
    if (t >= rec.stop_s - p_.lead_s)
      ++rec.completed_in_lead;
    else if (t >= rec.stop_s - 2 * p_.lead_s)
      ++rec.completed_before_lead;
  }
  rec.completed_at_stop    = completed_;
  rec.pending_bytes        = pending_;
  rec.estimated_downtime_s = (pending_ + precopy_.device_state_bytes) / precopy_.bandwidth;
  on_event(check_paused, nullptr);
  if (in_qemu() == 0)
    drained();
}

void QemuMigration::drained()
{
  records_.back().drained_s = now();
  phase_                    = Phase::transfer;
  sim_->events().schedule_in((pending_ + precopy_.device_state_bytes) / precopy_.bandwidth, this, resume);
}

void QemuMigration::on_event(int kind, Request*)
{
  switch (static_cast<Kind>(kind)) {
  case begin: {
    records_.emplace_back();
    Record& rec = records_.back();
    rec.start_s = now();
    phase_      = Phase::precopy;
    pending_    = precopy_.ram_bytes;
    // the disks' read rate so far (since the run's start or the last resume) predicts the first iteration's dirtying
    double span  = now() - read_mark_s_;
    io_rate_Bps_ = span > 0 ? (read_bytes_ - read_mark_) / span : 0;
    start_iteration();
    break;
  }
  case iteration_end: {
    Record& rec          = records_.back();
    io_rate_Bps_         = iteration_s_ > 0 ? (read_bytes_ - read_mark_) / iteration_s_ : 0;
    rec.io_read_rate_Bps = io_rate_Bps_;
    PrecopyParams pp     = precopy_;
    pp.io_read_rate      = io_rate_Bps_;
    pp.io_buffer_bytes   = p_.io_buffers_bytes > 0 ? p_.io_buffers_bytes : peak_reads_in_guest_;
    pending_             = dirtied_bytes(pp, iteration_s_); // migration_bitmap_sync
    rec.converged        = pending_ <= precopy_.bandwidth * precopy_.downtime_limit_s;
    if (rec.converged or rec.iterations >= precopy_.max_iterations)
      stop_vm();
    else
      start_iteration();
    break;
  }
  case check_paused: { // pause_all_vcpus: done when no vCPU is still running the batch it had when held
    bool running = false;
    for (int i = 0; i < vm_->vcpus(); ++i)
      running = running or vm_->vcpu(i).running();
    if (running)
      sim_->events().schedule_in(pause_poll_s, this, check_paused);
    else
      records_.back().paused_s = now();
    break;
  }
  case resume: { // the destination: vm_start, the handlers pop what stayed in the avail ring
    Record& rec             = records_.back();
    rec.resume_s            = now();
    rec.completed_at_resume = completed_;
    phase_                  = Phase::idle;
    planned_stop_           = std::numeric_limits<double>::infinity();
    read_mark_              = read_bytes_;
    read_mark_s_            = now();
    for (int i = 0; i < vm_->vcpus(); ++i)
      vm_->vcpu(i).release_hold();
    for (const auto& g : gates_)
      g->disk().gate_changed();
    if (static_cast<long long>(records_.size()) < p_.count)
      sim_->events().schedule_at(std::max(now(), p_.start_s + static_cast<double>(records_.size()) * p_.every_s), this,
                                 begin);
    break;
  }
  }
}

json QemuMigration::report() const
{
  json out           = json::object();
  json list          = json::array();
  json lines         = json::array();
  std::uint64_t prev = 0; // completions by the previous resume
  for (std::size_t k = 0; k < records_.size(); ++k) {
    const Record& r = records_[k];
    json m          = {{"start_s", r.start_s},
                       {"iterations", r.iterations},
                       {"sent_bytes", r.sent_bytes},
                       {"converged", r.converged},
                       {"io_read_rate_Bps", r.io_read_rate_Bps}};
    bool stopped = r.stop_s >= 0, resumed = r.resume_s >= 0;
    m["state"] = resumed ? "done" : stopped ? "stopped at the end of the run" : "pre-copy at the end of the run";
    if (stopped) {
      m["precopy_s"]             = r.stop_s - r.start_s;
      m["planned_stop_s"]        = std::isfinite(r.planned_stop_s) ? json(r.planned_stop_s) : json(nullptr);
      m["lead_window_s"]         = std::isfinite(r.throttle_from_s) ? r.stop_s - r.throttle_from_s : 0.0;
      m["stop_s"]                = r.stop_s;
      m["pending_bytes"]         = r.pending_bytes;
      m["estimated_downtime_s"]  = r.estimated_downtime_s;
      m["in_flight_at_stop"]     = r.in_flight_at_stop;
      m["held_in_avail_at_stop"] = r.held_in_avail_at_stop;
      m["in_driver_at_stop"]     = r.in_driver_at_stop;
      m["completed_in_lead"]     = r.completed_in_lead;
      m["completed_before_lead"] = r.completed_before_lead;
      m["lost_to_throttling"] =
          static_cast<long long>(r.completed_before_lead) - static_cast<long long>(r.completed_in_lead);
      m["vcpus_paused_after_s"] = r.paused_s >= 0 ? json(r.paused_s - r.stop_s) : json(nullptr);
      m["drain_s"]              = r.drained_s >= 0 ? json(r.drained_s - r.stop_s) : json(nullptr);
    }
    if (resumed) {
      double downtime          = r.resume_s - r.stop_s;
      m["resume_s"]            = r.resume_s;
      m["transfer_s"]          = r.resume_s - r.drained_s;
      m["downtime_s"]          = downtime;
      m["downtime_over_limit"] = downtime > p_.downtime_limit_s;
      // the destination runs the guest until the next migration's resume (its source phase) or the run's end
      std::uint64_t next =
          k + 1 < records_.size() and records_[k + 1].resume_s >= 0 ? records_[k + 1].completed_at_resume : completed_;
      m["completed_source"]      = r.completed_at_resume - prev;
      m["completed_destination"] = next - r.completed_at_resume;
      std::ostringstream line;
      line.setf(std::ios::fixed);
      line.precision(1);
      line << "migration " << k << ": downtime " << downtime * 1e3 << " ms (QEMU's estimate "
           << r.estimated_downtime_s * 1e3 << " ms, limit " << p_.downtime_limit_s * 1e3 << " ms"
           << (downtime > p_.downtime_limit_s ? ", EXCEEDED" : "") << "), drain " << (r.drained_s - r.stop_s) * 1e3
           << " ms of " << r.in_flight_at_stop << " requests in flight, " << r.held_in_avail_at_stop
           << " held in the avail ring, policy " << p_.policy;
      lines.push_back(line.str());
      prev = r.completed_at_resume;
    } else if (stopped) {
      m["completed_source"] = completed_ - prev;
    }
    m["guest_events_in_downtime"] = r.guest_events_in_downtime;
    list.push_back(m);
  }
  std::uint64_t driver = 0, avail = 0, qemu = 0;
  for (const auto& g : gates_) {
    driver += g->disk().in_driver();
    avail += g->disk().in_avail();
    qemu += g->disk().in_qemu();
  }
  std::uint64_t first_resume =
      not records_.empty() and records_.front().resume_s >= 0 ? records_.front().completed_at_resume : completed_;
  out["migrations"]    = list;
  out["summary_lines"] = lines;
  out["accounting"]    = {{"submitted", submitted_},
                          {"completed", completed_},
                          {"completed_source", first_resume},
                          {"completed_destination", completed_ - first_resume},
                          {"delivered_to_guest", delivered_},
                          {"in_flight_at_end", {{"driver", driver}, {"avail_ring", avail}, {"qemu", qemu}}},
                          {"ok", submitted_ == completed_ + driver + avail + qemu}};
  return out;
}

PVSIM_REGISTER_MODEL(QemuMigration);

} // namespace pvsim
