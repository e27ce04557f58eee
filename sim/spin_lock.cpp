#include "sim/spin_lock.hpp"

#include <stdexcept>

namespace pvsim {

const std::vector<std::string>& SpinLock::kind_names()
{
  static const std::vector<std::string> names{"ticket", "qspinlock"};
  return names;
}

SpinLock::Kind SpinLock::kind_of(const std::string& name)
{
  if (name == "ticket")
    return Kind::ticket;
  if (name == "qspinlock")
    return Kind::qspinlock;
  throw std::invalid_argument("unknown spinlock kind '" + name + "'");
}

bool SpinLock::acquire(LockWaiter* who, double now, double* cost_s)
{
  if (holder_ == nullptr) {
    ++acquisitions_;
    holder_       = who;
    held_since_s_ = now;
    double one    = come_to(who->place());
    *cost_s       = one * static_cast<double>(1 + data_lines_);
    return true;
  }
  ++contended_;
  waiting_.push_back({who, now});
  max_waiters_.sample(static_cast<double>(waiting_.size()));
  *cost_s = 0;
  return false;
}

double SpinLock::come_to(CorePlace to)
{
  // The data the lock protects was last written on the previous holder's core: the new holder fetches it with the
  // lock word (one transfer each, none from the same core).
  double one = word_.write(to, cost_);
  if (one > 0)
    data_transfers_ += static_cast<std::uint64_t>(data_lines_);
  return one;
}

double SpinLock::release(double now)
{
  hold_s_ += now - held_since_s_;
  if (waiting_.empty()) {
    holder_ = nullptr;
    return 0;
  }
  Waiting next      = waiting_.front();
  std::size_t spins = waiting_.size(); // the waiters spinning when the word changes
  waiting_.pop_front();
  // The next owner fetches the line from the releaser: one transfer. A ticket lock's release is seen by every
  // spinning waiter, and their re-reads are served one after the other; the next owner is among them, on average
  // in the middle: (spins + 1) / 2 transfers (Boyd-Wickizer et al.: the handoff grows linearly with the waiters).
  double one     = come_to(next.who->place());
  double handoff = kind_ == Kind::ticket ? one * static_cast<double>(spins + 1) / 2 : one;
  if (kind_ == Kind::ticket and spins > 1 and one > 0)
    word_.stat_transfers() += spins - 1;
  double data = one * static_cast<double>(data_lines_);
  // A paravirtual waiter that spun past the threshold is blocked: the releaser kicks it, and the lock waits for its
  // vCPU to run again. It burned CPU only while it spun.
  double waited = now - next.since_s;
  bool blocked  = pv_.enabled and waited > pv_.spin_threshold_s;
  double delay  = handoff + data + (blocked ? pv_.wake_s : 0);
  double burned = (blocked ? pv_.spin_threshold_s : waited) + handoff + data;
  double kick   = blocked ? pv_.kick_s : 0;
  if (blocked)
    ++kicks_;
  ++acquisitions_;
  holder_       = next.who;
  held_since_s_ = now + delay;
  wait_s_ += now + delay - next.since_s;
  next.who->lock_granted(delay, burned);
  return kick;
}

void SpinLock::track_stats(StatSet& set, const std::string& prefix)
{
  set.add(prefix + "/acquisitions", acquisitions_, "acquisitions",
          "times the lock was taken (a waiter counts once it holds it)");
  set.add(prefix + "/contended", contended_, "acquisitions", "acquisitions that found the lock held and spun");
  set.add(prefix + "/wait_s", wait_s_, "s", "CPU time spent spinning for the lock, handovers included");
  set.add(prefix + "/hold_s", hold_s_, "s", "time the lock was held");
  set.add(prefix + "/line_transfers", word_.stat_transfers(), "transfers",
          "lock-word cache-line transfers between cores (acquisitions from another core, ticket handovers)");
  set.add(prefix + "/max_waiters", max_waiters_, "threads", "most threads spinning at once");
  if (pv_.enabled)
    set.add(prefix + "/pv_kicks", kicks_, "kicks",
            "waiters that had blocked their vCPU (paravirtual spinlock) and were kicked at their turn");
  if (data_lines_ > 0)
    set.add(prefix + "/data_line_transfers", data_transfers_, "transfers",
            "cache lines of the protected data fetched by a holder from the previous holder's core");
  set.info(
      prefix + "/kind", [this] { return kind_names()[static_cast<std::size_t>(kind_)]; }, "spinlock implementation");
}

} // namespace pvsim
