/* pvsim: reading the traces that source.replay components replay (`pvsim run`/`pvsim check` on a scenario with one).
 *
 * The command reads each source.replay's "trace" (relative to the scenario file) with analysis/readers/block_trace
 * before the Simulation is built, like job files (fio_workload.hpp), and hands the model compact records
 * (models/workload/replay_trace.hpp): models do not include the readers. A missing, unreadable or wrong-format file is
 * an InputError (exit 2) naming the file and the line, or the component's "trace", before anything is run or written.
 * What becomes an I/O, from the requests block_trace matched (submit_on Q: the request's Q time and CPU, its size after
 * merges; submit_on D: its D time and CPU):
 *   - a bio merged into another request (M/F) is not replayed on its own: its sectors are in the request it joined
 *     (the reader grows the request to its D size), so bytes are kept and the bio count drops ("merged_bio");
 *   - a request without its submission event (opened by G/I/D/C at an excerpt's cut) is skipped
 *     ("no_Q_event"/"no_D_event"), as are completions with no request ("completion_without_request") and events
 *     without a sector, flushes ("flush_or_unsectored_event"), discards ("discard"), requests of no size;
 *   - a request requeued (R) is replayed once: requeues are the traced stack's, the simulated one makes its own
 *     ("requeued", in replayed_with); a request without C (cut at the end) is replayed and left out of the recorded
 *     Q->C latency ("no_completion_in_trace").
 * Formats: blkparse text, the per-request CSV, blktrace's binary files (a file NAME.blktrace.<cpu> brings every
 * NAME.blktrace.* beside it: one per CPU); "auto" looks for blktrace's magic, then the name (.csv, .csv.gz).
 * Times are offsets from the first replayed submission; I/Os are sorted by it (ties in the trace's order). An
 * excerpt made of a tail and a head (blkparse's sequence numbers going back) replays in time order with the gap between
 * its parts kept (the Xen lab's excerpts span 50 s for 12 I/Os). */
#pragma once

#include "sim/scenario.hpp"

namespace pvsim {

/** Reads the trace of every source.replay component of `scenario` and provides it to the model
 * (ReplayTraces::provide). Throws InputError for a trace that cannot be read or holds no I/O. */
void load_replay_traces(const Scenario& scenario);

} // namespace pvsim
