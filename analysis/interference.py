#!/usr/bin/python3
"""`pvsim interference SCENARIO`: the interference matrix of a host's guests, how much guest j's load moves guest
i's latency, by counterfactual runs: the scenario as it is (the baseline) and, for every guest j, the same scenario
with j's workloads silenced (their startdelay past the end of the run; j's devices, vCPUs and threads stay, idle).

    M[i][j] = 100 * (p99_i(baseline) / p99_i(without j) - 1)      in percent; the diagonal is empty

A column is what one guest does to the others (a noisy neighbour's column is hot); a row is what a guest suffers.
Each seed (--repeats, default 3: the scenario's seed and the next ones) runs the baseline and every silenced run, so
a cell compares runs of the same seed; the cell is the mean over the seeds and its standard deviation says how much
of it is the runs' own randomness (cells within it are noise, not interference). The baseline also gives the
per-guest report (IOPS, p50/p99/p99.9, Jain's index across guests) and the host's CPU split.

Usage (pvsim interference runs this with its own binary as --pvsim):
  /usr/bin/python3 analysis/interference.py SCENARIO [--set PATH=VALUE ...] [-o DIR] [-j N] [--metric p99]
                                            [--of block|net|all] [--pvsim build/pvsim]

The latency compared is that of the guests' block I/Os (job.fio, source.replay) by default, of their packets
(net.flow) with --of net (the default when no guest has a disk workload), or of both together with --of all.

DIR (default out/interference-<scenario name>) gets baseline/seedS/ and without-<guest>/seedS/ (`pvsim run` folders),
interference.json (guests, baseline per guest, every run's per-guest metric, the matrix of the metric and of IOPS),
interference.csv (one row per (guest i, guest j)), interference.png (the heat map) and guests.png (per-guest p99 and
p99.9 bars of the baseline, with each guest's latency when its worst neighbour is silenced). Exit status: 0, 1 when a
run failed (named, with its error), 2 a bad scenario or option (pvsim's message; nothing written).
"""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys

from pvsim_points import run_points, run_pvsim

SILENCE = {"job.fio": "startdelay", "net.flow": "startdelay", "source.replay": "startdelay"}
KIND = {"job.fio": "block", "source.replay": "block", "net.flow": "net"}
KIND_WORDS = {"block": "block I/Os", "net": "packets", "all": "all requests"}
NEVER = "1000000s"  # after any run's end (the longest startdelay a workload accepts)
METRICS = ("mean", "p50", "p90", "p99", "p99.9")


class InterferenceError(Exception):
    """A bad scenario or option: exit 2, nothing written."""


