/* pvsim: block-layer traces, as per-request stage times.
 *
 * Reads (a) blkparse's default text output (`  8,0    1        1     0.000000000  1234  Q   R 123456 + 8 [fio]`):
 * actions Q (queued), G (get request), I (inserted in the scheduler), D (issued to the driver), C (completed) are
 * matched into requests by (device, sector) in order; M/F (merges) fold a queued bio into an existing request, R
 * (requeue) reopens the issue; other actions (P, U, X, A, B, S, T, m, ...) are counted and skipped, as are lines
 * that are not events (blkparse's per-CPU and total summaries, "Input file ... added", banners). A per-CPU
 * sequence number going backwards starts a new segment (excerpts made of a tail and a head): requests open at
 * the cut are kept as partial and counted. (b) The CSV of per-request block tracepoint times (q_s, i_s, d_s, c_s,
 * sector, nr_sector, rwbs, comm, q_cpu, d_cpu, c_cpu; optional g_s, dev), an empty cell meaning "not seen".
 * Both may be gzip-compressed. (c) blktrace's binary per-CPU files (`blktrace -o NAME` writes NAME.blktrace.<cpu>):
 * records of struct blk_io_trace (Linux include/uapi/linux/blktrace_api.h: magic, sequence, time ns, sector, bytes,
 * action = category bits << 16 | action code, pid, device, cpu, error, pdu_len, then pdu_len bytes), merged over the
 * files by time and matched as blkparse's lines are; notify records are skipped except process names (comm).
 * Left out: events without a sector (flushes "Q FWS [..]", SCSI passthrough; in binary files, records of 0 bytes),
 * remap chains (A is skipped, so a stacked device's requests are matched per device), blkparse's -f custom formats.
 *
 * Times are integer nanoseconds as traced (blkparse prints ns; the CSV has µs resolution). Statistics are in ns. */
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::readers {

enum class BlockStage { queue = 0, get = 1, insert = 2, issue = 3, complete = 4 };

/** "Q", "G", "I", "D", "C". */
const char* stage_letter(BlockStage s);

struct BlockRequest {
  std::string device; // "8,0" in blkparse; "" in the CSV (one device, not named) unless it has `dev`
  std::uint64_t sector     = 0;
  std::uint32_t nr_sectors = 0;
  std::string rwbs; // "R", "RS", "WM", ...
  std::string comm; // process that queued it (blkparse: of the first event seen; C shows an error code)
  std::optional<std::int64_t> time_ns[5]; // indexed by BlockStage; empty when the stage was not seen
  int q_cpu = -1, d_cpu = -1, c_cpu = -1; // -1 when unknown
  int requeues = 0;

  bool has(BlockStage s) const { return time_ns[static_cast<int>(s)].has_value(); }
  std::int64_t at(BlockStage s) const { return *time_ns[static_cast<int>(s)]; }
  /** to - from in ns, or nullopt if either stage is missing. */
  std::optional<std::int64_t> latency_ns(BlockStage from, BlockStage to) const;
};

struct BlockTraceCounts {
  std::size_t lines           = 0;
  std::size_t events          = 0;             // blkparse: event lines of any action; CSV: rows
  std::size_t non_event_lines = 0;             // summaries, banners, blank lines
  std::map<char, std::size_t> skipped_actions; // action -> count, for the actions not matched (P, U, X, ...)
  std::size_t unsectored_events     = 0;       // Q/G/I/D/C without a sector (flushes)
  std::size_t merged_bios           = 0;       // Q folded into another request by M/F (not in `requests`)
  std::size_t requeues              = 0;
  std::size_t unmatched_completions = 0;        // C with nothing open at its (device, sector)
  std::map<char, std::size_t> unmatched_events; // G/I/D opening a request whose Q was not seen, by action
  std::size_t segments            = 1;          // > 1 for excerpts (sequence numbers going back)
  std::size_t open_at_segment_end = 0;          // requests cut by a segment boundary (kept, without C)
  std::size_t open_at_end         = 0;          // requests still open at the end of the trace (kept, without C)
  std::size_t complete            = 0;          // requests with both Q and C
};

struct BlockTrace {
  std::string file;
  std::vector<BlockRequest> requests; // in order of their first event
  BlockTraceCounts counts;
};

/** Reads blkparse text output. Throws InputError ("line N") for an event line (one starting with "maj,min") that
 * does not have the blkparse layout. */
BlockTrace read_blkparse(const std::string& path);

/** True when `path` starts with blktrace's binary magic (0x65617400 | version, either byte order). */
bool is_blktrace_binary(const std::string& path);

/** Reads blktrace's binary files (one per CPU: NAME.blktrace.0, .1, ...; any set of them). Throws InputError naming
 * the file and the byte offset of a record with another magic or version (7), or cut short. */
BlockTrace read_blktrace_binary(const std::vector<std::string>& paths);

/** Reads the per-request CSV. Throws InputError for a missing column (named), a row with another field count,
 * or a malformed number. */
BlockTrace read_block_events_csv(const std::string& path);

// ---- statistics ----------------------------------------------------------------------------------------------------

using RequestFilter = std::function<bool(const BlockRequest&)>;

struct StageSummary {
  std::size_t count = 0;
  double mean_ns    = 0;
  double min_ns     = 0;
  double max_ns     = 0;
  std::map<double, double> percentiles_ns; // percent -> ns: the sorted value at 0-based rank floor(p/100 * count)
};

/** Latency from stage `from` to `to` over the requests that have both (and pass `filter`, if given). */
StageSummary summarize_stage(const std::vector<BlockRequest>& requests, BlockStage from, BlockStage to,
                             const RequestFilter& filter         = {},
                             const std::vector<double>& percents = {50, 90, 99, 99.9});

struct TimeWindow {
  std::int64_t begin_ns = 0;
  std::int64_t end_ns   = 0;
  double length_s() const { return static_cast<double>(end_ns - begin_ns) * 1e-9; }
};

/** From the earliest `from` to the latest `to` of the requests passing `filter` that have both stages. */
TimeWindow request_window(const std::vector<BlockRequest>& requests, BlockStage from, BlockStage to,
                          const RequestFilter& filter = {});

struct InFlight {
  TimeWindow window;
  std::size_t completions = 0;                // requests whose `to` falls in the window
  double throughput_per_s = 0;                // completions / window
  double mean_latency_s   = 0;                // mean from->to of those requests
  double littles_law      = 0;                // throughput * mean latency
  double time_average     = 0;                // integral of the number between `from` and `to`, over the window
  std::vector<double> time_fraction_by_count; // [n] = fraction of the window with exactly n in flight
};

/** The average number of requests between stages `from` and `to` (e.g. issue->complete: at the device), by
 * Little's law and by integrating over time, for the requests passing `filter` that have both stages. */
InFlight in_flight(const std::vector<BlockRequest>& requests, BlockStage from, BlockStage to, const TimeWindow& window,
                   const RequestFilter& filter = {});

} // namespace pvsim::readers
