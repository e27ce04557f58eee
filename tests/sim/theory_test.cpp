/* The engine against queueing theory. Each test simulates a textbook system long enough for the mean response time
 * to be within 2 % of the closed form (and M/M/1's p99 within 3 %), prints expected value, simulated value, error,
 * tolerance and the 95 % confidence interval from batch means, and fails outside the tolerance.
 * Run lengths: 2.5 M customers at utilisation 0.5, 10 M at 0.9 (the relaxation time grows as 1/(1-rho)^2), after a
 * warm-up of 1 s of simulated time (100 k service times). Service time mean 10 us. */
#include "analysis/calibration/analytic.hpp"
#include "tests/support/support.hpp"

using namespace pvsim;
using pvsim::test::BatchMeans;
using pvsim::test::expect_close;

namespace {

constexpr double service_s = 10e-6;
constexpr double mu        = 1.0 / service_s;
constexpr double warmup_s  = 1.0;

struct OpenRun {
  double mean_s, p99_s, half_width_s;
};

/** Poisson arrivals at `lambda` into a station with `servers` servers and the given service distribution. */
OpenRun run_open(double lambda, int servers, const json& service, double customers)
{
  double duration = warmup_s + customers / lambda;
  json doc        = {{"name", "theory"},
                     {"seed", 7},
                     {"duration_s", duration},
                     {"warmup_s", warmup_s},
                     {"components",
                      {{"arrivals", {{"type", "source.open"}, {"rate_iops", lambda}, {"target", "station"}}},
                       {"station", {{"type", "station.fifo"}, {"servers", servers}, {"service", service}}}}}};
  Simulation sim(scenario_from_json(doc, "theory"));
  auto queues = sim.components()[1]->queues();
  BatchMeans bm(queues.at(0).station->probe(), warmup_s, static_cast<std::uint64_t>(customers / 50));
  json r = sim.run();
  require_conservation(r);
  const json& resp = r["queues"]["station"]["response_us"];
  return {resp["mean"].get<double>() * 1e-6, resp["p99"].get<double>() * 1e-6, bm.half_width()};
}

json exponential_service()
{
  return {{"dist", "exponential"}, {"mean_s", service_s}};
}

} // namespace

TEST(Theory, MM1MeanResponseAtUtilization05)
{
  auto r = run_open(0.5 * mu, 1, exponential_service(), 2.5e6);
  expect_close("M/M/1 rho=0.5 mean response", r.mean_s, analytic::mm1_response(0.5 * mu, mu), 0.02, r.half_width_s);
}

TEST(Theory, MM1MeanResponseAtUtilization09)
{
  auto r = run_open(0.9 * mu, 1, exponential_service(), 10e6);
  expect_close("M/M/1 rho=0.9 mean response", r.mean_s, analytic::mm1_response(0.9 * mu, mu), 0.02, r.half_width_s);
}

TEST(Theory, MM1P99ResponseAtUtilization05)
{
  auto r = run_open(0.5 * mu, 1, exponential_service(), 2.5e6);
  expect_close("M/M/1 rho=0.5 p99 response", r.p99_s, analytic::mm1_response_quantile(0.5 * mu, mu, 0.99), 0.03);
}

TEST(Theory, MM1P99ResponseAtUtilization09)
{
  auto r = run_open(0.9 * mu, 1, exponential_service(), 10e6);
  expect_close("M/M/1 rho=0.9 p99 response", r.p99_s, analytic::mm1_response_quantile(0.9 * mu, mu, 0.99), 0.03);
}

TEST(Theory, MD1MeanResponseAtUtilization05)
{
  auto r = run_open(0.5 * mu, 1, json(std::to_string(service_s * 1e6) + "us"), 2.5e6);
  expect_close("M/D/1 rho=0.5 mean response (Pollaczek-Khinchine)", r.mean_s,
               analytic::mg1_response(0.5 * mu, service_s, 0.0), 0.02, r.half_width_s);
}

TEST(Theory, MD1MeanResponseAtUtilization09)
{
  auto r = run_open(0.9 * mu, 1, json(std::to_string(service_s * 1e6) + "us"), 10e6);
  expect_close("M/D/1 rho=0.9 mean response (Pollaczek-Khinchine)", r.mean_s,
               analytic::mg1_response(0.9 * mu, service_s, 0.0), 0.02, r.half_width_s);
}

