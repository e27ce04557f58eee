/* pvsim: is a metric's change outside the noise of the repeats?
 *
 * The baseline and the current run each hold one value per seed. A change is flagged only when all three hold:
 *   1. the exact two-sided Mann-Whitney U test (mann_whitney.hpp) rejects "same distribution", with Holm's
 *      step-down correction over every metric of the suite, so that the chance of flagging anything at all on
 *      noise alone stays under alpha (default 0.05) however many metrics there are. With 8 seeds a side the
 *      smallest p is 2 / C(16, 8) = 1.6e-4, below 0.05 / 300: samples that do not overlap can be flagged among up to
 *      300 metrics;
 *   2. the current median lies outside the baseline's range (min..max over its seeds): beyond the noise seen;
 *   3. the medians differ by at least min_change of the baseline's (default 1 %): a change worth a look.
 * The verdict then says which way, from the metric's direction (IOPS up is an improvement, latency up a regression).
 * Same seeds and an unchanged model give identical values, hence p = 1: never flagged. */
#pragma once

#include "sim/statistics.hpp"

#include <string>
#include <vector>

namespace pvsim::regress {

struct NoiseTest {
  double alpha      = 0.05; // family-wise, over all the metrics compared
  double min_change = 0.01; // relative change of the medians
};

enum class Verdict { unchanged, improved, regressed };
const char* verdict_name(Verdict v);

struct Comparison {
  double median_baseline;
  double median_now;
  double change;     // relative: (now - baseline) / |baseline| (0 if both are 0)
  double p_value;    // Mann-Whitney, two-sided, exact, uncorrected
  bool beyond_noise; // conditions 2 and 3
};

Comparison compare(const std::vector<double>& baseline, const std::vector<double>& now, const NoiseTest& test);

/** Holm's step-down procedure: which of the hypotheses with these p-values are rejected at family-wise alpha. */
std::vector<bool> holm_rejections(const std::vector<double>& p, double alpha);

/** The verdict of a comparison whose test was (or was not) rejected after the correction. */
Verdict verdict_of(const Comparison& c, bool rejected, bool higher_is_better);

} // namespace pvsim::regress
