#include "models/workload/fio_job.hpp"
#include "sim/resource_estimate.hpp"

#include "models/linux/blk_mq_map.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace pvsim {

const ParamTable<FioJobParams>& FioJob::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.integer("iodepth", &Params::iodepth, 1, 1, 1 << 20, "Requests each copy keeps in flight (at most).",
               "fio iodepth=1")
        .integer("numjobs", &Params::numjobs, 1, 1, 4096, "Copies of the job, each on its own vCPU in turn.",
                 "fio numjobs=1")
        .resource("vm", &Params::vm, true, "The guest.vm whose vCPUs run the job.")
        .text("cpus_allowed", &Params::cpus_allowed, "",
              "vCPUs the copies are placed on, in fio's syntax (\"0-3,6\"); empty: all of the guest's vCPUs.")
        .number("rate_iops", &Params::rate_iops, 0.0, 0, 1e12,
                "Arrival rate per copy (0: closed loop, a new request as soon as one completes).", "fio rate_iops=0")
        .choice("rate_process", &Params::rate_process, {"linear", "poisson"}, std::string("linear"),
                "Arrival process with rate_iops.", "fio rate_process=linear")
        .choice("loop", &Params::loop, {"batched", "fio"}, std::string("batched"),
                "How each copy runs on its vCPU: \"batched\" reaps every completion as it arrives and submits its "
                "replacement at once, the vCPU running what is pending in batches (the calibrated figures use it); "
                "\"fio\" is fio's own loop with its defaults, one call at a time: reap one, submit its replacement "
                "(doorbell included), reap the next.",
                "batched (pvsim's calibrations); fio's loop: backend.c do_io(), iodepth_batch_submit=1, "
                "iodepth_batch_complete_min=1")
        .distribution("think_time", &Params::think_time, Distribution::deterministic(0),
                      "Pause after each completion before the next submission.", "fio thinktime=0")
        .quantity("submit_cpu", Dimension::duration, &Params::submit_cpu_s, 3e-6, 0, 1,
                  "vCPU time per submission: fio, io_submit, the block layer, the driver's queue_rq.",
                  "pvsim estimate: 2-4 us for a 4 KiB direct I/O on a 2-3 GHz core")
        .quantity("complete_cpu", Dimension::duration, &Params::complete_cpu_s, 2e-6, 0, 1,
                  "vCPU time per completion: reaping (io_getevents) and fio's accounting.",
                  "pvsim estimate: 1-3 us per completion")
        .quantity("wakeup_cpu", Dimension::duration, &Params::wakeup_cpu_s, 0.0, 0, 1,
                  "vCPU time of the job thread when a completion finds it asleep in io_getevents (nothing submitted "
                  "or reaped pending): schedule out and back in, the wake-up. Every I/O pays it at iodepth 1, few do "
                  "at depth.",
                  "0 (folded into complete_cpu); pvsim calibrate fits it: fio's CPU per I/O at iodepth 1 minus slat "
                  "and complete_cpu")
        .quantity("startdelay", Dimension::duration, &Params::startdelay_s, 0.0, 0, 1e6,
                  "Time from the start of the run to the job's first submission.", "fio startdelay=0")
        .quantity("runtime", Dimension::duration, &Params::runtime_s, 0.0, 0, 1e6,
                  "How long the job submits after startdelay (0: until the end of the run).", "fio runtime=0")
        .text("job_file", &Params::job_file, "",
              "A fio job file whose job sections replace this component before the run (relative to the scenario "
              "file); this component is their template: vm, target, the CPU costs and cpus_allowed. Read by the pvsim "
              "command (pvsim run --fio FILE sets it); README 'Your fio job file as the workload'.");
    describe_io_pattern(tb);
    return tb;
  }();
  return t;
}

FioJob::FioJob(std::string name, const Params& p)
    : Component(std::move(name), type_name), p_(p), fio_loop_(p.loop == "fio")
{
}

void FioJob::connect()
{
  vm_     = &GuestVm::from_port(*this, "vm");
  target_ = port("target");
}

