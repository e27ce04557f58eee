/* pvsim: which runs a leave-out validation predicts, and from which runs it calibrates (see validation.hpp).
 *
 * A run's configuration (RunConfig) is what fio was asked to do: rw, engine, iodepth, numjobs, files, bs (with the
 * direction it implies), read from the fio result (files: fio's nrfiles, or the number of ':'-separated names of
 * its filename option, fio_nrfiles in fio_jobfile.hpp), plus the tag of its file name (<rw>_<engine>_qd<N>_nj<N>_f<N>
 * [_tag], the naming of ../shared/traces: rep1, quiet, extra...; empty when there is none). Repeats and reruns of one
 * configuration share its key: the tag is not part of it.
 *
 * Three ways to split the runs, each into folds (a fold predicts its held-out runs from a calibration on its
 * calibration runs, which never include a held-out run):
 * - hold_out_folds: one fold; held out, the runs matching any --hold-out expression (HoldOut), calibrated on the
 *   others;
 * - kfold_folds: the configurations, sorted (rw, engine, then the numbers in order), are dealt to K folds round-robin,
 *   so that repeats always fall in one fold and each fold is predicted from the others;
 * - config_folds: one fold per configuration. */
#pragma once

#include "analysis/calibration/run_facts.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::validation {

/** The configuration of one fio run: the keys --hold-out reads and the folds group by. */
struct RunConfig {
  std::string file; // the fio result
  std::string rw;
  std::string engine;
  std::string direction; // the main direction: "read" (read and mixed workloads) or "write"
  std::string tag;       // the file name's part after the configuration ("rep1", "quiet"), or ""
  int iodepth      = 1;
  int numjobs      = 1;
  int files        = 1;
  std::uint64_t bs = 4096;
  /** "randread libaio qd16 nj1 f1 bs4096": equal for the repeats of a configuration, whatever their tag. */
  std::string key() const;
};

/** The tag of a fio result's file name: "rep1" for randread_libaio_qd16_nj1_f1_rep1.json; "" without one. */
std::string tag_of(const std::string& file);
/** The configuration of a run from its main direction's facts and the fio result's files count. */
RunConfig run_config(const std::string& file, const calibration::RunFacts& facts, int files);
/** Reads the fio result (InputError when it is not one). */
RunConfig read_run_config(const std::string& file);
/** Orders configurations: rw, engine, iodepth, numjobs, files, bs (numbers as numbers). */
bool config_less(const RunConfig& a, const RunConfig& b);

/** One fold: the indices (into the runs given) that calibrate it and those it predicts. */
struct Fold {
  std::string name;
  std::vector<std::size_t> calibration;
  std::vector<std::size_t> held_out;
  std::vector<std::string> notes; // e.g. a --hold-out expression no run matches
};

/** The keys --hold-out accepts. */
const std::vector<std::string>& hold_out_keys();

/** The single fold of the --hold-out expressions (OR-ed); InputError ("--hold-out") when either side is empty. */
std::vector<Fold> hold_out_folds(const std::vector<RunConfig>& runs, const std::vector<std::string>& expressions);
/** --kfold K: configurations dealt round-robin; InputError ("--kfold") unless 2 <= K <= configurations. */
std::vector<Fold> kfold_folds(const std::vector<RunConfig>& runs, int k);
/** --leave-out config: one fold per configuration; InputError with fewer than 2 configurations. */
std::vector<Fold> config_folds(const std::vector<RunConfig>& runs);

} // namespace pvsim::validation
