/* pvsim: distributions of durations (service times, think times, inter-arrival times).
 *
 * Forms accepted in scenarios:
 *   "50us"                                                  deterministic
 *   {"dist": "deterministic", "value": "50us"}
 *   {"dist": "exponential", "mean": "50us"}
 *   {"dist": "lognormal", "mean": "50us", "cv": 1.5}        or {"median": ..., "sigma": ...}
 *   {"dist": "uniform", "min": "10us", "max": "90us"}
 *   {"dist": "empirical", "edges_us": [0, 10, 20], "counts": [3, 1]}   histogram, uniform inside a bin
 *   {"dist": "empirical", "values_us": [10, 20], "counts": [3, 1]}     atoms
 * Samples are drawn from the caller's Rng, so each component owns its stream. */
#pragma once

#include "sim/json_node.hpp"
#include "sim/rng.hpp"

#include <vector>

namespace pvsim {

class Distribution {
public:
  enum class Kind { deterministic, exponential, lognormal, uniform, empirical_bins, empirical_atoms };

  /** Always zero: what a Params struct holds before its ParamTable gives the field its default. */
  Distribution() = default;

  static Distribution deterministic(double value_s);
  static Distribution exponential(double mean_s);
  static Distribution lognormal_mean_cv(double mean_s, double cv);
  static Distribution uniform(double min_s, double max_s);
  /** Histogram: edges (n+1, increasing) and counts (n). */
  static Distribution empirical_bins(std::vector<double> edges_s, std::vector<double> counts);
  static Distribution empirical_atoms(std::vector<double> values_s, std::vector<double> counts);
  /** The sum of two independent uniforms, U(0, a) + U(0, b) (a trapezoid from 0 to a + b, flat between the smaller
   * and the larger), as `bins` bins of its exact distribution function. */
  static Distribution uniform_sum(double a_s, double b_s, int bins = 256);

  /** Parses any accepted form; errors name the file and JSON pointer. */
  static Distribution parse(const JsonNode& node);

  double sample(Rng& rng) const;
  double mean() const;
  /** Squared coefficient of variation (variance / mean^2), used by Pollaczek-Khinchine and by calibration. */
  double scv() const;
  Kind kind() const { return kind_; }
  /** Always exactly zero (the default think time: nothing to wait for). */
  bool is_zero() const { return kind_ == Kind::deterministic and a_ == 0; }
  /** Canonical JSON form (durations in seconds, keys with _s). */
  json to_json() const;

private:
  void finish_empirical();
  Kind kind_ = Kind::deterministic;
  double a_  = 0;              // value | mean | mu | min
  double b_  = 0;              // -    | -    | sigma | max
  std::vector<double> points_; // edges (bins) or values (atoms)
  std::vector<double> cum_;    // cumulative probability per bin/atom
  std::vector<double> counts_;
};

} // namespace pvsim
