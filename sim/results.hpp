/* pvsim: what a run leaves behind: the summary table on the terminal, results.json and CSV files.
 *
 * Output is all-or-nothing: files are written into a private staging folder and moved into place only when all
 * of them are complete, so an error never leaves a half-written output directory. */
#pragma once

#include "sim/json_node.hpp"

#include <map>
#include <stdexcept>
#include <string>

namespace pvsim {

/** A result file could not be written (full disk, no permission): the message names the file and the reason;
 * nothing of the output set is left behind. The command line says it and exits 1. */
class OutputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/** The per-job and per-queue table printed after a run (IOPS, MB/s, latencies in µs). */
std::string summary_table(const json& results);
/** What contended in a run, gathered from the components' statistics (empty when no model has a lock or a shared
 * cache line): every spinlock (acquisitions, contended, spin time, hold time), cache-line transfers by component,
 * and the CPU pools' context switches and preemptions. */
json contention_of(const json& components);

/** jobs.csv and queues.csv contents. */
std::string jobs_csv(const json& results);
std::string queues_csv(const json& results);

/** Writes results.json, jobs.csv and queues.csv, and `extra_files` (name -> content, e.g. fio.json), into `outdir`
 * (created if needed), atomically per file set. */
void write_outputs(const std::string& outdir, const json& results,
                   const std::map<std::string, std::string>& extra_files = {});

/** Writes one file through a temporary sibling and a rename (used for single-file outputs such as DOT). */
void write_file_atomically(const std::string& path, const std::string& content);

} // namespace pvsim
