/* pvsim model "job.fio": a fio job inside a guest. `numjobs` copies of it run, each on one vCPU
 * of cpus_allowed, spread evenly over them as the scheduler's load balancing spreads busy tasks (4 copies on 16
 * vCPUs: 0, 4, 8, 12), each with `iodepth` requests in flight (libaio/io_uring style), or arriving at
 * rate_iops and capped by iodepth. Every submission costs `submit_cpu` on that vCPU (fio, the io_submit system call,
 * the block layer and the driver's queue_rq up to the doorbell) and every completion `complete_cpu` (reaping with
 * io_getevents, fio's accounting), so jobs compete with each other and with the interrupts bound to their vCPU.
 * The latency reported is fio's lat: from the start of the submission to the reaping of the completion.
 * startdelay and runtime (fio's options) bound when the job submits: a job on a hot-plugged disk runs while the disk is
 * plugged (checked at validation along the job's `target` chain, Component::plugged()).
 * job_file names a fio job file whose jobs replace this component before the run (the pvsim command does it,
 * analysis/commands/fio_workload.hpp); a job_file left here is an error.
 * The copy's loop (`loop`):
 * - "batched" (default): every completion is reaped as soon as it reaches the job (one reap item posted to the vCPU
 *   per completion) and each reap posts the submission that replaces it at once; the vCPU runs what is pending in
 *   FIFO batches up to its quantum, so a burst of completions is reaped together, then its replacements are
 *   submitted together and reach the driver (and the doorbell) at the end of that batch. pvsim calibrate uses it
 *   unless --fio-loop fio is given, and so do the README's accuracy figures but one table (why: README "fio's loop").
 * - "fio": fio's own loop with its defaults, one thread making one call at a time (backend.c do_io(): one
 *   io_submit/io_uring_enter per I/O with iodepth_batch_submit=1; one event per io_getevents with
 *   iodepth_batch_complete_min=1, _max then raised to it by init.c fixup_options() and capped by td_io_getevents();
 *   wait_for_completions() returns after one reap since iodepth_low defaults to iodepth): after each reap the copy
 *   submits the I/O that took its place, with the block layer and the driver's doorbell before its next call, then
 *   reaps the next completion; it pays wakeup_cpu only when a completion finds it with nothing to do. fio takes an
 *   I/O's start time just before submitting it (io_u.c get_io_u()): lat runs from there.
 * Leaves out: fio's iodepth_batch/iodepth_low (submission one by one), cpus_allowed_policy=shared migrations (jobs
 * stay on the vCPU they were placed on, as with cpus_allowed_policy=split), verify, file layout. */
#pragma once

#include "models/host/guest_vm.hpp"
#include "models/workload/io_pattern.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/statistics.hpp"
#include "sim/stats.hpp"

namespace pvsim {

struct FioJobParams : IoPattern {
  long long iodepth;
  long long numjobs;
  std::string vm;
  std::string cpus_allowed;
  double rate_iops;
  std::string rate_process;
  std::string loop;
  Distribution think_time;
  double submit_cpu_s;
  double complete_cpu_s;
  double wakeup_cpu_s;
  double startdelay_s;
  double runtime_s;
  std::string job_file;
};

class FioJob : public Component {
public:
  static constexpr const char* type_name = "job.fio";
  static constexpr const char* summary   = "fio job(s) on a guest's vCPUs: iodepth or rate, CPU cost per I/O.";
  using Params                           = FioJobParams;
  static const ParamTable<Params>& param_table();

  FioJob(std::string name, const Params& p);
  bool is_source() const override { return true; }
  bool accepts_requests() const override { return false; }
  void connect() override;
  void validate() override;
  void estimate_resources(ResourceEstimate& e) const override;
  void start(Simulation& sim) override;
  void end_io(Request* r, double enter_s) override;
  void on_event(int kind, Request* r) override;
  std::optional<Occupancy> occupancy() const override;
  const Probe<JobEvent>* job_probe() const override { return &done_; }
  /** Emitted when a request leaves the job for its target (its submission CPU done): fio's slat ends there. */
  const Probe<JobEvent>& submitted_probe() const { return submitted_; }
  /** Request::job of copy 0 (copy i has first_job_id() + i), valid once started. */
  int first_job_id() const { return first_job_id_; }
  long long copies() const { return p_.numjobs; }

private:
  struct Thread {
    Thread(int vcpu_, int job_id_, IoGenerator gen_, Rng rng_)
        : vcpu(vcpu_), job_id(job_id_), gen(std::move(gen_)), rng(std::move(rng_))
    {
    }
    int vcpu   = 0;
    int job_id = -1;
    IoGenerator gen;
    Rng rng;
    std::uint64_t submitted   = 0;
    std::uint64_t completed   = 0;
    std::uint64_t outstanding = 0;
    std::uint64_t backlog     = 0; // arrivals waiting for a free iodepth slot (rate mode)
    int cpu_work              = 0; // submissions and reaps posted to the vCPU and not done: 0 = asleep (loop "fio": 0
                                   // or 1, the call that is running)
    std::uint64_t to_submit = 0;   // loop "fio": I/Os the copy submits next, once the running call has returned
    RequestFifo ready;               // completed, not reaped yet (in the aio/io_uring completion ring)
    // Statistics of the measuring window (the totals above are the job's own bookkeeping: number_ios, conservation).
    Counter window_submitted;
    Counter window_completed;
    Counter wakeups;
  };
  enum Kind { fill = 0, submitted = 1, reaped = 2, arrival = 3, think_done = 4, kinds = 8 };
  /** The copy wants one more I/O in flight: submitted now, or (loop "fio") after the call that is running (false: the
   * job is done submitting). */
  bool issue(std::size_t t);
  /** Whether the copy may start one more I/O now (run time, number_ios), counting `queued` ones not started yet. */
  bool may_submit(const Thread& th, std::uint64_t queued) const;
  /** The submission of one I/O starts on the copy's vCPU (its start time is taken here). */
  bool start_submit(std::size_t t);
  /** The copy reaps `r` on its vCPU (complete_cpu), waking first (wakeup_cpu) if it slept. */
  void reap(std::size_t t, Request* r, bool wake);
  /** Loop "fio": the copy's call has returned: submit what is due, else reap what has completed, else sleep. */
  void next_call(std::size_t t);
  /** Registers the per-copy statistics (once the copies exist). */
  void declare_stats();
  void completed(std::size_t t);
  double next_gap(Thread& th);

  Params p_;
  bool fio_loop_ = false;
  std::vector<int> cpus_;
  std::vector<Thread> threads_;
  GuestVm* vm_       = nullptr;
  Component* target_ = nullptr;
  Simulation* sim_   = nullptr;
  int first_job_id_  = 0;
  Probe<JobEvent> done_;
  Probe<JobEvent> submitted_;
};

} // namespace pvsim
