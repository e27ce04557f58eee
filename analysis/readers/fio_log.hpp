/* pvsim: fio per-request latency logs (write_lat_log / write_clat_log / write_slat_log with log_avg_msec=0).
 *
 * Reads `*_lat.N.log`, `*_clat.N.log`, `*_slat.N.log`, plain or gzip-compressed (zlib reads both), one I/O per
 * line: `time_ms, latency_ns, direction, bs_bytes[, offset_bytes][, prio][, issue_time_ns]`. The layout is told
 * by the column count of the first line (4: fio before 3.x prio; 5: the default; 6: with log_offset; 7: with
 * log_offset and log_issue_time) unless the caller gives one; prio may be decimal or log_prio's hex "0x2004".
 * Left out: bandwidth and IOPS logs (their value is not a latency: rejected by file name), windowed logs
 * (log_avg_msec > 0: averages, not requests; their bs is 0) and log_window_value=both's second value column.
 *
 * GzLineReader is the line source shared with the block-trace reader. */
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::readers {

/** Reads a text file line by line, gzip-compressed or not (zlib's gzopen/gzgets). Throws InputError when the file
 * cannot be opened or the compressed stream is corrupt or truncated. */
class GzLineReader {
public:
  explicit GzLineReader(std::string path);
  ~GzLineReader();
  GzLineReader(const GzLineReader&)            = delete;
  GzLineReader& operator=(const GzLineReader&) = delete;

  /** The next line without its '\n' (and '\r'); false at the end of the file. */
  bool next(std::string& line);
  /** 1-based number of the line last returned. */
  std::size_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }

private:
  std::string path_;
  void* gz_                = nullptr; // gzFile, kept opaque so this header does not need zlib.h
  std::size_t line_number_ = 0;
  std::vector<char> buffer_;
};

enum class FioLogKind { latency, clat, slat, unknown };

/** The kind told by the file name (`_lat.`, `_clat.`, `_slat.`); throws InputError for a bandwidth or IOPS log
 * (`_bw.`, `_iops.`), which this reader leaves out. */
FioLogKind fio_log_kind(const std::string& path);

/** Which optional columns a log has, after time, value, direction and bs. */
struct FioLogLayout {
  bool has_prio       = true;
  bool has_offset     = false;
  bool has_issue_time = false;
  std::size_t columns() const { return 4 + has_prio + has_offset + has_issue_time; }
};

struct FioLogRecord {
  std::int64_t time_ms        = 0; // completion time since the job started (or the epoch with log_unix_epoch)
  std::int64_t latency_ns     = 0;
  int direction               = 0; // 0 read, 1 write, 2 trim
  std::uint64_t bs_bytes      = 0;
  std::uint64_t offset_bytes  = 0; // 0 unless the layout has_offset
  std::uint32_t prio          = 0; // 0 unless the layout has_prio
  std::uint64_t issue_time_ns = 0; // 0 unless the layout has_issue_time
};

struct FioLog {
  std::string file;
  FioLogKind kind = FioLogKind::unknown;
  FioLogLayout layout;
  std::vector<FioLogRecord> records;
};

/** Calls `visit` for each record in file order, without keeping them: for logs too large to hold. The layout is
 * detected from the first line unless given; returns the layout used. Throws InputError ("line N") for a line
 * with another column count, a non-number, a negative latency or a direction other than 0, 1, 2. */
FioLogLayout for_each_fio_log_record(const std::string& path, const std::function<void(const FioLogRecord&)>& visit,
                                     std::optional<FioLogLayout> layout = std::nullopt);

/** Reads the whole log. */
FioLog read_fio_log(const std::string& path, std::optional<FioLogLayout> layout = std::nullopt);

} // namespace pvsim::readers
