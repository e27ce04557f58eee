/* pvsim: what the generic jobs (source.open, source.closed) share: fio's I/O pattern and the accounting of their
 * requests, with no CPU cost (job.fio runs on a guest's vCPUs and pays for submissions and completions).
 * The latency reported is what fio calls lat (submission to completion). */
#pragma once

#include "models/workload/io_pattern.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/probe.hpp"
#include "sim/rng.hpp"
#include "sim/statistics.hpp"

namespace pvsim {

class JobSource : public Component {
public:
  JobSource(std::string name, std::string type, const IoPattern& io);

  bool is_source() const override { return true; }
  bool accepts_requests() const override { return false; }
  void start(Simulation& sim) override;
  void end_io(Request* r, double enter_s) override;
  std::optional<Occupancy> occupancy() const override;
  const Probe<JobEvent>* job_probe() const override { return &done_; }

protected:
  /** Creates and submits one request now; false when the job has stopped (end of run or number_ios). */
  bool issue();
  /** Called after a request of this job completed and was accounted. */
  virtual void completed(double now) = 0;
  bool stopped(double now) const;
  Simulation* sim_ = nullptr;
  Rng rng_;

private:
  IoPattern io_;
  IoGenerator gen_;
  int job_id_                = -1;
  Component* target_         = nullptr;
  std::uint64_t submitted_   = 0; // since the start (number_ios, conservation)
  std::uint64_t completed_   = 0;
  std::uint64_t outstanding_ = 0;
  Counter window_submitted_; // the same, over the window (statistics)
  Counter window_completed_;
  Probe<JobEvent> done_;
};

} // namespace pvsim
