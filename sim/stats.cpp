/* pvsim: restarting and writing a statistic of any kind (sim/stats.hpp). */
#include "sim/stats.hpp"

namespace pvsim {

namespace {

/** Calls f with the statistic as its own kind. */
template <class F>
decltype(auto) visit(Stat::Kind kind, Stat* s, F&& f)
{
  switch (kind) {
  case Stat::Kind::counter:
    return f(*static_cast<Counter*>(s));
  case Stat::Kind::sum:
    return f(*static_cast<Sum*>(s));
  case Stat::Kind::maximum:
    return f(*static_cast<Maximum*>(s));
  case Stat::Kind::peak:
    return f(*static_cast<Peak*>(s));
  case Stat::Kind::level:
    return f(*static_cast<Level*>(s));
  case Stat::Kind::tally:
    return f(*static_cast<Tally*>(s));
  case Stat::Kind::formula:
    return f(*static_cast<Formula*>(s));
  case Stat::Kind::info:
    break;
  }
  return f(*static_cast<Info*>(s));
}

} // namespace

void StatRef::restart(double now) const
{
  visit(kind_, stat_, [now](auto& s) { s.restart(now); });
}

nlohmann::json StatRef::value(const StatWindow& w) const
{
  return visit(kind_, stat_, [&w](const auto& s) { return s.value(w); });
}

} // namespace pvsim
