/* pvsim: a fio job file as a scenario's workload (`pvsim run SCENARIO --fio JOBFILE`, or `"job_file"` on a job.fio).
 *
 * A job.fio component whose "job_file" is set (by the scenario, or by --fio on the scenario's job.fio) is a template:
 * it is replaced, before the Simulation is built (like --set), by one job.fio per job section of the file, named as
 * fio names the jobs (the section name; numjobs copies keep it). The template gives what a job file cannot say: the
 * guest ("vm"), where requests go ("target"), the CPU costs (submit_cpu, complete_cpu, wakeup_cpu) and, when the file
 * sets no cpus_allowed, the vCPUs. Everything else is the file's, with fio's defaults for what it leaves out (rw=read,
 * bs=4k, iodepth=1, numjobs=1), as fio would run it. Semantics from fio's HOWTO (fio 3.x, "Job file parameters"):
 * - size without time_based ends the job after size bytes (io_size defaults to size): number_ios = size / bs; with
 *   time_based the job loops until runtime (or the end of the run). runtime counts after ramp_time ("ramp_time is
 *   considered lead in time for a job, thus it will increase the total runtime"), so the job submits for
 *   ramp_time + runtime after startdelay.
 * - ramp_time: nothing is measured before it; pvsim has one warm-up for the run, so the warm-up becomes at least the
 *   longest startdelay + ramp_time of the file's jobs.
 * - ioengine: libaio, io_uring, posixaio keep iodepth requests in flight; the synchronous engines (sync, psync,
 *   vsync, pvsync, pvsync2) have one (fio: "iodepth ... values larger than 1 only make sense with an async engine").
 *   The CPU cost per I/O is the template's whatever the engine (unverified how much it differs between engines).
 * - rate (bytes/s) becomes rate_iops = rate / bs; rate_iops as is; a mixed job with a rate is refused (fio caps each
 *   direction on its own).
 * - direct=1 is what pvsim simulates; direct=0/buffered=1 is refused (no page cache); absent, a note says so.
 * - bsrange and bssplit become job.fio's bsrange_max / bssplit_bytes and bssplit_percent (one mix for reads and
 *   writes; a mixed job giving each direction its own is refused), bs their smallest size; size / mean size I/Os.
 * Options that change timing and that job.fio does not model (verify, zonemode, fsync, iodepth_batch > 1...)
 * are refused with the file, the line, the option and the list of supported options. Options that do not change
 * timing in pvsim (name, filename, offsets and their distribution, logs...) are accepted with a note.
 * Left out: include files, stonewall/wait_for sequencing (refused past the first job), per-job ramp_time, trims. */
#pragma once

#include "analysis/readers/fio_jobfile.hpp"
#include "sim/json_node.hpp"
#include "sim/scenario.hpp"

#include <map>
#include <string>
#include <vector>

namespace pvsim {

/** One job.fio component made from a job section: what fio.json needs to name and group it like fio. */
struct FioJobOrigin {
  std::string jobname;                            // the section name
  std::string file;                               // the job file
  int groupid          = 0;                       // fio's reporting group (new_group starts the next one)
  bool group_reporting = false;                   // copies (and jobs) of the group reported as one entry
  std::map<std::string, std::string> job_options; // the section's own options as written ("job options")
  std::vector<double> percentiles;                // percentile_list, or fio's default list
};

struct FioWorkload {
  std::map<std::string, FioJobOrigin> jobs; // component name -> its section
  std::vector<std::string> order;           // the components in the files' order
  std::map<std::string, std::string> global_options;
  std::vector<std::string> notes; // options accepted but not modelled, defaults that differ from fio's
};

/** fio's default percentile list (fio's stat.c: 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9,
 * 99.95, 99.99). */
const std::vector<double>& fio_default_percentiles();

/** Expands every job.fio of `scenario` that names a "job_file" into the file's jobs and rebuilds the scenario.
 * `cli_job_file` (--fio), when not empty, is set on the template first: the scenario's only job.fio, or `template_name`
 * (--fio-template) when it has several. Throws InputError (exit 2) for a refused option, a missing template, a name
 * clash; nothing is run then. */
FioWorkload expand_fio_job_files(Scenario& scenario, const std::string& cli_job_file,
                                 const std::string& template_name = "");

/** The job.fio parameters of one job section over `template_params` (kept: vm, target, CPU costs, cpus_allowed).
 * Exposed for tests. */
json fio_section_to_component(const readers::FioJobSection& job, const std::string& file, const json& template_params,
                              std::vector<std::string>& notes);

} // namespace pvsim
