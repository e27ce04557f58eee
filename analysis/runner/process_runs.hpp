/* pvsim: many simulations side by side, one process each (SimGrid allows one simulation per process).
 *
 * Used by the tools that run a scenario many times (validate, regress): each run is the pvsim binary with its own
 * arguments, at most `parallel` at once, with a progress line on a terminal. */
#pragma once

#include <string>
#include <vector>

namespace pvsim {

struct ProcessRuns {
  std::string exe = "/proc/self/exe"; // the binary to run (this one by default)
  int parallel    = 1;                // processes at once
  std::string label;                  // shown in the progress line ("regress")
  bool progress = false;              // print "label: done/total" on stderr as runs finish
};

/** Runs `exe args...` for every argument list; returns each run's exit status (128 + signal if killed, 127 if the
 * binary could not be executed). Each run's stdout and stderr go to logs[i]; without logs they are this process's. */
std::vector<int> run_processes(const ProcessRuns& how, const std::vector<std::vector<std::string>>& args,
                               const std::vector<std::string>& logs = {});

/** A new private directory /tmp/<prefix>-XXXXXX for the runs' scenarios and outputs (mkdtemp); throws
 * std::runtime_error when it cannot be made. */
std::string make_temp_dir(const std::string& prefix);

/** The first line of a run's log that says "error" (or its first line), for a one-line failure report. */
std::string first_error_line(const std::string& log);

} // namespace pvsim
