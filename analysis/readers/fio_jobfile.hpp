/* pvsim: fio job files (.fio INI) and fio option values.
 *
 * Reads [global] and [job] sections with `key=value` lines and bare flags (`time_based`), comments starting with
 * '#' or ';' (also after a value, as fio strips them), option aliases (readwrite, blocksize, timeout, nr_files).
 * Each job gets its merged options: the [global] sections seen before it, then its own lines. Values are parsed as
 * fio does: sizes with kb_base 1024 by default ("4k" = 4096; note that fio's compatibility mode makes "4KiB" = 4000
 * unless kb_base=1000), times with fio's per-option default unit (thinktime in microseconds, runtime/ramp_time in
 * seconds) and the suffixes us, ms, s, m (minutes), h, d.
 * Left out: `include` (an error), environment variables and $pagesize-style keywords (kept as text, so a mapped
 * option using them is an error), arithmetic expressions, command-line options, --section selection.
 *
 * The same options also come from fio's JSON output ("job options"), so the per-option accessors below work on a
 * FioOptions map whatever its source; each value remembers where it came from ("line 12" or a JSON pointer). */
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::readers {

/** One option value and where it was written. */
struct FioOption {
  std::string value;   // text after '=', trimmed; "" for a bare flag
  std::string where;   // "line 12" in a job file, "/jobs/0/job options/bs" in fio JSON
  std::string spelled; // the key as written (an alias such as "readwrite" before it is made canonical)
  bool bare = false;   // written without '=' (a flag)
};

/** Options by canonical fio name (aliases resolved); later assignments replace earlier ones. */
using FioOptions = std::map<std::string, FioOption>;

/** fio's canonical name for an option key: "readwrite" -> "rw", "blocksize" -> "bs", "timeout" -> "runtime",
 * "nr_files" -> "nrfiles"; other keys unchanged. */
std::string canonical_fio_key(const std::string& key);

struct FioJobSection {
  std::string name;       // the section name, e.g. "rr" for [rr]
  int line = 0;           // line of the [name] header
  FioOptions options;     // merged: the global sections above it, then its own lines
  FioOptions own_options; // only the lines of this section
};

struct FioJobFile {
  std::string file;
  FioOptions global_options; // all [global] sections of the file merged (a job only sees those above it)
  std::vector<FioJobSection> jobs;
};

/** Reads a fio job file. Throws InputError (file, "line N", ...) for a missing file, an option outside any
 * section, an `include`, an empty key or an unterminated section header. */
FioJobFile read_fio_jobfile(const std::string& path);
/** Same, from text; `file` only names the input in error messages. */
FioJobFile parse_fio_jobfile(std::string_view text, const std::string& file);

// ---- fio value syntax -------------------------------------------------------------------------------------------

/** A fio size ("4k", "2g", "512", "1MiB") in bytes, following fio's get_mult_bytes: k/m/g/t/p (with an optional
 * 'b') multiply by kb_base^n, and the IEC spellings (KiB...) by the other base. Throws InputError for anything else
 * (including percentages: check for a trailing '%' first). */
std::uint64_t parse_fio_size(std::string_view text, unsigned kb_base, const std::string& file,
                             const std::string& where);

enum class FioTimeUnit { microseconds, seconds };

/** A fio time ("10", "10s", "5m", "250ms", "1h") in seconds; a bare number is in `default_unit`. Suffixes (case
 * insensitive): us/usec, ms/msec, s, m (minutes), h, d. Throws InputError for an unknown suffix (fio would silently
 * read "10sec" as 10 us). */
double parse_fio_time_s(std::string_view text, FioTimeUnit default_unit, const std::string& file,
                        const std::string& where);

/** A fio boolean: "" (bare flag), 1/0, true/false, yes/no, on/off. Throws InputError otherwise. */
bool parse_fio_bool(std::string_view text, const std::string& file, const std::string& where);

/** A decimal integer (no unit suffix). Throws InputError when not an integer or outside [min, max]. */
std::int64_t parse_fio_int(std::string_view text, std::int64_t min, std::int64_t max, const std::string& file,
                           const std::string& where);

/** Splits a per-direction list "read,write,trim" the way fio fills it: one value applies to all three, a missing
 * trailing value repeats the last one given, an empty one stays empty (fio's default for that direction). */
std::vector<std::string> split_fio_directions(std::string_view text);

// ---- per-option accessors (fio defaults when the option is absent) ------------------------------------------------

/** rw without any ":N" offset modifier; "read" by default. Throws InputError for an unknown pattern. */
std::string fio_rw(const FioOptions& options, const std::string& file);
/** True when the rw pattern reads (read, randread, rw, readwrite, randrw). */
bool fio_rw_reads(const std::string& rw);
/** True when the rw pattern writes (write, randwrite, rw, readwrite, randrw, trimwrite, randtrimwrite). */
bool fio_rw_writes(const std::string& rw);
/** ioengine; "psync" (fio's default on Linux) when absent. */
std::string fio_ioengine(const FioOptions& options, const std::string& file);
int fio_iodepth(const FioOptions& options, const std::string& file); // default 1
int fio_numjobs(const FioOptions& options, const std::string& file); // default 1
/** nrfiles; without it, the number of ':'-separated names in `filename`; otherwise 1. */
int fio_nrfiles(const FioOptions& options, const std::string& file);
/** direct, or the negation of buffered; false by default. */
bool fio_direct(const FioOptions& options, const std::string& file);
/** Percentage of reads in a mixed workload: rwmixread, or 100 - rwmixwrite; 50 by default. */
int fio_rwmixread(const FioOptions& options, const std::string& file);
/** kb_base (1024 or 1000); 1024 by default. */
unsigned fio_kb_base(const FioOptions& options, const std::string& file);
/** Block size in bytes per direction {read, write, trim}; 4096 by default. */
std::vector<std::uint64_t> fio_bs_bytes(const FioOptions& options, const std::string& file);
/** runtime in seconds; nullopt when absent or 0 (no limit). */
std::optional<double> fio_runtime_s(const FioOptions& options, const std::string& file);
/** ramp_time in seconds (the I/O before fio measures); 0 when absent. */
double fio_ramp_time_s(const FioOptions& options, const std::string& file);

// ---- mapping to a pvsim workload ----------------------------------------------------------------------------------

/** What pvsim's workload generator needs from one fio job. Fields hold fio's defaults when the option is absent;
 * the optional ones are "no limit / not given". */
struct Workload {
  std::string rw         = "read"; // read, write, randread, randwrite, rw, randrw, trim, randtrim, trimwrite, ...
  int rwmixread          = 50;     // percent of reads in a mixed pattern
  std::uint64_t bs_bytes = 4096;   // of the main direction (reads if any, then writes, then trims)
  int iodepth            = 1;
  int numjobs            = 1;
  int nrfiles            = 1;
  std::string ioengine   = "psync";
  std::optional<double> rate_iops; // per job, cap on the IOPS of the main direction (reads if any; nullopt: none)
  double thinktime_s = 0;          // idle time between I/Os
  std::string cpus_allowed;        // as written ("" = not restricted)
  std::optional<std::uint64_t> size_bytes;
  std::optional<std::uint64_t> number_ios;
  std::optional<double> runtime_s; // nullopt: until size/number_ios is done
  bool time_based    = false;
  double ramp_time_s = 0;
  bool direct        = false;
};

/** An option that did not make it (whole or in part) into the Workload, and why. */
struct IgnoredOption {
  std::string key;
  std::string value;
  std::string where;
  std::string reason;
};

struct WorkloadMapping {
  Workload workload;
  std::vector<IgnoredOption> ignored; // every option not fully used, in key order; never silently dropped
};

/** Maps one job's merged options to a Workload. Malformed values of mapped options throw InputError (with the
 * option's `where`); unmodelled options (and parts of options, e.g. a different write block size) are listed in
 * `ignored`. */
WorkloadMapping to_workload(const FioOptions& options, const std::string& file);

} // namespace pvsim::readers
