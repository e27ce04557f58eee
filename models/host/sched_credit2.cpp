/* pvsim CPU scheduler "credit2": Xen's default scheduler since 4.12 (xen/common/sched/credit2.c; before 4.13
 * xen/common/sched_credit2.c), as CoreScheduler's policy for a cpu.host whose threads are vCPUs of Xen domains.
 * Facts, from credit2.c (constants and functions named):
 *  - every unit starts with, and is reset to, CSCHED2_CREDIT_INIT = 10 ms of credit; the runqueue is kept in credit
 *    order and the unit with the most credit runs (runq_insert(), csched2_schedule());
 *  - credit burns at 1 per ns for the highest weight of the runqueue and faster for lower weights: burned = time x
 *    max_weight / weight (burn_credits(), t2c_update()); CSCHED2_DEFAULT_WEIGHT = 256;
 *  - when the unit picked next has no credit left (<= CSCHED2_CREDIT_RESET = 0), every unit of the runqueue gets
 *    CSCHED2_CREDIT_INIT more (times the multiplier that brings the picked one above 0), clipped to CREDIT_INIT +
 *    CSCHED2_CARRYOVER_MAX (= CSCHED2_MIN_TIMER, 500 us) (reset_credit());
 *  - a unit runs until its credit would fall to that of the next one in the runqueue, at least CSCHED2_MIN_TIMER
 *    (500 us) and at most CSCHED2_MAX_TIMER (= CREDIT_INIT, 10 ms, in current trees; 2 ms in older ones such as
 *    4.8's sched_credit2.c: the release of the change is unverified), and never less than the ratelimit
 *    (sched_ratelimit_us, SCHED_DEFAULT_RATELIMIT_US = 1000 us) (csched2_runtime(), csched2_schedule());
 *  - a waking unit takes an idle pCPU, else preempts the running unit with the least credit if its own credit is
 *    higher by more than CSCHED2_MIGRATE_RESIST (sched_credit2_migrate_resist, 500 us) and that unit has run longer
 *    than the ratelimit less CSCHED2_RATELIMIT_TICKLE_TOLERANCE (50 us) (runq_tickle(), tickle_score(),
 *    is_preemptable());
 *  - caps: a domain's budget per CSCHED2_BDGT_REPL_PERIOD (sched_credit2_cap_period_ms, 10 ms) is cap x period; a
 *    unit takes budget before it runs and parks when there is none (unit_grab_budget(), park_unit(),
 *    replenish_domain_budget()).
 * Leaves out: load balancing between runqueues (one runqueue per pool here), soft affinity's tickle bonuses,
 * the migration resistance between pCPUs of one runqueue (applied to every preemption), yield bias, SMT. */
#include "sim/core_scheduler.hpp"

#include <algorithm>
#include <cmath>

namespace pvsim {
namespace {

constexpr double credit_init_s        = 10e-3;       // CSCHED2_CREDIT_INIT
constexpr double min_timer_s          = 500e-6;      // CSCHED2_MIN_TIMER
constexpr double max_timer_s          = 10e-3;       // CSCHED2_MAX_TIMER (current trees)
constexpr double carryover_max_s      = min_timer_s; // CSCHED2_CARRYOVER_MAX
constexpr double migrate_resist_s     = 500e-6;      // opt_migrate_resist
constexpr double tickle_tolerance_s   = 50e-6;       // CSCHED2_RATELIMIT_TICKLE_TOLERANCE
constexpr double default_ratelimit_s  = 1e-3;        // SCHED_DEFAULT_RATELIMIT_US
constexpr double default_cap_period_s = 10e-3;       // opt_cap_period

class Credit2 : public SchedPolicy {
public:
  explicit Credit2(const SchedTunables& t)
      : ratelimit_s_(t.ratelimit_s > 0 ? t.ratelimit_s : default_ratelimit_s),
        cap_period_s_(t.cap_period_s > 0 ? t.cap_period_s : default_cap_period_s)
  {
  }
  double default_weight() const override { return 256; }
  void enter(SchedEntity& se, const CoreScheduler&) override { se.key = credit_init_s; }
  void charge(SchedEntity& se, double ran_s, const CoreScheduler& s) override
  {
    se.key -= ran_s * s.max_weight() / se.weight;
  }
  bool before(const SchedEntity& a, const SchedEntity& b) const override { return a.key > b.key; }
  void before_pick(SchedEntity& next, CoreScheduler& s) override
  {
    if (next.key > 0)
      return;
    double m = 1;
    if (next.key < -credit_init_s)
      m += std::floor(-next.key / credit_init_s);
    for (const auto& e : s.entities())
      e->key = std::min(e->key + m * credit_init_s, credit_init_s + carryover_max_s);
  }
  void on_wake(SchedEntity&, const CoreScheduler&) override {}
  double slice_s(const SchedEntity& se, const SchedEntity* next, const CoreScheduler& s) const override
  {
    double rt_credit = se.key;
    if (next != nullptr and next->key > 0)
      rt_credit -= next->key;
    double t = rt_credit <= 0 ? min_timer_s : rt_credit * se.weight / s.max_weight(); // c2t()
    t        = std::clamp(t, min_timer_s, max_timer_s);
    return std::max(t, ratelimit_s_);
  }
  bool preempts(const SchedEntity& waking, const SchedEntity& running, double now_s) const override
  {
    bool preemptable =
        ratelimit_s_ <= tickle_tolerance_s or now_s - running.since_s > ratelimit_s_ - tickle_tolerance_s;
    return preemptable and waking.key - running.key > migrate_resist_s;
  }
  double cap_period_s() const override { return cap_period_s_; }

private:
  double ratelimit_s_;
  double cap_period_s_;
};

PVSIM_REGISTER_SCHED_POLICY(SchedPolicyInfo{
    "credit2",
    "Xen credit2: credit burned by weight, most credit runs, reset at zero; wake-up preemption past the ratelimit; "
    "caps as a budget per 10 ms",
    "xen/common/sched/credit2.c: runq_tickle(), csched2_runtime(), reset_credit(), burn_credits()",
    [](int, const SchedTunables& t) { return std::make_unique<Credit2>(t); }});

} // namespace
} // namespace pvsim
