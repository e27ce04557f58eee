/* pvsim model "source.open": an open-loop job. Requests arrive at a given rate whatever happens to the earlier
 * ones, as a Poisson process or at fixed intervals (fio's rate_iops with rate_process=poisson or linear).
 * Models: the arrival process and fio's I/O pattern. Leaves out: fio's rate catch-up and iodepth cap (an open
 * source may hold any number of requests in flight: use source.closed for fio's iodepth). */
#pragma once

#include "models/workload/job_source.hpp"

namespace pvsim {

struct OpenSourceParams : IoPattern {
  double rate_iops;
  std::string arrival;
};

class OpenSource : public JobSource {
public:
  static constexpr const char* type_name = "source.open";
  static constexpr const char* summary   = "Open-loop job: Poisson or fixed-rate arrivals (fio rate_iops).";
  using Params                           = OpenSourceParams;
  static const ParamTable<Params>& param_table();

  OpenSource(std::string name, const Params& p);
  void start(Simulation& sim) override;
  void estimate_resources(ResourceEstimate& e) const override;
  void on_event(int kind, Request* r) override;

protected:
  void completed(double) override {}

private:
  double next_gap();
  Params p_;
};

} // namespace pvsim
