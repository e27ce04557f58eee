/* pvsim: the I/Os a source.replay submits, as the tool layer hands them to the model.
 *
 * A trace file (blkparse text, the per-request CSV) is read by the pvsim command with analysis/readers/block_trace
 * and turned into this compact form before the Simulation is built (analysis/commands/replay_workload.hpp), so that
 * models never include the readers, a trace of millions of I/Os is not copied into the scenario or results.json, and
 * tests can hand a model synthetic I/Os without a file. The store is per process, as a Simulation is (one per
 * process): keyed by the source.replay component's name, filled before the Simulation is built, read by
 * ReplaySource::validate(). */
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvsim {

/** One I/O to replay. */
struct ReplayIo {
  std::int64_t t_ns    = 0; // submission time, from the first I/O of the trace (>= 0, sorted)
  int cpu              = 0; // the CPU the trace recorded it on (Q's CPU, or D's with submit_on D)
  std::uint64_t sector = 0; // 512-byte sectors
  std::uint32_t bytes  = 0;
  bool write           = false;
};

/** Q->C latency of the trace itself (requests with both), to compare with the simulated one. */
struct RecordedLatency {
  std::size_t count = 0;
  double mean_us    = 0;
  double p50_us     = 0;
  double p99_us     = 0;
};

struct ReplayTrace {
  std::string file;
  std::string format;                           // "blkparse" or "csv"
  std::vector<ReplayIo> ios;                    // sorted by t_ns (ties in the trace's order)
  std::map<std::string, std::uint64_t> skipped; // reason -> trace events or requests not replayed
  std::map<std::string, std::uint64_t> notes;   // reason -> requests replayed with a caveat (no C, requeued...)
  RecordedLatency recorded_q_to_c;
  int cpus = 0; // highest recorded CPU + 1
};

/** The traces read for this process's Simulation, by the name of the source.replay component that replays them. */
class ReplayTraces {
public:
  static void provide(const std::string& component, ReplayTrace trace);
  static const ReplayTrace* find(const std::string& component);
  static void clear();
};

} // namespace pvsim
