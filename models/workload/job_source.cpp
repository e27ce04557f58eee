#include "models/workload/job_source.hpp"

#include "sim/simulation.hpp"

namespace pvsim {

JobSource::JobSource(std::string name, std::string type, const IoPattern& io)
    : Component(std::move(name), std::move(type)), io_(io), gen_(io)
{
  stats().add("/submitted", window_submitted_, "requests", "requests the job submitted");
  stats().add("/completed", window_completed_, "requests", "requests of the job that completed");
}

void JobSource::start(Simulation& sim)
{
  sim_    = &sim;
  rng_    = sim.rng("job:" + name());
  job_id_ = sim.register_job();
  target_ = port("target");
}

bool JobSource::stopped(double now) const
{
  return now >= sim_->duration_s() or (io_.number_ios > 0 and submitted_ >= static_cast<std::uint64_t>(io_.number_ios));
}

bool JobSource::issue()
{
  double now = sim_->events().now();
  if (stopped(now))
    return false;
  Request* r = sim_->pool().get();
  r->job     = job_id_;
  gen_.fill(r, rng_);
  r->submit_s = now;
  r->push_end_io(this, now);
  submitted_++;
  ++window_submitted_;
  outstanding_++;
  target_->submit(r);
  return true;
}

void JobSource::end_io(Request* r, double)
{
  double now = sim_->events().now();
  completed_++;
  ++window_completed_;
  outstanding_--;
  done_.emit({now, r});
  sim_->pool().put(r);
  completed(now);
}

std::optional<Occupancy> JobSource::occupancy() const
{
  return Occupancy{submitted_, completed_, outstanding_};
}

} // namespace pvsim
