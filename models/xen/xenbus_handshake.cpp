#include "models/xen/xenbus_handshake.hpp"

#include <algorithm>

namespace pvsim::xen {

XenbusHandshake::XenbusHandshake(XenStore& store, std::string frontend_path, std::string backend_path,
                                 std::vector<std::function<void(double)>> steps)
    : store_(store), frontend_state_(XenbusRole::frontend, std::move(frontend_path), XenbusState::Unknown),
      backend_state_(XenbusRole::backend, std::move(backend_path), XenbusState::Unknown), steps_(std::move(steps))
{
}

std::size_t XenbusHandshake::perform_next_step(double time)
{
  const std::size_t step = next_;
  if (step >= steps_.size())
    return steps_.size();
  steps_[step](time);
  if (next_ == step) // not ended by a refusal
    ++next_;
  return step;
}

void XenbusHandshake::run(double start_time, double step)
{
  double t = start_time;
  while (next_ < steps_.size()) {
    perform_next_step(t);
    t += step;
  }
}

void XenbusHandshake::write_entries(const std::string& dir, const XenStoreEntries& entries)
{
  for (auto const& [key, value] : entries)
    store_.write(dir + "/" + key, value);
}

void XenbusHandshake::toolstack_add(const XenStoreEntries& frontend_entries, const XenStoreEntries& backend_entries,
                                    double time)
{
  store_.write(frontend_path() + "/backend", backend_path());
  write_entries(frontend_path(), frontend_entries);
  store_.write(backend_path() + "/frontend", frontend_path());
  write_entries(backend_path(), backend_entries);
  (void)frontend_state_.switch_state(XenbusState::Initialising, time);
  (void)backend_state_.switch_state(XenbusState::Initialising, time);
}

void XenbusHandshake::backend_probed(const XenStoreEntries& features, double time)
{
  write_entries(backend_path(), features);
  (void)backend_state_.switch_state(XenbusState::InitWait, time, store_);
}

void XenbusHandshake::hotplug_script_done(const XenStoreEntries& entries)
{
  write_entries(backend_path(), entries);
  store_.write(backend_path() + "/hotplug-status", "connected");
}

void XenbusHandshake::backend_connected(const XenStoreEntries& entries, double time)
{
  write_entries(backend_path(), entries);
  (void)backend_state_.switch_state(XenbusState::Connected, time, store_);
}

void XenbusHandshake::fatal(XenbusStateMachine& end, std::string error, double time)
{
  abandon(std::move(error));
  (void)end.switch_state(XenbusState::Closing, time, store_);
}

void XenbusHandshake::abandon(std::string error)
{
  errors_.push_back(std::move(error));
  next_ = steps_.size();
}

std::vector<std::pair<double, std::string>> XenbusHandshake::timeline() const
{
  std::vector<std::pair<double, std::string>> out;
  for (const auto& [who, sm] : {std::pair{"frontend", &frontend_state_}, std::pair{"backend", &backend_state_}})
    for (const auto& tr : sm->history())
      out.emplace_back(tr.time, std::string(who) + " " + sm->nodename() + ": " + std::string(to_string(tr.from)) +
                                    " -> " + std::string(to_string(tr.to)));
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

} // namespace pvsim::xen