TEST(Theory, MMcMeanResponseAtUtilization05)
{
  const int c = 4;
  auto r      = run_open(0.5 * c * mu, c, exponential_service(), 2.5e6);
  expect_close("M/M/4 rho=0.5 mean response (Erlang C)", r.mean_s, analytic::mmc_response(0.5 * c * mu, mu, c), 0.02,
               r.half_width_s);
}

TEST(Theory, MMcMeanResponseAtUtilization09)
{
  const int c = 4;
  auto r      = run_open(0.9 * c * mu, c, exponential_service(), 10e6);
  expect_close("M/M/4 rho=0.9 mean response (Erlang C)", r.mean_s, analytic::mmc_response(0.9 * c * mu, mu, c), 0.02,
               r.half_width_s);
}

namespace {
/** N customers (one closed job of iodepth N, exponential think time Z) over a station of c exponential servers. */
void check_closed(int customers, double think_s, int c, double expected_util, double customers_served)
{
  auto mva = analytic::closed_mva(customers, think_s, mu, c);
  ASSERT_NEAR(mva.utilization, expected_util, 0.02) << "test set-up: choose N and Z for the intended utilisation";
  double duration = warmup_s + customers_served / mva.throughput;
  json doc        = {{"name", "closed"},
                     {"seed", 11},
                     {"duration_s", duration},
                     {"warmup_s", warmup_s},
                     {"components",
                      {{"job",
                        {{"type", "source.closed"},
                         {"iodepth", customers},
                         {"think_time", {{"dist", "exponential"}, {"mean_s", think_s}}},
                         {"target", "station"}}},
                       {"station", {{"type", "station.fifo"}, {"servers", c}, {"service", exponential_service()}}}}}};
  Simulation sim(scenario_from_json(doc, "closed"));
  BatchMeans bm(sim.components()[1]->queues().at(0).station->probe(), warmup_s,
                static_cast<std::uint64_t>(customers_served / 50));
  json r = sim.run();
  require_conservation(r);
  double resp       = r["queues"]["station"]["response_us"]["mean"].get<double>() * 1e-6;
  double x          = r["queues"]["station"]["iops"].get<double>();
  std::string label = "closed N=" + std::to_string(customers) + " c=" + std::to_string(c) + " util " +
                      std::to_string(expected_util).substr(0, 3);
  expect_close(label + " mean response (MVA)", resp, mva.response, 0.02, bm.half_width());
  expect_close(label + " throughput (MVA)", x, mva.throughput, 0.02);
  // Little's law on the station: mean number present = throughput x response time.
  double n_station = r["queues"]["station"]["mean_in_system"].get<double>();
  expect_close(label + " Little's law at the station", n_station, x * resp, 0.01);
}
} // namespace

TEST(Theory, ClosedLoopMeanValueAnalysisAtUtilization05)
{
  // 8 customers over 2 servers; the think time (found by MVA) gives utilisation 0.5.
  check_closed(8, 68.2e-6, 2, 0.5, 2.5e6);
}

TEST(Theory, ClosedLoopMeanValueAnalysisAtUtilization09)
{
  check_closed(16, 65e-6, 2, 0.9, 5e6);
}

TEST(Theory, MeanValueAnalysisAgreesWithTheBirthDeathChain)
{
  // The closed network is a birth-death chain in the number n at the station: births (N-n)/Z, deaths min(n,c) mu.
  const int n_cust = 10, c = 3;
  const double z = 50e-6;
  std::vector<double> w(n_cust + 1);
  w[0] = 1;
  for (int n = 1; n <= n_cust; ++n)
    w[n] = w[n - 1] * ((n_cust - n + 1) / z) / (std::min(n, c) * mu);
  double total = 0, mean_n = 0, x = 0;
  for (int n = 0; n <= n_cust; ++n)
    total += w[n];
  for (int n = 0; n <= n_cust; ++n) {
    mean_n += n * w[n] / total;
    x += std::min(n, c) * mu * w[n] / total;
  }
  auto mva = analytic::closed_mva(n_cust, z, mu, c);
  EXPECT_NEAR(mva.throughput, x, x * 1e-9);
  EXPECT_NEAR(mva.response, mean_n / x, mean_n / x * 1e-9);
}
