/* pvsim: the folds of a leave-out validation (see leave_out.hpp). */
#include "analysis/calibration/leave_out.hpp"

#include "analysis/calibration/hold_out.hpp"
#include "analysis/readers/fio_json.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <tuple>

namespace pvsim::validation {

std::string RunConfig::key() const
{
  return rw + " " + engine + " qd" + std::to_string(iodepth) + " nj" + std::to_string(numjobs) + " f" +
         std::to_string(files) + " bs" + std::to_string(bs);
}

std::string tag_of(const std::string& file)
{
  static const std::regex pattern(R"(_qd[0-9]+_nj[0-9]+_f[0-9]+(_(.+))?$)");
  std::string stem = std::filesystem::path(file).stem().string();
  std::smatch m;
  if (std::regex_search(stem, m, pattern) and m[2].matched)
    return m[2].str();
  return "";
}

RunConfig run_config(const std::string& file, const calibration::RunFacts& facts, int files)
{
  RunConfig c;
  c.file      = file;
  c.rw        = facts.rw;
  c.engine    = facts.engine;
  c.direction = facts.direction;
  c.tag       = tag_of(file);
  c.iodepth   = facts.iodepth;
  c.numjobs   = facts.numjobs;
  c.files     = files;
  c.bs        = facts.bs;
  return c;
}

RunConfig read_run_config(const std::string& file)
{
  readers::FioResult result = readers::read_fio_json(file);
  auto facts                = calibration::run_facts(result);
  return run_config(file, facts.front(), result.jobs.front().nrfiles());
}

bool config_less(const RunConfig& a, const RunConfig& b)
{
  return std::tie(a.rw, a.engine, a.iodepth, a.numjobs, a.files, a.bs) <
         std::tie(b.rw, b.engine, b.iodepth, b.numjobs, b.files, b.bs);
}

const std::vector<std::string>& hold_out_keys()
{
  static const std::vector<std::string> keys{"rw", "engine", "iodepth", "numjobs", "files", "bs", "direction", "tag"};
  return keys;
}

namespace {

/** The configurations of the runs, sorted, each with the indices of its runs. */
std::vector<std::pair<RunConfig, std::vector<std::size_t>>> configurations(const std::vector<RunConfig>& runs)
{
  std::map<std::string, std::size_t> index;
  std::vector<std::pair<RunConfig, std::vector<std::size_t>>> out;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    auto [it, fresh] = index.try_emplace(runs[i].key(), out.size());
    if (fresh)
      out.push_back({runs[i], {}});
    out[it->second].second.push_back(i);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return config_less(a.first, b.first); });
  return out;
}

/** Fold i of n: held out, the runs of the configurations dealt to it; calibrated on the others. */
Fold fold_of(const std::vector<RunConfig>& runs, const std::vector<bool>& held, std::string name)
{
  Fold f{std::move(name), {}, {}, {}};
  for (std::size_t i = 0; i < runs.size(); ++i)
    (held[i] ? f.held_out : f.calibration).push_back(i);
  return f;
}

} // namespace

std::vector<Fold> hold_out_folds(const std::vector<RunConfig>& runs, const std::vector<std::string>& expressions)
{
  std::vector<HoldOut> exprs;
  std::string name;
  for (const auto& e : expressions) {
    exprs.emplace_back(e);
    name += (name.empty() ? "" : " or ") + e;
  }
  std::vector<bool> held(runs.size(), false);
  for (std::size_t i = 0; i < runs.size(); ++i)
    held[i] = std::any_of(exprs.begin(), exprs.end(), [&](const HoldOut& h) { return h.matches(runs[i]); });
  Fold f = fold_of(runs, held, name);
  for (const auto& h : exprs)
    if (std::none_of(runs.begin(), runs.end(), [&](const RunConfig& r) { return h.matches(r); }))
      f.notes.push_back(h.text() + " matches no run: it holds out nothing");
  if (f.held_out.empty())
    throw InputError("", "--hold-out",
                     "no run matches " + name + ": the held-out set is empty (" + std::to_string(runs.size()) +
                         " runs given)");
  if (f.calibration.empty())
    throw InputError("", "--hold-out",
                     "every run matches " + name + ": the calibration set is empty (nothing to calibrate on)");
  return {f};
}

std::vector<Fold> kfold_folds(const std::vector<RunConfig>& runs, int k)
{
  auto configs = configurations(runs);
  if (k < 2 or static_cast<std::size_t>(k) > configs.size())
    throw InputError("", "--kfold",
                     "expected 2 <= K <= " + std::to_string(configs.size()) +
                         " (the number of configurations given; repeats count once), got " + std::to_string(k));
  std::vector<Fold> folds;
  for (int f = 0; f < k; ++f) {
    std::vector<bool> held(runs.size(), false);
    for (std::size_t c = f; c < configs.size(); c += k)
      for (std::size_t i : configs[c].second)
        held[i] = true;
    folds.push_back(fold_of(runs, held, "fold " + std::to_string(f + 1) + "/" + std::to_string(k)));
  }
  return folds;
}

std::vector<Fold> config_folds(const std::vector<RunConfig>& runs)
{
  auto configs = configurations(runs);
  if (configs.size() < 2)
    throw InputError("", "--leave-out",
                     "needs runs of at least 2 configurations (repeats count once), got " +
                         std::to_string(configs.size()));
  std::vector<Fold> folds;
  for (const auto& [config, members] : configs) {
    std::vector<bool> held(runs.size(), false);
    for (std::size_t i : members)
      held[i] = true;
    folds.push_back(fold_of(runs, held, config.key()));
  }
  return folds;
}

} // namespace pvsim::validation
