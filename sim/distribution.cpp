#include "sim/distribution.hpp"

#include "sim/quantity.hpp"

#include <algorithm>
#include <cmath>

namespace pvsim {

Distribution Distribution::deterministic(double value_s)
{
  Distribution d;
  d.kind_ = Kind::deterministic;
  d.a_    = value_s;
  return d;
}

Distribution Distribution::exponential(double mean_s)
{
  Distribution d;
  d.kind_ = Kind::exponential;
  d.a_    = mean_s;
  return d;
}

Distribution Distribution::lognormal_mean_cv(double mean_s, double cv)
{
  Distribution d;
  d.kind_       = Kind::lognormal;
  double sigma2 = std::log1p(cv * cv);
  d.b_          = std::sqrt(sigma2);
  d.a_          = std::log(mean_s) - sigma2 / 2;
  return d;
}

Distribution Distribution::uniform(double min_s, double max_s)
{
  Distribution d;
  d.kind_ = Kind::uniform;
  d.a_    = min_s;
  d.b_    = max_s;
  return d;
}

Distribution Distribution::uniform_sum(double a_s, double b_s, int bins)
{
  double a = std::min(a_s, b_s), b = std::max(a_s, b_s);
  if (a <= 0)
    return uniform(0, b);
  auto cdf = [a, b](double x) { // P(U(0,a) + U(0,b) <= x)
    if (x <= a)
      return x * x / (2 * a * b);
    if (x <= b)
      return (2 * x - a) / (2 * b);
    return 1 - (a + b - x) * (a + b - x) / (2 * a * b);
  };
  std::vector<double> edges, counts;
  for (int i = 0; i <= bins; ++i)
    edges.push_back((a + b) * i / bins);
  for (int i = 0; i < bins; ++i)
    counts.push_back(cdf(edges[static_cast<std::size_t>(i) + 1]) - cdf(edges[static_cast<std::size_t>(i)]));
  return empirical_bins(std::move(edges), std::move(counts));
}

Distribution Distribution::empirical_bins(std::vector<double> edges_s, std::vector<double> counts)
{
  Distribution d;
  d.kind_   = Kind::empirical_bins;
  d.points_ = std::move(edges_s);
  d.counts_ = std::move(counts);
  d.finish_empirical();
  return d;
}

Distribution Distribution::empirical_atoms(std::vector<double> values_s, std::vector<double> counts)
{
  Distribution d;
  d.kind_   = Kind::empirical_atoms;
  d.points_ = std::move(values_s);
  d.counts_ = std::move(counts);
  d.finish_empirical();
  return d;
}

void Distribution::finish_empirical()
{
  double total = 0;
  for (double c : counts_)
    total += c;
  cum_.clear();
  double run = 0;
  for (double c : counts_) {
    run += c;
    cum_.push_back(run / total);
  }
  if (not cum_.empty())
    cum_.back() = 1.0;
}

namespace {
double require_positive(const JsonNode& obj, const std::string& key, std::optional<double> v, bool allow_zero)
{
  if (not v)
    obj.fail("missing '" + key + "' (a duration such as \"50us\", or '" + key + "_us')");
  if (*v < 0 or (not allow_zero and *v == 0))
    obj.fail("'" + key + "' must be " + (allow_zero ? "≥ 0" : "> 0") + ", got " + std::to_string(*v) + " s");
  return *v;
}

std::vector<double> read_counts(const JsonNode& obj, std::size_t expected, std::set<std::string>& consumed)
{
  if (not obj.value().contains("counts"))
    obj.fail("missing 'counts' (an array of non-negative numbers)");
  consumed.insert("counts");
  JsonNode c = obj.child("counts");
  c.expect_array("counts");
  std::vector<double> out;
  double total = 0;
  for (std::size_t i = 0; i < c.value().size(); ++i) {
    double v = read_number(c.at(i));
    if (v < 0)
      c.at(i).fail("a count must be ≥ 0");
    out.push_back(v);
    total += v;
  }
  if (out.size() != expected)
    c.fail("expected " + std::to_string(expected) + " counts, got " + std::to_string(out.size()));
  if (total <= 0)
    c.fail("the counts add up to zero");
  return out;
}
} // namespace

Distribution Distribution::parse(const JsonNode& node)
{
  const json& v = node.value();
  if (v.is_string()) {
    auto q = parse_quantity(Dimension::duration, v.get<std::string>());
    if (not q)
      node.fail("expected a duration such as \"50us\" or a distribution object such as {\"dist\": \"exponential\", "
                "\"mean\": \"50us\"}, got " +
                JsonNode::describe(v));
    if (*q < 0)
      node.fail("a duration must be ≥ 0, got " + v.get<std::string>());
    return deterministic(*q);
  }
  if (not v.is_object())
    node.fail("expected a distribution: a duration such as \"50us\" or an object such as {\"dist\": \"exponential\", "
              "\"mean\": \"50us\"}, got " +
              JsonNode::describe(v));
  static const std::vector<std::string> kinds{"deterministic", "exponential", "lognormal", "uniform", "empirical"};
  if (not v.contains("dist"))
    node.fail("missing 'dist' (one of deterministic, exponential, lognormal, uniform, empirical)");
  JsonNode kind_node = node.child("dist");
  if (not kind_node.value().is_string())
    kind_node.fail("expected the name of a distribution, got " + JsonNode::describe(kind_node.value()));
  std::string kind = kind_node.value().get<std::string>();
  std::set<std::string> consumed{"dist"};
  std::set<std::string> allowed{"dist"};
  auto allow = [&](const std::string& base) {
    for (auto& k : quantity_keys(base, Dimension::duration))
      allowed.insert(k);
  };
  Distribution d;
  if (kind == "deterministic") {
    allow("value");
    reject_unknown_keys(node, allowed, "a deterministic distribution");
    d = deterministic(
        require_positive(node, "value", read_quantity(node, "value", Dimension::duration, &consumed), true));
  } else if (kind == "exponential") {
    allow("mean");
    reject_unknown_keys(node, allowed, "an exponential distribution");
    d = exponential(require_positive(node, "mean", read_quantity(node, "mean", Dimension::duration, &consumed), false));
  } else if (kind == "lognormal") {
    allow("mean");
    allow("median");
    allowed.insert("cv");
    allowed.insert("sigma");
    reject_unknown_keys(node, allowed, "a lognormal distribution");
    auto mean   = read_quantity(node, "mean", Dimension::duration, &consumed);
    auto median = read_quantity(node, "median", Dimension::duration, &consumed);
    if (mean and v.contains("cv") and not median and not v.contains("sigma")) {
      double cv = read_number(node.child("cv"));
      if (cv <= 0)
        node.child("cv").fail("'cv' must be > 0");
      d = lognormal_mean_cv(require_positive(node, "mean", mean, false), cv);
    } else if (median and v.contains("sigma") and not mean and not v.contains("cv")) {
      double sigma = read_number(node.child("sigma"));
      if (sigma <= 0)
        node.child("sigma").fail("'sigma' must be > 0");
      d.kind_ = Kind::lognormal;
      d.a_    = std::log(require_positive(node, "median", median, false));
      d.b_    = sigma;
    } else {
      node.fail("a lognormal distribution takes either 'mean' and 'cv' or 'median' and 'sigma'");
    }
  } else if (kind == "uniform") {
    allow("min");
    allow("max");
    reject_unknown_keys(node, allowed, "a uniform distribution");
    double lo = require_positive(node, "min", read_quantity(node, "min", Dimension::duration, &consumed), true);
    double hi = require_positive(node, "max", read_quantity(node, "max", Dimension::duration, &consumed), true);
    if (hi < lo)
      node.fail("'max' must be ≥ 'min'");
    d = uniform(lo, hi);
  } else if (kind == "empirical") {
    allow("edges");
    allow("values");
    allowed.insert("counts");
    reject_unknown_keys(node, allowed, "an empirical distribution");
    auto edges  = read_quantity_list(node, "edges", Dimension::duration, &consumed);
    auto values = read_quantity_list(node, "values", Dimension::duration, &consumed);
    if (edges.has_value() == values.has_value())
      node.fail("an empirical distribution takes either 'edges' (histogram bins) or 'values' (atoms), with 'counts'");
    auto& pts = edges ? *edges : *values;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      if (pts[i] < 0)
        node.fail("durations must be ≥ 0");
      if (i > 0 and pts[i] < pts[i - 1])
        node.fail(std::string(edges ? "'edges'" : "'values'") + " must be increasing");
    }
    if (edges) {
      if (pts.size() < 2)
        node.fail("'edges' needs at least two values");
      d = empirical_bins(pts, read_counts(node, pts.size() - 1, consumed));
    } else {
      if (pts.empty())
        node.fail("'values' is empty");
      d = empirical_atoms(pts, read_counts(node, pts.size(), consumed));
    }
  } else {
    kind_node.fail("unknown distribution '" + kind + "'" + did_you_mean(kind, kinds) +
                   "; expected one of deterministic, exponential, lognormal, uniform, empirical");
  }
  return d;
}

