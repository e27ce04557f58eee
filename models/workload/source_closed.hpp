/* pvsim model "source.closed": a closed-loop job, like fio with iodepth N: it keeps N requests in flight, and
 * submits a new one when one completes (after an optional think time, fio's thinktime).
 * Models: the closed loop and fio's I/O pattern. Leaves out: fio's iodepth_batch/iodepth_low submission batching
 * (fio's defaults submit one by one) and the CPU time of submitting, which models of vCPUs add. */
#pragma once

#include "models/workload/job_source.hpp"

namespace pvsim {

struct ClosedSourceParams : IoPattern {
  long long iodepth;
  Distribution think_time;
};

class ClosedSource : public JobSource {
public:
  static constexpr const char* type_name = "source.closed";
  static constexpr const char* summary   = "Closed-loop job: iodepth requests in flight, optional think time.";
  using Params                           = ClosedSourceParams;
  static const ParamTable<Params>& param_table();

  ClosedSource(std::string name, const Params& p);
  void start(Simulation& sim) override;
  void estimate_resources(ResourceEstimate& e) const override;
  void on_event(int kind, Request* r) override;

protected:
  void completed(double now) override;

private:
  Params p_;
};

} // namespace pvsim
