/* pvsim: what the blkif and netif readers of XenStore trees share (internal).
 *
 * Models: nothing of Xen itself; reading "state" and number nodes, the problem record that strict
 * readers turn into pvsim::InputError and lenient ones into a fallback with a note, and the steps both readers take
 * alike: following the frontend's "backend" node, the queue count, the per-queue directories, the single-queue
 * fallback and the notes on keys nobody reads.
 * Leaves out: each device's own keys (rings, features), read by blkif_negotiation.cpp and netif_negotiation.cpp. */
#pragma once

#include "models/xen/xenbus.hpp"
#include "models/xen/xenstore.hpp"
#include "models/xen/xenstore_path.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pvsim::xen::detail {

/** An inconsistency: the path of the offending (or missing) node and what is wrong with it. */
struct Problem {
  std::string where;
  std::string what;
};

/** The xenbus state stored at "<dir>/state"; Unknown (with a note) when missing or not a state. */
inline XenbusState read_state(const XenStore& store, std::string_view dir, std::vector<std::string>& notes)
{
  if (dir.empty())
    return XenbusState::Unknown;
  auto value = store.read(child_path(dir, "state"));
  if (not value) {
    notes.push_back(child_path(dir, "state") + " is missing: state taken as Unknown");
    return XenbusState::Unknown;
  }
  auto state = parse_xenbus_state(*value);
  if (not state) {
    notes.push_back(child_path(dir, "state") + " = \"" + *value + "\" is not a xenbus state: taken as Unknown");
    return XenbusState::Unknown;
  }
  return *state;
}

/** Reads an unsigned node that must be a number when present: nullopt when absent, a Problem when malformed. Reads
 * nothing once `problem` is set, so that several reads can share one check, which then finds the first Problem. */
inline std::optional<unsigned long long> read_number(const XenStore& store, const std::string& path,
                                                     std::optional<Problem>& problem)
{
  if (problem || not store.exists(path))
    return std::nullopt;
  auto n = store.scan_unsigned(path);
  if (not n) {
    problem = Problem{path, "not a number: \"" + store.read(path).value_or("<unreadable>") + "\""};
    return std::nullopt;
  }
  return n;
}

/** Strict readers throw `problem` as pvsim::InputError(source, <where>, <what>); lenient ones carry on. */
inline void raise_if_strict(ExtractMode mode, const std::string& source, const Problem& problem)
{
  if (mode == ExtractMode::strict)
    throw InputError(source, problem.where, problem.what);
}

/** The start of extract_blkif() and extract_netif(): sets the frontend directory of `n` (an error in both modes
 * when it is not in the tree; `device_kind` is "vbd" or "vif"), the backend directory its "backend" node names
 * (left empty, with a note, when missing or not in the tree; an error in strict mode), and both ends' states. */
template <typename Negotiation>
void read_both_ends(const XenStore& store, std::string_view frontend_path, std::string_view device_kind,
                    ExtractMode mode, const std::string& source, Negotiation& n)
{
  std::string fe(frontend_path);
  if (not store.exists(fe))
    throw InputError(source, fe, "no such " + std::string(device_kind) + " frontend directory in the XenStore tree");
  n.frontend_path = fe;

  std::string be = store.read(child_path(fe, "backend")).value_or("");
  if (be.empty()) {
    raise_if_strict(mode, source, {child_path(fe, "backend"), "missing: the frontend names no backend"});
    n.notes.push_back(child_path(fe, "backend") + " is missing: backend features taken as absent");
  } else if (not store.exists(be)) {
    raise_if_strict(mode, source,
                    {be, "backend directory named by " + child_path(fe, "backend") + " is not in the tree"});
    n.notes.push_back("backend directory " + be + " is not in the tree: backend features taken as absent");
    be.clear();
  }
  n.backend_path   = be;
  n.frontend_state = read_state(store, fe, n.notes);
  n.backend_state  = read_state(store, be, n.notes);
}

/** extract_blkif() and extract_netif() up to the device's features: both ends (read_both_ends()), then the queues
 * through `read_queues(store, fe, be, n)`, which returns a Problem or nullopt. A Problem is an error in strict mode;
 * in lenient mode `fall_back(store, fe, be, problem, n)` reads the tree as one queue. */
template <typename Negotiation, typename ReadQueues, typename FallBack>
Negotiation read_ends_and_queues(const XenStore& store, std::string_view frontend_path, std::string_view device_kind,
                                 ExtractMode mode, const std::string& source, ReadQueues&& read_queues,
                                 FallBack&& fall_back)
{
  Negotiation n;
  read_both_ends(store, frontend_path, device_kind, mode, source, n);
  if (auto problem = read_queues(store, n.frontend_path, n.backend_path, n)) {
    raise_if_strict(mode, source, *problem);
    fall_back(store, n.frontend_path, n.backend_path, *problem, n);
  }
  return n;
}