void FioJob::validate()
{
  if (not p_.job_file.empty())
    fail("job_file '" + p_.job_file + "' was not expanded into its jobs: the pvsim command does it before the run",
         "job_file");
  double from = p_.startdelay_s;
  double to   = p_.runtime_s > 0 ? p_.startdelay_s + p_.runtime_s : std::numeric_limits<double>::infinity();
  int hops    = 0;
  for (const Component* c = target_; c != nullptr and hops < 64; c = c->port("target"), ++hops) {
    auto [plug, unplug] = c->plugged();
    if (from < plug or to > unplug) {
      auto when = [](double t) {
        std::ostringstream o;
        o << t << " s";
        return std::isinf(t) ? std::string("the end of the run") : o.str();
      };
      fail("runs from " + when(from) + " to " + when(to) + " but its path goes through '" + c->name() +
               "', plugged from " + when(plug) + " to " + when(unplug) +
               ": set startdelay and runtime so that the job runs while it is plugged",
           plug > from ? "startdelay" : "runtime");
    }
  }
  if (p_.cpus_allowed.empty()) {
    for (int c = 0; c < vm_->vcpus(); ++c)
      cpus_.push_back(c);
    return;
  }
  auto cpus = parse_cpu_list(p_.cpus_allowed);
  if (not cpus)
    fail("expected a list of vCPUs such as \"0-3,6\", got \"" + p_.cpus_allowed + "\"", "cpus_allowed");
  for (int c : *cpus)
    if (c >= vm_->vcpus())
      fail("vCPU " + std::to_string(c) + " does not exist: '" + vm_->name() + "' has " + std::to_string(vm_->vcpus()) +
               " vCPUs (0-" + std::to_string(vm_->vcpus() - 1) + ")",
           "cpus_allowed");
  cpus_ = *cpus;
}

void FioJob::estimate_resources(ResourceEstimate& e) const
{
  double copies = static_cast<double>(p_.numjobs);
  e.add_requests(name(), copies * static_cast<double>(p_.iodepth), "iodepth or numjobs of '" + name() + "'");
  // Each copy is bounded by its rate, or by its vCPU's CPU per request; copies sharing a vCPU share that bound.
  double per_cpu = p_.submit_cpu_s + p_.complete_cpu_s;
  double busy    = std::min(copies, static_cast<double>(cpus_.size()));
  if (p_.rate_iops > 0)
    e.add_request_rate(name(), copies * p_.rate_iops);
  else if (per_cpu > 0)
    e.add_request_rate(name(), busy / per_cpu);
  else
    e.add_request_rate(name(), std::nullopt);
}

void FioJob::start(Simulation& sim)
{
  sim_ = &sim;
  for (long long i = 0; i < p_.numjobs; ++i) {
    // Copies spread evenly over the allowed vCPUs, as the scheduler's load balancing spreads busy tasks (with more
    // copies than vCPUs they wrap around).
    std::size_t slot = static_cast<std::size_t>(i) % cpus_.size();
    if (static_cast<std::size_t>(p_.numjobs) < cpus_.size())
      slot = static_cast<std::size_t>(i) * cpus_.size() / static_cast<std::size_t>(p_.numjobs);
    Thread th(cpus_[slot], sim.register_job(), IoGenerator(p_), sim.rng("job:" + name() + "." + std::to_string(i)));
    if (i == 0)
      first_job_id_ = th.job_id;
    threads_.push_back(std::move(th));
  }
  for (std::size_t t = 0; t < threads_.size(); ++t)
    sim.events().schedule_in(p_.startdelay_s, this, static_cast<int>(t) * kinds + (p_.rate_iops > 0 ? arrival : fill));
  declare_stats();
}

void FioJob::declare_stats()
{
  StatSet& st = stats();
  for (std::size_t t = 0; t < threads_.size(); ++t) {
    Thread& th        = threads_[t];
    std::string where = "/threads/" + std::to_string(t) + "/";
    st.info(
        where + "vcpu", [&th] { return th.vcpu; }, "vCPU the copy runs on");
    st.add(where + "submitted", th.window_submitted, "requests", "requests the copy submitted");
    st.add(where + "completed", th.window_completed, "requests", "requests the copy reaped");
    st.add(where + "wakeups", th.wakeups, "wakeups",
           "completions that woke the copy asleep in io_getevents (paying wakeup_cpu)");
  }
  auto sum = [this](Counter Thread::*c) {
    return [this, c](const StatWindow&) {
      std::uint64_t n = 0;
      for (const auto& th : threads_)
        n += (th.*c).get();
      return json(n);
    };
  };
  st.formula("/submitted", sum(&Thread::window_submitted), "requests", "requests all copies submitted");
  st.formula("/completed", sum(&Thread::window_completed), "requests", "requests all copies reaped");
}

double FioJob::next_gap(Thread& th)
{
  return p_.rate_process == "poisson" ? th.rng.exponential(1.0 / p_.rate_iops) : 1.0 / p_.rate_iops;
}