def pvsim_check(pvsim, scenario, sets):
    cmd = [pvsim, "check", scenario, "--expand"] + [a for s in sets for a in ("--set", s)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise InterferenceError(proc.stderr.strip() or proc.stdout.strip())
    return json.loads(proc.stdout)


def guests_of(expanded):
    """guest.vm name -> the workloads (components with a "vm" that submit) running on it."""
    comps = expanded["components"]
    guests = {}
    for name, c in sorted(comps.items()):
        if c.get("type") in SILENCE and isinstance(c.get("vm"), str):
            guests.setdefault(c["vm"], []).append(name)
    return guests


def natural(name):
    """vm2 before vm10."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name) if t]


def guest_part(results, guest, kind):
    """A guest's report over its block I/Os, its packets or all its requests (a guest with one kind has no parts)."""
    g = results.get("guests", {}).get("per_guest", {}).get(guest)
    if g is None:
        return None
    if kind != "all" and ("block" in g or "net" in g):
        g = g.get(kind)
    elif kind != "all" and not all(KIND[results["scenario"]["components"][j]["type"]] == kind for j in g["jobs"]):
        return None
    return g if g and g["requests"] > 0 else None


def guest_metric(results, guest, metric, kind):
    g = guest_part(results, guest, kind)
    return g["latency_us"][metric] if g else None


def change_pct(with_j, without_j):
    if with_j is None or without_j is None or without_j <= 0:
        return None
    return 100.0 * (with_j / without_j - 1.0)


def plot(out, guests, matrix, baseline, alone_worst, metric, scenario_name):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = len(guests)
    values = [[(matrix[i][j] if matrix[i][j] is not None else float("nan")) for j in range(n)] for i in range(n)]
    finite = [abs(v) for row in values for v in row if v == v]
    vmax = max(finite) if finite else 1.0
    size = max(4.5, min(14.0, 0.45 * n + 2.5))
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    im = ax.imshow(values, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_xticks(range(n), guests, rotation=90 if n > 6 else 0)
    ax.set_yticks(range(n), guests)
    ax.set_xlabel("guest j (its load present vs silenced)")
    ax.set_ylabel("guest i (whose latency moves)")
    ax.set_title(f"{scenario_name}: how much guest j's load moves guest i's {metric} latency (%)\n"
                 "a hot column is a noisy neighbour; the diagonal is empty", fontsize=10)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if values[i][j] == values[i][j]:
                    ax.text(j, i, f"{values[i][j]:.0f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(values[i][j]) > 0.6 * vmax else "black")
    fig.colorbar(im, ax=ax, label=f"change of guest i's {metric} latency (%)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "interference.png"), dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * n + 2), 4.5))
    xs = range(n)
    w = 0.28
    p99 = [baseline[g]["p99"] if baseline[g] else 0 for g in guests]
    p999 = [baseline[g]["p99.9"] if baseline[g] else 0 for g in guests]
    quiet = [alone_worst[g] if alone_worst[g] is not None else 0 for g in guests]
    ax.bar([x - w for x in xs], p99, w, label="p99, every guest running")
    ax.bar(list(xs), p999, w, label="p99.9, every guest running")
    ax.bar([x + w for x in xs], quiet, w, label=f"{metric}, its worst neighbour silenced")
    ax.set_xticks(list(xs), guests, rotation=90 if n > 6 else 0)
    ax.set_ylabel("latency (µs)")
    ax.set_title(f"{scenario_name}: per-guest tail latency (higher is worse)", fontsize=10, pad=28)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "guests.png"), dpi=110)
    plt.close(fig)


def main(argv):
    ap = argparse.ArgumentParser(prog="pvsim interference", description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--set", action="append", default=[], dest="sets", metavar="PATH=VALUE")
    ap.add_argument("-o", "--output")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--metric", default="p99", choices=METRICS)
    ap.add_argument("--of", choices=("block", "net", "all"),
                    help="whose latency: the guests' block I/Os (default when there are some), their packets, or all")
    ap.add_argument("--pvsim", default=shutil.which("pvsim") or "pvsim")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--repeats", type=int, default=3,
                    help="seeds per run (the scenario's seed and the next ones); a cell is their mean, its spread "
                         "their standard deviation")
    args = ap.parse_args(argv)
    try:
        if args.jobs < 1:
            raise InterferenceError("-j: expected at least 1 run at once")
        if args.repeats < 1:
            raise InterferenceError("--repeats: expected at least 1 seed")
        expanded = pvsim_check(args.pvsim, args.scenario, args.sets)
        guests_jobs = guests_of(expanded)
        guests = sorted(guests_jobs, key=natural)
        kinds = {KIND[expanded["components"][w]["type"]] for ws in guests_jobs.values() for w in ws}
        kind = args.of or ("block" if "block" in kinds else "net")
        if len(guests) < 2:
            raise InterferenceError(
                f"{args.scenario}: the interference matrix needs at least two guests with workloads (job.fio, "
                f"net.flow or source.replay naming their guest.vm in \"vm\"); found {len(guests)}"
                + (f" ({guests[0]})" if guests else ""))
    except InterferenceError as e:
        print(f"pvsim interference: error: {e}", file=sys.stderr)
        return 2
    name = expanded.get("name") or os.path.splitext(os.path.basename(args.scenario))[0]
    out = args.output or os.path.join("out", f"interference-{name}")
    os.makedirs(out, exist_ok=True)

    first_seed = int(expanded.get("seed", 1))
    seeds = [first_seed + r for r in range(args.repeats)]
    runs = {}  # run folder -> its --set list
    for seed in seeds:
        runs[f"baseline/seed{seed}"] = args.sets + [f"seed={seed}"]
        for g in guests:
            silence = [f"components.{w}.{SILENCE[expanded['components'][w]['type']]}={NEVER}"
                       for w in guests_jobs[g]]
            runs[f"without-{g}/seed{seed}"] = args.sets + [f"seed={seed}"] + silence
    print(f"[interference] {len(guests)} guests x {len(seeds)} seeds: {len(runs)} runs of {args.scenario} "
          f"({args.jobs} at once) into {out}/", file=sys.stderr, flush=True)
    failures = {}

    def run(label):
        value, err = run_pvsim(args.pvsim, args.scenario, os.path.join(out, label), runs[label])
        if value is None:
            failures[label] = err.strip()
        return value, err

    results, _ = run_points(list(runs), run, args.jobs, "interference")
    if any(label.startswith("baseline/") for label in failures):
        print("pvsim interference: a baseline run failed (its error is above)", file=sys.stderr)
        return 1

    n = len(guests)
    # Per seed: the baseline and each silenced run share the seed, so a cell compares like with like; over the seeds
    # a cell's spread is how much of it is the run's own randomness.
    cells = [[[] for _ in range(n)] for _ in range(n)]
    cells_iops = [[[] for _ in range(n)] for _ in range(n)]
    without = {g: {} for g in guests}
    for seed in seeds:
        base_s = results[f"baseline/seed{seed}"]
        for j, gj in enumerate(guests):
            r = results.get(f"without-{gj}/seed{seed}")
            if r is None:
                continue
            for i, gi in enumerate(guests):
                if i == j:
                    continue
                v = guest_metric(r, gi, args.metric, kind)
                without[gj].setdefault(gi, []).append(v)
                c = change_pct(guest_metric(base_s, gi, args.metric, kind), v)
                if c is not None:
                    cells[i][j].append(c)
                b, w = guest_part(base_s, gi, kind), guest_part(r, gi, kind)
                if b and w:
                    ci = change_pct(b["iops"], w["iops"])
                    if ci is not None:
                        cells_iops[i][j].append(ci)

    def mean(xs):
        return sum(xs) / len(xs) if xs else None

    def sd(xs):
        if len(xs) < 2:
            return None
        m = mean(xs)
        return (sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5

    matrix = [[mean(cells[i][j]) for j in range(n)] for i in range(n)]
    matrix_sd = [[sd(cells[i][j]) for j in range(n)] for i in range(n)]
    matrix_iops = [[mean(cells_iops[i][j]) for j in range(n)] for i in range(n)]
    without = {gj: {gi: mean([v for v in vs if v is not None]) for gi, vs in d.items()} for gj, d in without.items()}
    base = results[f"baseline/seed{seeds[0]}"]
    base_parts = {g: [guest_part(results[f"baseline/seed{s}"], g, kind) for s in seeds] for g in guests}
    baseline = {g: ({m: mean([p["latency_us"][m] for p in base_parts[g]]) for m in METRICS}
                    if all(base_parts[g]) else None) for g in guests}
    base_iops = {g: (mean([p["iops"] for p in base_parts[g]]) if all(base_parts[g]) else None) for g in guests}
    # Each guest's worst neighbour: the j whose silencing helps it most.
    worst = {}
    alone_worst = {}
    for i, gi in enumerate(guests):
        cells = [(matrix[i][j], guests[j]) for j in range(n) if matrix[i][j] is not None]
        if cells:
            pct, gj = max(cells)
            worst[gi] = {"guest": gj, "change_pct": pct}
            alone_worst[gi] = without[gj][gi]
        else:
            alone_worst[gi] = None
    doc = {"format": "pvsim-interference", "scenario": args.scenario, "set": args.sets, "metric": args.metric,
           "of": kind,
           "definition": f"matrix[i][j] = 100 * ({args.metric}_i(baseline) / {args.metric}_i(guest j's workloads "
                         f"silenced) - 1); matrix_iops likewise with IOPS",
           "guests": guests, "workloads": guests_jobs,
           "baseline": {"per_guest": {g: {"iops": base_iops[g], "latency_us": baseline[g]} for g in guests},
                        "fairness_jain_iops": base.get("guests", {}).get("fairness_jain_iops"),
                        "host_cpu": base.get("host_cpu")},
           "seeds": seeds, "without": without, "matrix_pct": matrix, "matrix_sd_pct": matrix_sd,
           "matrix_iops_pct": matrix_iops, "worst_neighbour": worst,
           "failed": failures}
    with open(os.path.join(out, "interference.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out, "interference.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["guest_i", "guest_j", f"{args.metric}_us_baseline", f"{args.metric}_us_without_j",
                    f"{args.metric}_change_pct", f"{args.metric}_change_sd_pct", "iops_change_pct"])
        for i, gi in enumerate(guests):
            for j, gj in enumerate(guests):
                if i != j:
                    w.writerow([gi, gj, baseline[gi][args.metric] if baseline[gi] else None,
                                without.get(gj, {}).get(gi), matrix[i][j], matrix_sd[i][j], matrix_iops[i][j]])
    if not args.no_plot:
        plot(out, guests, matrix, baseline, alone_worst, args.metric, f"{name} ({KIND_WORDS[kind]})")

    width = max(8, max(len(g) for g in guests) + 2)
    print(f"how much guest j's load moves guest i's {args.metric} latency of {KIND_WORDS[kind]} (%), rows i, "
          f"columns j:")
    print("".ljust(width) + "".join(g[:9].rjust(10) for g in guests))
    def cell(i, j):
        if matrix[i][j] is None:
            return ""
        noise = matrix_sd[i][j] is not None and abs(matrix[i][j]) < 2 * matrix_sd[i][j]
        return f"{matrix[i][j]:.1f}" + ("~" if noise else "")

    for i, gi in enumerate(guests):
        print(gi.ljust(width) + "".join(cell(i, j).rjust(10) for j in range(n)))
    if len(seeds) > 1:
        print(f"(~: within two standard deviations over the {len(seeds)} seeds: noise, not interference)")
    for gi in guests:
        if gi in worst:
            print(f"{gi}: worst neighbour {worst[gi]['guest']} (+{worst[gi]['change_pct']:.1f} % {args.metric})"
                  if worst[gi]["change_pct"] > 0 else f"{gi}: no neighbour raises its {args.metric}")
    print(f"written: {out}/interference.json, interference.csv" +
          ("" if args.no_plot else ", interference.png, guests.png"))
    if failures:
        print(f"pvsim interference: {len(failures)} runs failed (errors above, and in interference.json): "
              f"{', '.join(sorted(failures))}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("\npvsim interference: interrupted", file=sys.stderr)
        sys.exit(130)
