"""Checks a pvsim_bench JSON's headline against the figures beside it (the test PvsimBench.TheHeadlineIsEachFiguresFastestRun).

Speed itself is never asserted: only that the headline is what the bench says it is, the fastest run of each figure.
"""
import json
import math
import sys

d = json.load(open(sys.argv[1]))
h = d["headline"]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


pairs = [("sim_requests_per_s", d["sim_requests_per_s_best"], d["sim_requests_per_s"], d["sim_requests_per_s_range"]),
         ("xen_blk_mq_4q_requests_per_s", d["xen_blk_mq_4q"]["sim_requests_per_s_best"],
          d["xen_blk_mq_4q"]["sim_requests_per_s"], d["xen_blk_mq_4q"]["sim_requests_per_s_range"]),
         ("firecracker_blk_requests_per_s", d["firecracker_blk"]["sim_requests_per_s_best"],
          d["firecracker_blk"]["sim_requests_per_s"], d["firecracker_blk"]["sim_requests_per_s_range"])]
for key, best, med, rng in pairs:
    check(h[key] == best, f"headline {key} is the figure's fastest run ({h[key]:.0f})")
    check(best == rng["max"], f"{key}: the fastest run is the top of the range ({rng['max']:.0f})")
    check(best >= med, f"{key}: the fastest run ({best:.0f}) is at least the median ({med:.0f})")
check(math.isclose(h["ratio_sim_to_reference"], d["sim_requests_per_s_best"] / d["reference_requests_per_s_best"]),
      "headline ratio is the fastest pvsim run over the fastest plain-loop run")
for curve in ("queues", "guests"):
    c = d["cost_curve_" + curve]
    check(h[f"cost_curve_{curve}_spread"] == c["spread_around_middle_best"],
          f"headline {curve} spread is the curve's spread over its fastest points")
    best = [p["us_per_request_best"] for p in c["points"]]
    lo, hi = min(best), max(best)
    check(math.isclose(c["spread_around_middle_best"], (hi - lo) / (hi + lo) if hi + lo > 0 else 0.0),
          f"{curve}: (highest - lowest) / (highest + lowest) of the fastest points")
sys.exit(1 if failures else 0)