bool FioJob::may_submit(const Thread& th, std::uint64_t queued) const
{
  double now = sim_->events().now();
  return not(now >= sim_->duration_s() or
             (p_.number_ios > 0 and th.submitted + queued >= static_cast<std::uint64_t>(p_.number_ios)) or
             (p_.runtime_s > 0 and now >= p_.startdelay_s + p_.runtime_s));
}

bool FioJob::issue(std::size_t t)
{
  Thread& th = threads_[t];
  if (not fio_loop_ or th.cpu_work == 0)
    return start_submit(t);
  if (not may_submit(th, th.to_submit))
    return false;
  ++th.to_submit; // after the call that is running: fio's loop makes one call at a time
  return true;
}

bool FioJob::start_submit(std::size_t t)
{
  Thread& th = threads_[t];
  if (not may_submit(th, 0))
    return false;
  double now = sim_->events().now();
  Request* r = sim_->pool().get();
  th.gen.fill(r, th.rng);
  r->job      = th.job_id;
  r->cpu      = th.vcpu;
  r->submit_s = now;
  r->push_end_io(this, now);
  th.submitted++;
  ++th.window_submitted;
  th.outstanding++;
  th.cpu_work++;
  vm_->vcpu(th.vcpu).post(p_.submit_cpu_s, this, static_cast<int>(t) * kinds + submitted, r);
  return true;
}

void FioJob::reap(std::size_t t, Request* r, bool wake)
{
  Thread& th = threads_[t];
  double cpu = p_.complete_cpu_s;
  if (wake and p_.wakeup_cpu_s > 0) { // asleep in io_getevents: this completion wakes it
    cpu += p_.wakeup_cpu_s;
    ++th.wakeups;
  }
  th.cpu_work++;
  vm_->vcpu(th.vcpu).post(cpu, this, static_cast<int>(t) * kinds + reaped, r);
}

void FioJob::next_call(std::size_t t)
{
  Thread& th = threads_[t];
  if (not fio_loop_ or th.cpu_work > 0)
    return;
  if (th.to_submit > 0) {
    --th.to_submit;
    if (start_submit(t))
      return;
    th.to_submit = 0;
  }
  if (not th.ready.empty())
    reap(t, th.ready.pop(), false); // io_getevents finds it there: no sleep
}

void FioJob::on_event(int kind, Request* r)
{
  auto t     = static_cast<std::size_t>(kind / kinds);
  Thread& th = threads_[t];
  switch (kind % kinds) {
  case fill:
    for (long long i = 0; i < p_.iodepth; ++i)
      if (not issue(t))
        break;
    break;
  case submitted:
    th.cpu_work--;
    submitted_.emit({sim_->events().now(), r});
    target_->submit(r); // the block layer and the driver go on first (post_next): the call returns after them
    next_call(t);
    break;
  case reaped: {
    th.cpu_work--;
    double now = sim_->events().now();
    th.completed++;
    ++th.window_completed;
    th.outstanding--;
    done_.emit({now, r});
    sim_->pool().put(r);
    completed(t);
    next_call(t);
    break;
  }
  case arrival:
    if (sim_->events().now() >= sim_->duration_s())
      break;
    if (th.outstanding + th.to_submit < static_cast<std::uint64_t>(p_.iodepth))
      issue(t);
    else
      th.backlog++;
    sim_->events().schedule_in(next_gap(th), this, kind);
    break;
  case think_done:
    issue(t);
    break;
  default:
    break;
  }
}

void FioJob::end_io(Request* r, double)
{
  auto t     = static_cast<std::size_t>(r->job - first_job_id_);
  Thread& th = threads_[t];
  if (not fio_loop_) {
    reap(t, r, th.cpu_work == 0); // nothing of the copy's on its vCPU: asleep in io_getevents
    return;
  }
  th.ready.push(r);
  if (th.cpu_work == 0)
    reap(t, th.ready.pop(), true);
}

void FioJob::completed(std::size_t t)
{
  Thread& th = threads_[t];
  if (p_.rate_iops > 0) {
    if (th.backlog > 0) {
      th.backlog--;
      issue(t);
    }
    return;
  }
  if (not p_.think_time.is_zero())
    sim_->events().schedule_in(p_.think_time.sample(th.rng), this, static_cast<int>(t) * kinds + think_done);
  else
    issue(t);
}

std::optional<Occupancy> FioJob::occupancy() const
{
  Occupancy o;
  for (const auto& th : threads_) {
    o.issued += th.submitted;
    o.completed += th.completed;
    o.in_flight += th.outstanding;
  }
  return o;
}

PVSIM_REGISTER_MODEL(FioJob);

} // namespace pvsim
