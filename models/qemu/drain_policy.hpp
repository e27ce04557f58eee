/* pvsim: drain policies of a live migration's switchover (issue 19, part 2), registered by name like the AIO engines
 * (PVSIM_REGISTER_DRAIN_POLICY; no switch over names).
 *
 * At the switchover QEMU stops the vCPUs and drains every disk before it sends the rest of RAM and the device state:
 * migration/migration.c migration_completion() -> migration_stop_vm() -> vm_stop_force_state(RUN_STATE_FINISH_MIGRATE)
 * -> system/cpus.c do_vm_stop() -> bdrv_drain_all() (block/io.c bdrv_drain_all_begin: waits until every request in
 * flight on every BlockDriverState has completed) and bdrv_flush_all(). The drain is part of the downtime, and QEMU's
 * downtime estimate (pending RAM / bandwidth) does not include it: with a slow image and a deep queue the drain alone
 * can exceed downtime-limit. The policies below bound it by limiting what the guest may have in flight shortly before
 * the planned stop (the guest's extra requests wait in the avail ring, which travels with the device state and is
 * served on the destination).
 *
 * Control rules (in_flight = requests handed to the backing device and not completed):
 * - "none": QEMU as it is: admits every request; the drain waits for all of them.
 * - "depth-cap": from `lead` before the planned stop, admits a request only while in_flight < cap.
 * - "deadline": from `lead` before the planned stop, admits a request only while the estimated drain time of
 *   in_flight + 1 requests, (in_flight + 1) x gap, fits within `budget`; gap is the mean time between the last `window`
 *   completions while the device stayed busy (`gap_estimate` until there are that many; an exponentially weighted
 *   mean was tried first and followed the bursts of a multi-channel device too closely):
 *   the device's throughput as QEMU can see it (its latencies include the device's own queueing, so a latency mean
 *   would overestimate a deep queue's drain by the queue's depth: a first version did that and stalled the guest).
 * The drain of d requests on a device of parallelism p and fixed service s lasts ceil(d / p) * s (drain_time()).
 * This is a pvsim proposal, not a QEMU mechanism: QEMU has no such throttle (unverified whether a patch proposed one).
 */
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pvsim {

/** The policies' parameters; every policy reads the fields it has a use for. */
struct DrainPolicyParams {
  double lead_s;         // depth-cap, deadline: how long before the planned stop the rule applies
  std::uint64_t cap;     // depth-cap: most requests in flight
  double budget_s;       // deadline: the drain time allowed (a share of downtime-limit)
  double gap_estimate_s; // deadline: estimate of the time between completions until `window` are seen
  std::uint64_t window;  // deadline: completions the estimate averages over
  /** The defaults (the future qemu.migration ParamTable takes them over; here, once). */
  static DrainPolicyParams defaults();
};

class DrainPolicy {
public:
  explicit DrainPolicy(const DrainPolicyParams& p) : p_(p) {}
  virtual ~DrainPolicy()           = default;
  virtual const char* name() const = 0;
  /** May a new request be handed to the device now? `now_s` and `stop_s` (the planned stop) in simulated seconds. */
  bool admit(std::uint64_t in_flight, double now_s, double stop_s) const
  {
    return now_s < stop_s - p_.lead_s || admit_near_stop(in_flight);
  }
  /** A request completed at `now_s`, leaving `in_flight` at the device (the deadline policy learns the throughput). */
  virtual void completed(double /*now_s*/, std::uint64_t /*in_flight*/) {}
  const DrainPolicyParams& params() const { return p_; }

protected:
  virtual bool admit_near_stop(std::uint64_t in_flight) const = 0;
  DrainPolicyParams p_;
};

/** Time to drain `in_flight` requests on a device serving `parallel` at once, each in `service_s`: ceil(d/p) s. */
double drain_time(std::uint64_t in_flight, std::uint64_t parallel, double service_s);

struct DrainPolicyInfo {
  std::string name;
  std::string summary;
  std::string params; // the parameters it reads, for `pvsim models`
  std::string source; // where the rule comes from (QEMU code, a proposal, pvsim)
  std::function<std::unique_ptr<DrainPolicy>(const DrainPolicyParams&)> make;
};

void register_drain_policy(DrainPolicyInfo info);
/** Registered policy names, sorted. */
std::vector<std::string> drain_policy_names();
/** The policy registered as `name`; std::invalid_argument naming the known ones otherwise. */
std::unique_ptr<DrainPolicy> make_drain_policy(const std::string& name, const DrainPolicyParams& p);
const DrainPolicyInfo* drain_policy_info(const std::string& name);

template <class P>
struct DrainPolicyRegistrar {
  DrainPolicyRegistrar()
  {
    register_drain_policy({P::policy_name, P::summary, P::param_names, P::source, [](const DrainPolicyParams& p) {
                             return std::unique_ptr<DrainPolicy>(std::make_unique<P>(p));
                           }});
  }
};

} // namespace pvsim

/** Registers policy class P (static constexpr const char* policy_name, summary, param_names, source; P(const
 * DrainPolicyParams&)) from its own .cpp. */
#define PVSIM_REGISTER_DRAIN_POLICY(P) static const ::pvsim::DrainPolicyRegistrar<P> pvsim_drain_policy_registrar_##P
