/* pvsim: the stepping shared by the blkif and netif handshakes (internal).
 *
 * Models: nothing of Xen itself; a handshake is a sequence of steps (an enum class Step listing them in protocol
 * order, `done` last), each performed at a time the caller gives, and a step may end the handshake early (a driver's
 * refusal) by setting the next step to `done`.
 * Leaves out: the steps themselves (blkif_negotiation.cpp, netif_negotiation.cpp). */
#pragma once

namespace pvsim::xen::detail {

/** Performs the step `next` names through `perform(step)` and then moves `next` to the following step, unless the
 * step ended the handshake itself. Returns the step performed, or Step::done (performing nothing) when none was left.
 */
template <typename Step, typename Perform>
Step perform_next_step(Step& next, Perform&& perform)
{
  const Step step = next;
  if (step == Step::done)
    return Step::done;
  perform(step);
  if (next == step) // not ended early by a refusal
    next = static_cast<Step>(static_cast<int>(step) + 1);
  return step;
}

/** Advances `handshake` through all its remaining steps, at start_time, start_time + step, ... */
template <typename Handshake>
void run_remaining_steps(Handshake& handshake, double start_time, double step)
{
  double t = start_time;
  while (handshake.next_step() != Handshake::Step::done) {
    handshake.advance(t);
    t += step;
  }
}

} // namespace pvsim::xen::detail
