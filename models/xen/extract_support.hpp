/* pvsim: small helpers shared by the blkif and netif readers of XenStore trees (internal).
 *
 * Models: nothing of Xen itself; path joining, reading a "state" node, and the problem record that strict readers
 * turn into pvsim::InputError and lenient ones into a fallback with a note.
 * Leaves out: everything else. */
#pragma once

#include "models/xen/xenbus.hpp"
#include "models/xen/xenstore.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::xen::detail {

inline std::string child_path(std::string_view dir, std::string_view name)
{
  std::string p(dir);
  if (p.empty() || p.back() != '/')
    p += '/';
  p += name;
  return p;
}

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

/** Reads an unsigned node that must be a number when present: nullopt when absent, a Problem when malformed. */
inline std::optional<unsigned long long> read_number(const XenStore& store, const std::string& path,
                                                     std::optional<Problem>& problem)
{
  if (not store.exists(path))
    return std::nullopt;
  auto n = store.scan_unsigned(path);
  if (not n) {
    problem = Problem{path, "not a number: \"" + store.read(path).value_or("<unreadable>") + "\""};
    return std::nullopt;
  }
  return n;
}

} // namespace pvsim::xen::detail
