#include "sim/fifo_servers.hpp"

namespace pvsim {

void FifoServers::arrive(Request* r)
{
  double now = events_->now();
  r->stage_s = now;
  issued_++;
  probe_.emit({StationEvent::What::arrive, now, r, now});
  if (busy_ < servers_)
    begin(r);
  else
    queue_.push(r);
}

void FifoServers::begin(Request* r)
{
  busy_++;
  double now = events_->now();
  probe_.emit({StationEvent::What::start, now, r, r->stage_s});
  events_->schedule_in(owner_.service_time(r), this, 0, r);
}

void FifoServers::on_event(int, Request* r)
{
  busy_--;
  completed_++;
  probe_.emit({StationEvent::What::depart, events_->now(), r, r->stage_s});
  if (Request* next = queue_.pop())
    begin(next);
  owner_.served(r);
}

Occupancy FifoServers::occupancy() const
{
  return {issued_, completed_, static_cast<std::uint64_t>(busy_) + queue_.size()};
}

} // namespace pvsim
