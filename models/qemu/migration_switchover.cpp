/* pvsim: the switchover's event model (see migration_switchover.hpp). */
#include "models/qemu/migration_switchover.hpp"

#include <cmath>
#include <deque>
#include <queue>
#include <random>
#include <stdexcept>
#include <vector>

namespace pvsim {
namespace {
struct Done {
  double at;
  std::uint64_t seq;
  bool operator>(const Done& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};
} // namespace

SwitchoverResult run_switchover(const SwitchoverSetup& s)
{
  if (s.parallel == 0 || s.depth == 0 || s.service_s <= 0 || s.stop_s < 0 || s.end_s < s.stop_s)
    throw std::invalid_argument("switchover: depth, parallel, service must be positive and stop <= end");
  auto policy = make_drain_policy(s.policy, s.policy_params);
  std::mt19937_64 rng(s.seed);
  std::lognormal_distribution<double> factor(-0.5 * s.jitter * s.jitter, s.jitter);

  SwitchoverResult r;
  std::priority_queue<Done, std::vector<Done>, std::greater<>> in_service;
  std::deque<double> device_fifo; // admitted, waiting for a channel (admission times)
  std::deque<double> ring;        // in the avail ring, not admitted (times they entered)
  std::uint64_t in_flight = 0, seq = 0, drained = 0;
  double now   = 0;
  bool stopped = false, resumed = false;
  double resume_at = INFINITY; // set when the drain is over

  auto service        = [&] { return s.jitter > 0 ? s.service_s * factor(rng) : s.service_s; };
  auto start_channels = [&] {
    while (in_service.size() < s.parallel && not device_fifo.empty()) {
      in_service.push({now + service(), seq++});
      device_fifo.pop_front();
    }
  };
  auto admit_from_ring = [&] {
    while (not ring.empty() && (resumed || policy->admit(in_flight, now, s.stop_s))) {
      if (not resumed)
        r.held_wait_s += now - ring.front();
      ring.pop_front();
      device_fifo.push_back(now);
      ++in_flight;
    }
    start_channels();
  };
  auto guest_submit = [&] {
    if (stopped && not resumed)
      r.vcpus_ran_during_downtime = true;
    ++r.submitted;
    ring.push_back(now);
    admit_from_ring();
  };

  for (std::uint64_t i = 0; i < s.depth; ++i)
    guest_submit();
  for (;;) {
    double next_done = in_service.empty() ? INFINITY : in_service.top().at;
    double next_ctl  = not stopped ? s.stop_s : (not resumed ? resume_at : INFINITY);
    // the depth-cap and deadline rules start at stop - lead: re-check the ring then
    double lead_at = s.stop_s - s.policy_params.lead_s;
    if (not stopped && now < lead_at)
      next_ctl = std::min(next_ctl, lead_at);
    double t = std::min(next_done, next_ctl);
    if (t > s.end_s)
      break;
    now = t;
    if (next_done <= next_ctl) {
      in_service.pop();
      --in_flight;
      policy->completed(now, in_flight);
      start_channels();
      if (stopped && not resumed) { // the drain: completions wait in the used ring, the guest does not see them yet
        ++r.completed_source;
        ++drained;
        if (in_flight == 0) {
          r.drain_s    = now - s.stop_s;
          r.downtime_s = r.drain_s + s.transfer_s;
          resume_at    = now + s.transfer_s;
        }
        continue;
      }
      if (resumed)
        ++r.completed_dest;
      else {
        ++r.completed_source;
        if (now >= s.stop_s - s.policy_params.lead_s)
          ++r.completed_in_lead;
      }
      guest_submit();
    } else if (not stopped && now < s.stop_s) {
      admit_from_ring(); // the lead window opens: nothing to admit earlier than the rule, but keep the loop moving
    } else if (not stopped) {
      stopped             = true;
      r.in_flight_at_stop = in_flight;
      r.held_at_stop      = ring.size();
      if (in_flight == 0) {
        r.downtime_s = s.transfer_s;
        resume_at    = now + s.transfer_s;
      }
    } else {
      resumed = true; // the destination: the ring's requests first, then every drained completion resubmits
      admit_from_ring();
      for (std::uint64_t i = 0; i < drained; ++i)
        guest_submit(); // the guest takes the completions left in the used ring and resubmits
    }
  }
  r.in_flight_at_end = in_flight + ring.size();
  if (r.submitted != r.completed_source + r.completed_dest + r.in_flight_at_end)
    throw std::logic_error("switchover: requests not accounted for");
  return r;
}

} // namespace pvsim