double Distribution::sample(Rng& rng) const
{
  switch (kind_) {
  case Kind::deterministic:
    return a_;
  case Kind::exponential:
    return rng.exponential(a_);
  case Kind::lognormal:
    return std::exp(a_ + b_ * rng.normal());
  case Kind::uniform:
    return a_ + (b_ - a_) * rng.uniform();
  case Kind::empirical_bins: {
    double u = rng.uniform();
    auto i   = static_cast<std::size_t>(std::upper_bound(cum_.begin(), cum_.end(), u) - cum_.begin());
    i        = std::min(i, cum_.size() - 1);
    return points_[i] + (points_[i + 1] - points_[i]) * rng.uniform();
  }
  case Kind::empirical_atoms: {
    double u = rng.uniform();
    auto i   = static_cast<std::size_t>(std::upper_bound(cum_.begin(), cum_.end(), u) - cum_.begin());
    return points_[std::min(i, cum_.size() - 1)];
  }
  }
  return 0;
}

double Distribution::mean() const
{
  switch (kind_) {
  case Kind::deterministic:
    return a_;
  case Kind::exponential:
    return a_;
  case Kind::lognormal:
    return std::exp(a_ + b_ * b_ / 2);
  case Kind::uniform:
    return (a_ + b_) / 2;
  case Kind::empirical_bins: {
    double m = 0, prev = 0;
    for (std::size_t i = 0; i < cum_.size(); ++i) {
      m += (cum_[i] - prev) * (points_[i] + points_[i + 1]) / 2;
      prev = cum_[i];
    }
    return m;
  }
  case Kind::empirical_atoms: {
    double m = 0, prev = 0;
    for (std::size_t i = 0; i < cum_.size(); ++i) {
      m += (cum_[i] - prev) * points_[i];
      prev = cum_[i];
    }
    return m;
  }
  }
  return 0;
}

