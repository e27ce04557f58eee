/* pvsim: closed-form queueing results, used to prove the engine (tests) and as baselines (validation).
 * Times in seconds, rates per second. */
#pragma once

namespace pvsim::analytic {

/** M/M/1 mean response time 1/(mu - lambda). */
double mm1_response(double lambda, double mu);
/** q-quantile of the M/M/1 response time, which is exponential with rate mu - lambda. */
double mm1_response_quantile(double lambda, double mu, double q);
/** M/G/1 mean response time by Pollaczek-Khinchine: S + rho S (1 + scv) / (2 (1 - rho)). */
double mg1_response(double lambda, double mean_service, double scv);
/** Erlang C: probability that an arrival waits in M/M/c with offered load a = lambda/mu (a < c). */
double erlang_c(int c, double a);
/** M/M/c mean response time: C(c, a) / (c mu - lambda) + 1/mu. */
double mmc_response(double lambda, double mu, int c);

struct ClosedResult {
  double throughput;  // X(N)
  double response;    // R(N) at the station (queue + service)
  double utilization; // per server
  double mean_at_station;
};
/** Exact mean value analysis of N customers cycling between a delay (think time Z) and a station of c servers of
 * rate mu each (load-dependent MVA with marginal queue-length probabilities). */
ClosedResult closed_mva(int customers, double think_time, double mu, int c);

/** Two-parameter bound interpolation X(N) = N / (R1 + (N - 1) / Xmax). */
double bound_interpolation(double n, double r1, double xmax);

} // namespace pvsim::analytic
