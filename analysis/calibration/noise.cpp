/* pvsim: run-to-run noise of repeats (see noise.hpp). */
#include "analysis/calibration/noise.hpp"

#include <algorithm>
#include <cmath>

namespace pvsim::validation {

double coefficient_of_variation(const std::vector<double>& values)
{
  if (values.size() < 2)
    return 0;
  double mean = 0;
  for (double v : values)
    mean += v;
  mean /= static_cast<double>(values.size());
  if (mean == 0)
    return 0;
  double ss = 0;
  for (double v : values)
    ss += (v - mean) * (v - mean);
  return std::sqrt(ss / static_cast<double>(values.size() - 1)) / std::abs(mean);
}

RepeatNoise::RepeatNoise(const std::vector<RunConfig>& runs, const std::vector<double>& iops,
                         const std::vector<double>& clat_mean)
{
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_config;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    auto& [x, c] = by_config[runs[i].key()];
    x.push_back(iops[i]);
    c.push_back(clat_mean[i]);
  }
  double dof = 0, iops_ss = 0, clat_ss = 0;
  int pooled_runs = 0;
  for (const auto& [key, v] : by_config) {
    if (v.first.size() < 2)
      continue;
    Band b{coefficient_of_variation(v.first), coefficient_of_variation(v.second), "configuration",
           static_cast<int>(v.first.size())};
    per_config_[key] = b;
    double n         = static_cast<double>(v.first.size() - 1);
    dof += n;
    iops_ss += n * b.iops_cv * b.iops_cv;
    clat_ss += n * b.clat_mean_cv * b.clat_mean_cv;
    pooled_runs += b.runs;
  }
  if (dof > 0)
    pooled_ = Band{std::sqrt(iops_ss / dof), std::sqrt(clat_ss / dof), "pooled", pooled_runs};
}

std::optional<RepeatNoise::Band> RepeatNoise::band(const std::string& config_key) const
{
  auto it = per_config_.find(config_key);
  if (it == per_config_.end())
    return pooled_;
  // Two runs give a CV with one degree of freedom: two near-identical runs (psync at iodepth 1: 0.1 %) would call
  // every error outside the noise. Below three runs the pooled CV is the floor.
  Band b = it->second;
  if (b.runs < 3 and pooled_ and (pooled_->iops_cv > b.iops_cv or pooled_->clat_mean_cv > b.clat_mean_cv)) {
    b.iops_cv      = std::max(b.iops_cv, pooled_->iops_cv);
    b.clat_mean_cv = std::max(b.clat_mean_cv, pooled_->clat_mean_cv);
    b.source       = "pooled floor";
  }
  return b;
}

bool RepeatNoise::outside(double iops_error_pct, const Band& band)
{
  return std::abs(iops_error_pct) > 2.0 * band.iops_cv * 100.0;
}

json RepeatNoise::to_json() const
{
  json configs = json::array();
  for (const auto& [key, b] : per_config_)
    configs.push_back({{"config", key},
                       {"runs", b.runs},
                       {"iops_cv_pct", b.iops_cv * 100},
                       {"clat_mean_cv_pct", b.clat_mean_cv * 100}});
  json pooled = nullptr;
  if (pooled_)
    pooled = {{"runs", pooled_->runs},
              {"configurations", per_config_.size()},
              {"iops_cv_pct", pooled_->iops_cv * 100},
              {"clat_mean_cv_pct", pooled_->clat_mean_cv * 100}};
  return {{"configurations", configs}, {"pooled", pooled}};
}

} // namespace pvsim::validation
