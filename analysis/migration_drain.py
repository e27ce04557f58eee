#!/usr/bin/python3
"""Live migration's downtime against QEMU's downtime-limit, per drain policy (issue 19, part 2).

Usage:
  /usr/bin/python3 analysis/migration_drain.py -o OUTDIR [--scenario scenarios/qemu-migration-drain.json]
      [--latency 100us,1ms,10ms,20ms,40ms] [--iodepth 16,64,128] [--policy none,depth-cap,deadline]
      [--seeds 5] [--set PATH=VALUE ...] [--pvsim build/pvsim] [-j JOBS]

Runs the scenario once per point of image latency (the device's mean service time, components.image.read_service
.mean) x iodepth (components.fio.iodepth, per job) x policy (components.mig.policy) x seed (1..N), one pvsim process
per point, in parallel, with progress on stderr. Writes OUTDIR/migration_drain.csv (one row per point: the axes, the
migration's estimated and real downtime, drain, requests in flight at the stop and held in the avail ring, completions
in the lead window and in the same time before it, whether the downtime exceeded the limit, the job's IOPS) and
OUTDIR/migration_drain.png: per image latency, the downtime of every run per policy and iodepth against the limit
(top) and P(downtime > limit) over the seeds (bottom). Exit code 2 on bad arguments, 1 when a point fails.
"""
import argparse
import csv
import itertools
import os
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from pvsim_points import run_points, run_pvsim  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COLUMNS = ["latency", "iodepth", "policy", "seed", "estimated_downtime_ms", "downtime_ms", "drain_ms",
           "transfer_ms", "in_flight_at_stop", "held_in_avail_at_stop", "completed_in_lead",
           "completed_before_lead", "lost_to_throttling", "over_limit", "limit_ms", "iops"]


def csv_list(text):
    values = [v for v in text.split(",") if v]
    if not values:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return values


def run_point(pvsim, scenario, sets, point, workdir):
    latency, iodepth, policy, seed = point
    out = os.path.join(workdir, f"{latency}-{iodepth}-{policy}-{seed}")
    results, err = run_pvsim(pvsim, scenario, out, [f"components.image.read_service.mean={latency}",
                                                    f"components.fio.iodepth={iodepth}",
                                                    f"components.mig.policy={policy}", *sets], seed)
    if results is None:
        return None, err
    mig = results["components"]["mig"]
    limit = results["scenario"]["components"]["mig"]["downtime_limit_s"]
    runs = [m for m in mig["migrations"] if m.get("state") == "done"]
    if not runs:
        return None, "the migration did not finish within the run: lengthen its duration"
    m = runs[0]
    row = {"latency": latency, "iodepth": iodepth, "policy": policy, "seed": seed,
           "estimated_downtime_ms": 1e3 * m["estimated_downtime_s"], "downtime_ms": 1e3 * m["downtime_s"],
           "drain_ms": 1e3 * m["drain_s"], "transfer_ms": 1e3 * m["transfer_s"],
           "in_flight_at_stop": m["in_flight_at_stop"], "held_in_avail_at_stop": m["held_in_avail_at_stop"],
           "completed_in_lead": m["completed_in_lead"], "completed_before_lead": m["completed_before_lead"],
           "lost_to_throttling": m["lost_to_throttling"], "over_limit": int(m["downtime_over_limit"]),
           "limit_ms": 1e3 * limit, "iops": sum(j["iops"] for j in results["jobs"].values())}
    return row, ""


def plot(rows, latencies, iodepths, policies, path):
    colors = {p: c for p, c in zip(policies, ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple"])}
    fig, axes = plt.subplots(2, len(latencies), figsize=(3.2 * len(latencies) + 1, 6.5), squeeze=False,
                             sharey="row")
    width = 0.8 / len(policies)
    for c, lat in enumerate(latencies):
        top, bottom = axes[0][c], axes[1][c]
        for k, pol in enumerate(policies):
            xs, ys, probs = [], [], []
            for i, depth in enumerate(iodepths):
                pts = [r for r in rows if r["latency"] == lat and r["iodepth"] == depth and r["policy"] == pol]
                x = i + (k - (len(policies) - 1) / 2) * width
                xs += [x] * len(pts)
                ys += [r["downtime_ms"] for r in pts]
                probs.append(sum(r["over_limit"] for r in pts) / len(pts) if pts else 0)
            top.scatter(xs, ys, s=12, color=colors[pol], alpha=0.7, label=pol if c == 0 else None)
            bar_x = [i + (k - (len(policies) - 1) / 2) * width for i in range(len(iodepths))]
            bottom.bar(bar_x, probs, width=width, color=colors[pol], label=pol if c == 0 else None)
            for x, pr in zip(bar_x, probs):
                bottom.text(x, pr + 0.02, f"{pr:.1f}", ha="center", va="bottom", fontsize=6, color=colors[pol])
        limit = rows[0]["limit_ms"]
        top.axhline(limit, color="black", linestyle="--", linewidth=1)
        top.set_title(f"image {lat}")
        top.set_ylim(0, 1.08 * max(limit, max(r["downtime_ms"] for r in rows)))
        for ax in (top, bottom):
            ax.set_xticks(range(len(iodepths)))
            ax.set_xticklabels(iodepths)
            ax.set_xlabel("iodepth per job (2 jobs)")
        bottom.set_ylim(0, 1.15)
    axes[0][0].set_ylabel("downtime (ms); dashed: downtime-limit")
    axes[1][0].set_ylabel("P(downtime > limit)")
    axes[0][0].legend(title="drain policy", fontsize=8)
    fig.suptitle("qemu-migration-drain: downtime per drain policy against QEMU's 300 ms limit")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--outdir", required=True)
    ap.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "qemu-migration-drain.json"))
    ap.add_argument("--latency", type=csv_list, default=["100us", "1ms", "10ms", "20ms", "40ms"])
    ap.add_argument("--iodepth", type=csv_list, default=["16", "64", "128"])
    ap.add_argument("--policy", type=csv_list, default=["none", "depth-cap", "deadline"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--set", action="append", default=[], help="PATH=VALUE for every point")
    ap.add_argument("--pvsim", default=os.path.join(ROOT, "build", "pvsim"))
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        ap.error("--seeds and --jobs must be at least 1")
    if not os.access(args.pvsim, os.X_OK):
        ap.error(f"no pvsim binary at {args.pvsim} (build it, or pass --pvsim)")
    os.makedirs(args.outdir, exist_ok=True)
    points = list(itertools.product(args.latency, args.iodepth, args.policy, range(1, args.seeds + 1)))
    with tempfile.TemporaryDirectory() as work:
        done, failed = run_points(points, lambda p: run_point(args.pvsim, args.scenario, args.set, p, work), args.jobs,
                                  "migration_drain")
    rows = list(done.values())
    order = {v: i for i, v in enumerate(args.latency)}
    rows.sort(key=lambda r: (order[r["latency"]], int(r["iodepth"]), r["policy"], r["seed"]))
    with open(os.path.join(args.outdir, "migration_drain.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    if rows:
        plot(rows, args.latency, args.iodepth, args.policy, os.path.join(args.outdir, "migration_drain.png"))
    # the summary: P(downtime > limit) and mean IOPS per policy, over every point
    for pol in args.policy:
        pts = [r for r in rows if r["policy"] == pol]
        if pts:
            print(f"{pol:10s} P(downtime > limit) = {sum(r['over_limit'] for r in pts)}/{len(pts)}, "
                  f"median downtime {sorted(r['downtime_ms'] for r in pts)[len(pts) // 2]:.0f} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