double Distribution::scv() const
{
  double m = mean();
  if (m == 0)
    return 0;
  double second = 0; // E[X^2]
  switch (kind_) {
  case Kind::deterministic:
    return 0;
  case Kind::exponential:
    return 1;
  case Kind::lognormal:
    return std::expm1(b_ * b_);
  case Kind::uniform:
    return (b_ - a_) * (b_ - a_) / 12 / (m * m);
  case Kind::empirical_bins: {
    double prev = 0;
    for (std::size_t i = 0; i < cum_.size(); ++i) {
      double lo = points_[i], hi = points_[i + 1];
      second += (cum_[i] - prev) * (lo * lo + lo * hi + hi * hi) / 3;
      prev = cum_[i];
    }
    break;
  }
  case Kind::empirical_atoms: {
    double prev = 0;
    for (std::size_t i = 0; i < cum_.size(); ++i) {
      second += (cum_[i] - prev) * points_[i] * points_[i];
      prev = cum_[i];
    }
    break;
  }
  }
  return second / (m * m) - 1;
}

json Distribution::to_json() const
{
  switch (kind_) {
  case Kind::deterministic:
    return {{"dist", "deterministic"}, {"value_s", a_}};
  case Kind::exponential:
    return {{"dist", "exponential"}, {"mean_s", a_}};
  case Kind::lognormal:
    return {{"dist", "lognormal"}, {"median_s", std::exp(a_)}, {"sigma", b_}};
  case Kind::uniform:
    return {{"dist", "uniform"}, {"min_s", a_}, {"max_s", b_}};
  case Kind::empirical_bins:
    return {{"dist", "empirical"}, {"edges_s", points_}, {"counts", counts_}};
  case Kind::empirical_atoms:
    return {{"dist", "empirical"}, {"values_s", points_}, {"counts", counts_}};
  }
  return {};
}

} // namespace pvsim
