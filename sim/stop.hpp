/* pvsim: stopping a run early, on SIGINT or SIGTERM.
 *
 * The command line's signal handler calls request_stop(); from then on the event queue runs no event and schedules
 * none, so the simulation winds down at the time reached (threads finish the batch they run, then wait for work that
 * never comes, and SimGrid returns). The run's results then say "complete": false; the command writes nothing (or,
 * with --partial, results marked incomplete) and exits 128 + the signal. request_stop() only stores a sig_atomic_t:
 * it is async-signal-safe. */
#pragma once

#include <csignal>

namespace pvsim {

namespace detail {
extern volatile std::sig_atomic_t stop_signal;
}

/** From a signal handler (or a test): stop the run at the next event. */
inline void request_stop(int signal) noexcept
{
  detail::stop_signal = signal;
}
/** The signal that asked to stop (0: none). */
inline int stop_signal() noexcept
{
  return detail::stop_signal;
}
inline bool stop_requested() noexcept
{
  return detail::stop_signal != 0;
}

} // namespace pvsim
