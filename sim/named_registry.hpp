/* pvsim: a registry of named alternatives of one kind (AIO engines, AIO sizing policies, blk-mq queue map policies,
 * drain policies): name -> Info, filled at static initialisation by a model's registrar, read by the factories and by
 * `pvsim models`. One template instead of one hand-written map per kind (no switch over names anywhere).
 * Info must have a `std::string name` member. */
#pragma once

#include "sim/input_error.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace pvsim {

template <class Info>
class NamedRegistry {
public:
  /** `what` names the kind in messages: "AIO engine", "drain policy". */
  explicit NamedRegistry(std::string what) : what_(std::move(what)) {}

  /** std::logic_error when the name is taken (two registrars with one name: a programming error). */
  void add(Info info)
  {
    std::string name = info.name;
    if (not entries_.emplace(name, std::move(info)).second)
      throw std::logic_error(what_ + " '" + name + "' registered twice");
  }
  /** Registered names, sorted. */
  std::vector<std::string> names() const
  {
    std::vector<std::string> out;
    for (const auto& [name, info] : entries_)
      out.push_back(name);
    return out;
  }
  /** The entry, or nullptr. */
  const Info* find(const std::string& name) const
  {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }
  /** What an unknown name gets told: "unknown drain policy 'x' (did you mean 'y'?); known: a, b". */
  std::string unknown(const std::string& name) const
  {
    std::string known;
    for (const auto& n : names())
      known += (known.empty() ? "" : ", ") + n;
    return "unknown " + what_ + " '" + name + "'" + did_you_mean(name, names()) + "; known: " + known;
  }
  /** The entry; std::invalid_argument with unknown()'s message otherwise (input is checked before, by a ParamTable
   * choice or an InputError: reaching this is a programming error or a direct call from a test). */
  const Info& get(const std::string& name) const
  {
    if (const Info* info = find(name))
      return *info;
    throw std::invalid_argument(unknown(name));
  }
  const std::map<std::string, Info>& entries() const { return entries_; }

private:
  std::string what_;
  std::map<std::string, Info> entries_;
};

} // namespace pvsim
