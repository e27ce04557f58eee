#include "models/xen/blk/grant_table_lock.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace pvsim::xen {

const std::vector<std::string>& GrantTableLock::xen_versions()
{
  static const std::vector<std::string> v{"4.5", "4.6", "4.7"};
  return v;
}

GrantTableLock::Mechanism GrantTableLock::mechanism_of(const std::string& xen, bool on)
{
  if (not on or xen == "4.7")
    return Mechanism::none;
  if (xen == "4.5")
    return Mechanism::spinlock;
  if (xen == "4.6")
    return Mechanism::read_lock_word;
  throw std::invalid_argument("unknown Xen version '" + xen + "'");
}

const char* GrantTableLock::mechanism_name(Mechanism m)
{
  static const char* const names[] = {"none", "spinlock", "read_lock_word"};
  return names[static_cast<int>(m)];
}

GrantTableLock::GrantTableLock(const std::string& guest, Mechanism m, LineCost cost)
    : mechanism_(m),
      // 4.5's byte lock: every waiter spins on the word, as on a ticket lock. 4.6's read-lock word: accesses queue
      // at the line, one transfer per handover.
      lock_(guest + ".grant_table_lock", m == Mechanism::spinlock ? SpinLock::Kind::ticket : SpinLock::Kind::qspinlock,
            cost)
{
  if (m == Mechanism::none)
    throw std::logic_error("no grant table lock to build when nothing is shared");
}

void GrantTableLock::post_dispatch(CpuThread& t, double lead_s, const PersistentGrantTree::MapResult& m, double op_s,
                                   double hold_s, EventTarget* target, int kind, Request* r)
{
  if (m.mapped == 0) {
    t.post(lead_s, target, kind, r);
    return;
  }
  // Each op: its work outside the lock, then the part inside it. An op's lock is its own critical section: the
  // unlocked work between two of them lets the lock go (CpuThread: a batch is all under one lock or none).
  bool spin        = mechanism_ == Mechanism::spinlock;
  unsigned ops     = spin ? m.mapped : m.mapped + m.unmapped;
  double inside    = spin ? hold_s : 0;
  double outside_s = spin ? op_s - hold_s : op_s * m.mapped / static_cast<double>(ops);
  for (unsigned i = 0; i < ops; ++i) {
    bool last = i + 1 == ops;
    t.post((i == 0 ? lead_s : 0) + outside_s, nullptr, 0);
    t.post_locked(&lock_, inside, last ? target : nullptr, last ? kind : 0, last ? r : nullptr);
  }
}

void GrantTableLock::track_stats(StatSet& set, const std::string& prefix, const std::string& xen)
{
  lock_.track_stats(set, prefix);
  set.info(
      prefix + "/xen", [xen] { return xen; }, "Xen version whose grant table locking is modelled");
  set.info(
      prefix + "/mechanism", [this] { return mechanism_name(mechanism_); },
      "what map and unmap ops contend on: spinlock (Xen 4.5: one acquisition per grant, its map and unmap ops' "
      "inside parts; kind ticket stands for the byte lock) or read_lock_word (Xen 4.6: one access per map op and per "
      "unmap op to the rwlock's word, no hold; its line_transfers are the word's moves between cores)");
  set.info(
      prefix + "/backends", [this] { return nlohmann::json(backends_); },
      "the xen.blkback components whose kthreads take this guest's lock");
}

} // namespace pvsim::xen
