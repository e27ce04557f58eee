#include "sim/core_scheduler.hpp"

#include <algorithm>
#include <limits>

namespace pvsim {

namespace {
constexpr double eps_s = 1e-12; // below a picosecond, a slice or a budget is spent
}

NamedRegistry<SchedPolicyInfo>& sched_policies()
{
  static NamedRegistry<SchedPolicyInfo> r("CPU scheduler");
  return r;
}

CoreScheduler::CoreScheduler(int cores, std::unique_ptr<SchedPolicy> policy, EventQueue& events, double switch_cost_s,
                             Counter& switches, SchedStats& stats)
    : cores_(cores), policy_(std::move(policy)), events_(events), switch_cost_s_(switch_cost_s), switches_(switches),
      on_core_(static_cast<std::size_t>(cores), nullptr), last_on_core_(static_cast<std::size_t>(cores), nullptr),
      stats_(stats)
{
}

SchedEntity* CoreScheduler::add(SchedClient* client, std::string name, double weight, int group)
{
  auto se     = std::make_unique<SchedEntity>();
  se->id      = static_cast<int>(entities_.size());
  se->client  = client;
  se->name    = std::move(name);
  se->group   = group;
  se->weight  = weight > 0 ? weight : policy_->default_weight();
  max_weight_ = std::max(max_weight_, se->weight);
  policy_->enter(*se, *this);
  entities_.push_back(std::move(se));
  return entities_.back().get();
}

CoreScheduler::Group& CoreScheduler::group(int g)
{
  if (static_cast<std::size_t>(g) >= groups_.size())
    groups_.resize(static_cast<std::size_t>(g) + 1);
  return groups_[static_cast<std::size_t>(g)];
}

void CoreScheduler::set_cap(int g, double cores)
{
  Group& gr    = group(g);
  gr.cap_cores = cores;
  gr.budget_s  = cores * policy_->cap_period_s();
  if (cores > 0 and not timer_armed_) {
    timer_armed_ = true;
    events_.schedule_in(policy_->cap_period_s(), this, 0);
  }
}

bool CoreScheduler::capped(const SchedEntity& se) const
{
  auto g = static_cast<std::size_t>(se.group);
  return g < groups_.size() and groups_[g].cap_cores > 0;
}

void CoreScheduler::return_budget(SchedEntity& se)
{
  if (capped(se))
    group(se.group).budget_s += std::max(se.grabbed_s, 0.0);
  se.grabbed_s = 0;
}

bool CoreScheduler::ordered(const SchedEntity& a, const SchedEntity& b) const
{
  if (policy_->before(a, b))
    return true;
  if (policy_->before(b, a))
    return false;
  return a.id < b.id;
}

int CoreScheduler::best_queued() const
{
  int best = -1;
  for (std::size_t i = 0; i < queue_.size(); ++i)
    if (best < 0 or ordered(*queue_[i], *queue_[static_cast<std::size_t>(best)]))
      best = static_cast<int>(i);
  return best;
}

double CoreScheduler::lowest_runnable_key(double fallback) const
{
  const SchedEntity* low = nullptr;
  for (const SchedEntity* se : on_core_)
    if (se != nullptr and (low == nullptr or policy_->before(*se, *low)))
      low = se;
  for (const SchedEntity* se : queue_)
    if (low == nullptr or policy_->before(*se, *low))
      low = se;
  return low != nullptr ? low->key : fallback;
}

void CoreScheduler::enqueue(SchedEntity& se)
{
  se.state   = SchedEntity::State::queued;
  se.since_s = now();
  queue_.push_back(&se);
}

SchedEntity* CoreScheduler::pop(int index)
{
  SchedEntity* se = queue_[static_cast<std::size_t>(index)];
  queue_.erase(queue_.begin() + index);
  return se;
}

void CoreScheduler::update(SchedEntity& se)
{
  if (se.state != SchedEntity::State::running)
    return;
  double ran = now() - se.charged_to_s;
  if (ran <= 0)
    return;
  policy_->charge(se, ran, *this);
  se.ran_s += ran;
  se.charged_to_s = now();
  if (capped(se)) {
    se.grabbed_s -= ran;
    if (se.grabbed_s < 0) { // ran past what it took (a batch's tail): the group's pool pays
      group(se.group).budget_s += se.grabbed_s;
      se.grabbed_s = 0;
    }
  }
}

double CoreScheduler::left_s(SchedEntity& se)
{
  update(se);
  double left = se.slice_s - se.ran_s;
  if (capped(se)) {
    Group& g = group(se.group);
    if (se.grabbed_s <= eps_s and g.budget_s > 0) { // unit_grab_budget(): take what this run may use
      double grab = std::min(g.budget_s, std::max(left, 0.0));
      g.budget_s -= grab;
      se.grabbed_s = grab;
    }
    left = std::min(left, se.grabbed_s);
  }
  return left > eps_s ? left : 0.0; // less than the clock can add to the time: spent
}

void CoreScheduler::dispatch(SchedEntity& se, int core, bool switching)
{
  if (se.state == SchedEntity::State::queued)
    stats_.wait_s += now() - se.since_s;
  se.state                                 = SchedEntity::State::running;
  se.core                                  = core;
  se.since_s                               = now();
  se.charged_to_s                          = now();
  se.ran_s                                 = 0;
  on_core_[static_cast<std::size_t>(core)] = &se;
  ++nr_running_;
  int next           = best_queued();
  se.slice_s         = policy_->slice_s(se, next < 0 ? nullptr : queue_[static_cast<std::size_t>(next)], *this);
  SchedEntity*& last = last_on_core_[static_cast<std::size_t>(core)];
  double cost        = 0;
  if (switching and last != nullptr and last != &se and switch_cost_s_ > 0) {
    cost = switch_cost_s_;
    ++switches_;
  }
  last = &se;
  se.client->dispatched(cost);
}

int CoreScheduler::leave_core(SchedEntity& se)
{
  update(se);
  int core                                 = se.core;
  on_core_[static_cast<std::size_t>(core)] = nullptr;
  se.core                                  = -1;
  --nr_running_;
  return_budget(se);
  return core;
}

void CoreScheduler::pick(int core, bool switching)
{
  if (on_core_[static_cast<std::size_t>(core)] != nullptr)
    return; // taken meanwhile (a wake-up during the last thread's way off the core)
  int best = best_queued();
  if (best < 0)
    return; // the core idles
  SchedEntity* se = pop(best);
  policy_->before_pick(*se, *this);
  dispatch(*se, core, switching);
}

void CoreScheduler::take_core(SchedEntity& se, bool park)
{
  int core = leave_core(se);
  if (park) {
    se.state   = SchedEntity::State::parked;
    se.since_s = now();
    runnable_weight_ -= se.weight;
    group(se.group).parked.push_back(&se);
  } else {
    enqueue(se);
  }
  se.client->descheduled();
  (void)core;
}

void CoreScheduler::wake(SchedEntity& se)
{
  if (se.state != SchedEntity::State::blocked)
    return;
  policy_->on_wake(se, *this);
  make_runnable(se);
}

void CoreScheduler::make_runnable(SchedEntity& se)
{
  if (capped(se) and group(se.group).budget_s <= eps_s) {
    se.state   = SchedEntity::State::parked;
    se.since_s = now();
    group(se.group).parked.push_back(&se);
    return;
  }
  runnable_weight_ += se.weight;
  // An idle core: the one it ran on last if idle (its cache), else the first.
  int idle = -1;
  for (int c = 0; c < cores_; ++c)
    if (on_core_[static_cast<std::size_t>(c)] == nullptr) {
      if (idle < 0 or last_on_core_[static_cast<std::size_t>(c)] == &se)
        idle = c;
    }
  if (idle >= 0) {
    se.state = SchedEntity::State::blocked; // not queued: no wait to count
    dispatch(se, idle, false);
    return;
  }
  // Wake-up preemption: the running thread that would run last, if the policy lets the waking one take its core.
  SchedEntity* victim = nullptr;
  for (SchedEntity* r : on_core_) {
    update(*r);
    if (victim == nullptr or ordered(*victim, *r))
      victim = r;
  }
  if (victim != nullptr and policy_->preempts(se, *victim, now())) {
    int core = victim->core;
    take_core(*victim, false);
    ++stats_.wakeup_preemptions;
    se.state = SchedEntity::State::blocked;
    dispatch(se, core, true);
    return;
  }
  enqueue(se);
}

void CoreScheduler::block(SchedEntity& se)
{
  if (se.state != SchedEntity::State::running)
    return;
  int core   = leave_core(se);
  se.state   = SchedEntity::State::blocked;
  se.since_s = now();
  runnable_weight_ -= se.weight;
  pick(core, true);
}

void CoreScheduler::slice_expired(SchedEntity& se)
{
  if (se.state != SchedEntity::State::running)
    return;
  update(se);
  if (capped(se) and se.grabbed_s <= eps_s and group(se.group).budget_s <= eps_s) { // park_unit()
    int core = se.core;
    take_core(se, true);
    pick(core, true);
    return;
  }
  if (se.ran_s < se.slice_s - eps_s)
    return; // not over (a capped run took more budget): it goes on
  int best          = best_queued();
  SchedEntity* next = &se;
  if (best >= 0 and ordered(*queue_[static_cast<std::size_t>(best)], se))
    next = queue_[static_cast<std::size_t>(best)];
  policy_->before_pick(*next, *this);
  // Credits reset: the order may have changed; look again.
  best = best_queued();
  if (best >= 0 and ordered(*queue_[static_cast<std::size_t>(best)], se)) {
    int core = se.core;
    take_core(se, false);
    ++stats_.slice_switches;
    pick(core, true);
    return;
  }
  // It keeps the core for another slice.
  se.ran_s   = 0;
  se.slice_s = policy_->slice_s(se, best < 0 ? nullptr : queue_[static_cast<std::size_t>(best)], *this);
}

void CoreScheduler::on_event(int, Request*)
{
  // The caps' replenishment: every capped group gets its budget back (not more: leftovers do not pile up), and
  // the threads parked for it become runnable.
  double period = policy_->cap_period_s();
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    Group& gr = groups_[g];
    if (gr.cap_cores <= 0)
      continue;
    gr.budget_s = gr.cap_cores * period;
    std::vector<SchedEntity*> parked;
    parked.swap(gr.parked);
    for (SchedEntity* se : parked) {
      stats_.parked_s += now() - se->since_s;
      se->state = SchedEntity::State::blocked;
      make_runnable(*se);
    }
  }
  events_.schedule_in(period, this, 0);
}

} // namespace pvsim
