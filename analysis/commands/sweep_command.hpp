/* pvsim: the `pvsim sweep SWEEPFILE` command. It hands the sweep to analysis/sweep_driver.py (run with
 * /usr/bin/python3 from the source tree pvsim was built from, with this binary as the pvsim of every point), which
 * checks the sweep file, runs the points on the chosen backend (local processes, GNU parallel, a Slurm job array),
 * resumes an interrupted sweep and gathers one CSV and a plot. The driver is Python because the work is process
 * orchestration, CSV and a matplotlib plot, as analysis/sweep.py already does; see README "Sweeps on your cluster". */
#pragma once

#include <optional>
#include <string>

namespace pvsim {

struct SweepOptions {
  std::string file;         ///< the sweep file (JSON)
  std::string output;       ///< result folder; empty: the driver's default, out/<sweep file name>
  std::string backend;      ///< local, parallel or slurm; empty: the sweep file's
  std::optional<int> jobs;  ///< points at once (local, parallel)
  std::optional<int> chunk; ///< points per Slurm array task
  std::string sshloginfile; ///< GNU parallel's --sshloginfile
};

/** Replaces this process by the driver (signals such as Ctrl-C go straight to it); returns only when it cannot be
 * started (exit status 1, with the reason on stderr). The driver's exit status: 0 every point ran, 1 some failed, 2 a
 * bad sweep file or option. */
int sweep_command(const SweepOptions& options);

} // namespace pvsim
