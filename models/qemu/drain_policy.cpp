/* pvsim: the drain-policy registry and the three policies (see drain_policy.hpp for the control rules). */
#include "models/qemu/drain_policy.hpp"

#include "sim/named_registry.hpp"

#include <cmath>
#include <deque>
#include <stdexcept>

namespace pvsim {
namespace {
NamedRegistry<DrainPolicyInfo>& policy_registry()
{
  static NamedRegistry<DrainPolicyInfo> registry("drain policy");
  return registry;
}

class NoDrainLimit : public DrainPolicy {
public:
  static constexpr const char* policy_name = "none";
  static constexpr const char* summary     = "QEMU as it is: every request admitted, the stop drains them all.";
  static constexpr const char* param_names = "";
  static constexpr const char* source =
      "QEMU block/io.c bdrv_drain_all_begin() (from system/cpus.c do_vm_stop): waits for every request in flight";
  using DrainPolicy::DrainPolicy;
  const char* name() const override { return policy_name; }

protected:
  bool admit_near_stop(std::uint64_t) const override { return true; }
};

class DepthCap : public DrainPolicy {
public:
  static constexpr const char* policy_name = "depth-cap";
  static constexpr const char* summary =
      "From `lead` before the planned stop, at most `cap` requests in flight: the drain lasts at most ceil(cap/p) s.";
  static constexpr const char* param_names = "lead, cap";
  static constexpr const char* source =
      "pvsim, after QEMU's internship proposal 'AIO Queue Sizing and Bounded Migration Latency' (2020: submit one "
      "request at a time as the switchover approaches, i.e. cap 1); not in QEMU";
  using DrainPolicy::DrainPolicy;
  const char* name() const override { return policy_name; }

protected:
  bool admit_near_stop(std::uint64_t in_flight) const override { return in_flight < p_.cap; }
};

class DrainDeadline : public DrainPolicy {
public:
  static constexpr const char* policy_name = "deadline";
  static constexpr const char* summary =
      "From `lead` before the planned stop, admits while (in_flight+1) x the learnt time between completions fits in "
      "`budget`.";
  static constexpr const char* param_names = "lead, budget, gap_estimate, window";
  static constexpr const char* source =
      "pvsim proposal (issue 19): a drain-time budget from the device's measured completion gaps; not in QEMU";
  explicit DrainDeadline(const DrainPolicyParams& p) : DrainPolicy(p), gap_s_(p.gap_estimate_s) {}
  const char* name() const override { return policy_name; }
  void completed(double now_s, std::uint64_t in_flight) override
  {
    if (not busy_)
      times_.clear(); // a gap that starts with the device idle measures the guest, not the device
    times_.push_back(now_s);
    if (times_.size() > p_.window) {
      times_.pop_front();
      gap_s_ = (times_.back() - times_.front()) / static_cast<double>(p_.window - 1 > 0 ? p_.window - 1 : 1);
    }
    busy_ = in_flight > 0;
  }

protected:
  bool admit_near_stop(std::uint64_t in_flight) const override
  {
    return static_cast<double>(in_flight + 1) * gap_s_ <= p_.budget_s;
  }

private:
  double gap_s_;
  std::deque<double> times_;
  bool busy_ = false;
};

PVSIM_REGISTER_DRAIN_POLICY(NoDrainLimit);
PVSIM_REGISTER_DRAIN_POLICY(DepthCap);
PVSIM_REGISTER_DRAIN_POLICY(DrainDeadline);
} // namespace

DrainPolicyParams DrainPolicyParams::defaults()
{
  DrainPolicyParams p;
  p.lead_s         = 1.0;
  p.cap            = 8;
  p.budget_s       = 0.1;
  p.gap_estimate_s = 1e-4;
  p.window         = 64;
  return p;
}

double drain_time(std::uint64_t in_flight, std::uint64_t parallel, double service_s)
{
  if (parallel == 0)
    throw std::invalid_argument("drain_time: parallel must be at least 1");
  return static_cast<double>((in_flight + parallel - 1) / parallel) * service_s;
}

void register_drain_policy(DrainPolicyInfo info)
{
  policy_registry().add(std::move(info));
}

std::vector<std::string> drain_policy_names()
{
  return policy_registry().names();
}

const DrainPolicyInfo* drain_policy_info(const std::string& name)
{
  return policy_registry().find(name);
}

std::unique_ptr<DrainPolicy> make_drain_policy(const std::string& name, const DrainPolicyParams& p)
{
  return policy_registry().get(name).make(p);
}

} // namespace pvsim