/** The end of extract_blkif() and extract_netif(): a note when the two ends are not both Connected. */
template <typename Negotiation>
void note_if_not_connected(Negotiation& n)
{
  if (not n.connected())
    n.notes.push_back(std::string("not connected: frontend ") + std::string(to_string(n.frontend_state)) +
                      ", backend " + std::string(to_string(n.backend_state)));
}

/** The queues a frontend asks for and the most its backend allows. */
struct QueueCount {
  unsigned requested;
  unsigned max;
};

/** The frontend's multi-queue-num-queues (1 when absent) and the backend's multi-queue-max-queues (1 when absent: an
 * old backend takes one queue; the requested count when there is no backend to ask). Nullopt with `problem` set
 * when either is not a number. The caller checks the one against the other, as each backend words it. */
inline std::optional<QueueCount> read_queue_count(const XenStore& store, const std::string& fe, const std::string& be,
                                                  std::optional<Problem>& problem)
{
  auto requested = read_number(store, child_path(fe, "multi-queue-num-queues"), problem);
  if (problem)
    return std::nullopt;
  QueueCount count{requested ? static_cast<unsigned>(*requested) : 1, 1};
  if (be.empty()) {
    count.max = std::max(count.requested, 1u);
  } else {
    auto max_queues = read_number(store, child_path(be, "multi-queue-max-queues"), problem);
    if (problem)
      return std::nullopt;
    count.max = max_queues ? static_cast<unsigned>(*max_queues) : 1;
  }
  return count;
}

/** The Problem of a frontend asking for more queues than its backend allows (blkback and netback word it alike). */
inline Problem too_many_queues(const std::string& fe, const QueueCount& count)
{
  return Problem{child_path(fe, "multi-queue-num-queues"),
                 "guest requested " + std::to_string(count.requested) + " queues, exceeding the maximum of " +
                     std::to_string(count.max) + " (backend multi-queue-max-queues)"};
}

/** Reads every queue of `queues` with `read_queue(dir, queue)`, which returns a Problem or nullopt: one queue from
 * the frontend directory itself, several from its queue-0, queue-1, ... (a Problem when one is missing). */
template <typename Queue, typename ReadQueue>
std::optional<Problem> read_each_queue(const XenStore& store, const std::string& fe, std::vector<Queue>& queues,
                                       ReadQueue&& read_queue)
{
  const auto num_queues = static_cast<unsigned>(queues.size());
  for (unsigned q = 0; q < num_queues; ++q) {
    std::string dir = num_queues == 1 ? fe : child_path(fe, "queue-" + std::to_string(q));
    if (num_queues > 1 && not store.exists(dir))
      return Problem{dir, "missing: multi-queue-num-queues is " + std::to_string(num_queues)};
    if (auto p = read_queue(dir, queues[q]))
      return p;
  }
  return std::nullopt;
}

/** Notes every queue-N directory of the frontend that a reading of `num_queues` queues does not look at. */
inline void note_unused_queue_directories(const XenStore& store, const std::string& fe, unsigned num_queues,
                                          std::vector<std::string>& notes)
{
  for (auto const& name : store.list(fe)) {
    if (name.rfind("queue-", 0) != 0)
      continue;
    auto idx  = name.substr(6);
    bool used = num_queues > 1 && not idx.empty() && idx.size() < 10 &&
                std::all_of(idx.begin(), idx.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                std::stoul(idx) < num_queues;
    if (not used)
      notes.push_back(child_path(fe, name) + " is ignored with " + std::to_string(num_queues) + " queue(s)");
  }
}

/** Lenient reading of an inconsistent tree: marks `n` as fallen back to one queue, noting `problem`, and takes that
 * queue from the first of the frontend directory and its queue-0 where `take_queue(dir)` succeeds (returns true,
 * having stored the queue in `n`). The caller first resets what else depends on the queue count. */
template <typename Negotiation, typename TakeQueue>
void fall_back_to_one_queue(const std::string& fe, const Problem& problem, Negotiation& n, TakeQueue&& take_queue)
{
  n.fell_back = true;
  n.notes.push_back("inconsistent tree at " + problem.where + ": " + problem.what + "; read as one queue");
  n.num_queues = 1;
  for (const std::string& dir : {fe, child_path(fe, "queue-0")}) {
    if (take_queue(dir)) {
      n.notes.push_back("single queue taken from " + dir);
      return;
    }
  }
  n.notes.push_back("no usable ring keys for a single queue either");
}

/** `extract(frontend_path)` for every frontend of `device_kind` ("vbd", "vif") in the tree,
 * /local/domain/<domid>/device/<device_kind>/<devid>, in tree order. */
template <typename Extract>
auto extract_all(const XenStore& store, std::string_view device_kind, Extract&& extract)
{
  std::vector<std::invoke_result_t<Extract&, std::string>> all;
  for (auto const& domid : store.list("/local/domain")) {
    std::string dir = "/local/domain/" + domid + "/device/" + std::string(device_kind);
    for (auto const& dev : store.list(dir))
      all.push_back(extract(child_path(dir, dev)));
  }
  return all;
}

} // namespace pvsim::xen::detail
