/* pvsim model "source.replay": replays a block trace's I/Os (time, CPU, sector, size, direction) on a guest.
 *
 * Each I/O is submitted from the vCPU its recorded CPU maps to (cpu_map), so the guest's blk-mq queue map picks the
 * software queue and hctx as it did for the traced process (Linux block/blk-mq.c, __blk_mq_alloc_requests:
 * data->ctx = blk_mq_get_ctx(q), the submitting CPU's software queue, then data->hctx = blk_mq_map_queue() of it). The
 * submission costs submit_cpu on that vCPU (the block layer from the bio to the driver's queue_rq), then the request
 * goes to `target`. Timing modes:
 * - as-recorded: each I/O at its recorded offset from the first, whatever happens to the others (open loop);
 * - scaled: the same with every gap multiplied by time_scale (0.5: twice as fast);
 * - as-fast-as-possible: at most `depth` in flight, the next (in recorded order) submitted when one completes.
 * The latency reported (the job's and "replay/simulated_q_to_c") runs from the submission (the trace's Q, or D with
 * submit_on D) to the completion reaching the source (the trace's C): the same span as the trace's own Q->C, which
 * "replay/recorded_q_to_c" gives beside it. There is no reaping cost: a trace does not say who waited.
 * The trace file is read by the pvsim command (analysis/commands/replay_workload.hpp) and handed over as compact
 * records (models/workload/replay_trace.hpp): models do not read analysis formats. What is replayed and what is
 * skipped (merged bios, flushes, requests without their submission event at an excerpt's cut) is decided there and
 * counted in the results.
 * Leaves out: the traced application's think time and dependencies between I/Os (as-recorded keeps its times, not
 * its causes), the page cache, priorities, and the recorded device's own queueing (the simulated stack has its own). */
#pragma once

#include "models/host/guest_vm.hpp"
#include "models/workload/replay_trace.hpp"
#include "sim/component.hpp"
#include "sim/latency_histogram.hpp"
#include "sim/params.hpp"
#include "sim/statistics.hpp"
#include "sim/stats.hpp"

namespace pvsim {

struct ReplaySourceParams {
  std::string vm;
  std::string target;
  std::string trace;
  std::string format;
  std::string submit_on;
  std::string timing;
  long long depth;
  double time_scale;
  std::string cpu_map;
  bool loop;
  double startdelay_s;
  double submit_cpu_s;
};

class ReplaySource : public Component {
public:
  static constexpr const char* type_name = "source.replay";
  static constexpr const char* summary   = "Replays a blktrace (blkparse text or CSV) on a guest's vCPUs.";
  using Params                           = ReplaySourceParams;
  static const ParamTable<Params>& param_table();

  ReplaySource(std::string name, const Params& p);
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

  /** The vCPU recorded CPU `cpu` is submitted from (valid after validate()). */
  int vcpu_of(int cpu) const;

private:
  enum Kind { next_due = 0, submitted = 1 };
  /** Submits I/O next_ (and moves on); false when nothing is left or the run is over. */
  bool issue();
  /** Sim time at which I/O next_ of the current pass is due (time modes). */
  double due_s() const;
  void declare_stats();

  Params p_;
  const ReplayTrace* trace_ = nullptr;
  std::vector<int> cpu_map_; // explicit map (empty: same)
  GuestVm* vm_                   = nullptr;
  Component* target_             = nullptr;
  Simulation* sim_               = nullptr;
  int job_id_                    = -1;
  std::size_t next_              = 0; // next I/O of the trace
  std::uint64_t pass_            = 0; // loops done
  double pass_ns_                = 0; // length of one pass of the trace in recorded ns
  std::uint64_t submitted_       = 0;
  std::uint64_t completed_       = 0;
  std::uint64_t outstanding_     = 0;
  std::uint64_t max_outstanding_ = 0;
  std::uint64_t bytes_submitted_ = 0;
  double first_submit_s_         = -1;
  double last_complete_s_        = -1;
  std::vector<std::uint64_t> by_vcpu_;
  std::vector<std::string> warnings_;
  LatencyHistogram q_to_c_; // whole run, not windowed: compared with the whole trace
  Counter window_submitted_;
  Counter window_completed_;
  Probe<JobEvent> done_;
};

} // namespace pvsim
