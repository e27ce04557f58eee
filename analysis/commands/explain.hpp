/* pvsim explain: one request's journey through a scenario's stack, told in sentences with the simulated numbers.
 *
 * It runs the scenario (writing nothing), follows one request (the first submitted after the warm-up, or
 * `--request N`) through every queueing place the models expose (Component::queues(): blk-mq hardware queues and
 * their tags, rings and their slots, virtqueues, event channels, backend queues, AIO engines, devices), and prints:
 * who submitted it (job, vCPU), each place in order with the model that owns it, the hardware queue and tag the
 * request held there, how long it waited and how long it stayed; then where the time went, each instant counted
 * once in the innermost place the request was in (the rest is CPU work, notifications and interrupts between
 * places), a table that adds up to the request's latency.
 * `--summary` averages that table over every request completed after the warm-up (the per-stage breakdown that
 * analysis/latency_breakdown.py draws as stacked bars per configuration).
 * Where a model publishes its requests' steps (sim/path_event.hpp: xen.blkfront/blkback, xen.netfront/netback,
 * virtio.blk, virtio.net), it also tells each step in order: the ring slot and the producer index, whether the push
 * notified the other end or the event index suppressed it (and over which event channel or vector), the backend
 * thread and the place of the request in its pass, the grants found persistent or mapped, the interrupt handler's
 * vCPU; it says how busy the submitting vCPU was before the request reached the block layer and after its response
 * came back, and splits a ring's time in the table by those steps.
 * Left out: the CPU work of each stage item by item (a thread's batches are known, not which item was whose). */
#pragma once

#include <cstdint>
#include <string>

namespace pvsim {

class Simulation;

struct ExplainOptions {
  std::uint64_t request = 0;     // the request's id; 0: the first submitted after the warm-up
  bool summary          = false; // instead: where the time of every request after the warm-up went, on average
  bool json             = false; // the summary as JSON (analysis/latency_breakdown.py reads it)
};

/** Runs `sim` and returns the narration; InputError when the request was never submitted or never completed. */
std::string explain_request(Simulation& sim, const ExplainOptions& options);

} // namespace pvsim
