#include "sim/component.hpp"

#include <stdexcept>

namespace pvsim {

void Component::submit(Request*)
{
  throw std::logic_error("component '" + name_ + "' (" + type_ + ") does not accept requests");
}

void Component::end_io(Request*, double)
{
  throw std::logic_error("component '" + name_ + "' (" + type_ + ") has no end_io handler");
}

Component* Component::port(const std::string& port_name) const
{
  for (const auto& p : ports_)
    if (p.name == port_name)
      return p.resolved;
  return nullptr;
}

void Component::fail(const std::string& what, const std::string& key) const
{
  bool copy = origin_pointer_.rfind("/groups/", 0) == 0; // made by a group: the path is its template's
  throw InputError(origin_file_, origin_pointer_ + (key.empty() ? "" : "/" + pointer_token(key)),
                   copy ? what + " (in its copy '" + name() + "')" : what);
}

} // namespace pvsim
