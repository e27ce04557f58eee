#!/usr/bin/python3
"""Sweep a scenario over one or more parameters, one pvsim process per point, and plot the result.

Usage:
  /usr/bin/python3 analysis/sweep.py SCENARIO.json --axis PATH=V1,V2,... [--axis PATH=...] -o OUTDIR
                                     [--set PATH=VALUE ...] [--reference CSV [--reference-label TEXT]] [--pvsim build/pvsim] [-j JOBS]
                                     [--seed N]
Example (the published xen-blk-mq figure, and the same without the ring lock):
  /usr/bin/python3 analysis/sweep.py scenarios/xen-blk-mq.json --axis components.fio.numjobs=1,4,8,16 \\
      --axis components.xvda.max_queues=1,4,16 --reference analysis/published/xen_blkfront_mq_2015.csv \\
      -o out/xen-blk-mq-sweep
  ... --set components.xvda.ring_lock=off -o out/xen-blk-mq-no-lock

The first axis is the x axis of the plot; every combination of the others is one line. --set applies to every
point. --reference draws published points beside the lines: a CSV (lines starting with # are comments) with a column
per axis named by its last path component (an axis without a column matches every row), `kiops` and `label`; a
point is drawn where its x value is on the axis; --reference-label keeps the rows whose label contains TEXT.
Writes OUTDIR/sweep.csv (one row per point: the axes, then per job IOPS, MB/s, mean/p50/p99 latency in us, then the
run's spinning on locks per request in us and its busiest lock's held fraction) and OUTDIR/sweep.png, and keeps
each point's results in OUTDIR/points/. Progress goes to stderr. Exit code 2 on bad arguments, 1 when a point fails
(its pvsim message is shown).
"""
import argparse
import concurrent.futures
import csv
import itertools
import json
import os
import subprocess
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def parse_axis(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected PATH=V1,V2,..., got {text!r}")
    path, values = text.split("=", 1)
    values = [v for v in values.split(",") if v != ""]
    if not path or not values:
        raise argparse.ArgumentTypeError(f"expected PATH=V1,V2,..., got {text!r}")
    return path, values


def read_reference(path):
    with open(path) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    for r in rows:
        if "kiops" not in r or "label" not in r:
            raise ValueError(f"{path}: expected columns kiops and label")
    return rows


def contention(results):
    """Spinning on locks per completed request (us) and the busiest lock's held fraction of the window."""
    c = results.get("contention", {})
    locks = c.get("locks", [])
    window = results.get("window_s", 0) or 0
    completed = sum(j["iops"] for j in results["jobs"].values()) * window
    spin = sum(lk["wait_s"] for lk in locks)
    held = max((lk["hold_s"] / window for lk in locks), default=0) if window > 0 else 0
    return (spin / completed * 1e6 if completed > 0 else 0), held


def run_point(pvsim, scenario, outdir, assignment, seed):
    cmd = [pvsim, "run", "-q", scenario, "-o", outdir]
    for path, value in assignment:
        cmd += ["--set", f"{path}={value}"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario")
    ap.add_argument("--axis", action="append", type=parse_axis, required=True, help="PATH=V1,V2,...")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--pvsim", default=os.path.join(os.path.dirname(__file__), "..", "build", "pvsim"))
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--set", action="append", type=parse_axis, default=[], dest="fixed",
                    help="PATH=VALUE applied to every point")
    ap.add_argument("--reference", help="CSV of published points to draw beside the lines")
    ap.add_argument("--reference-label", help="only the published points whose label contains this text")
    args = ap.parse_args(argv)
    fixed = []
    for path, values in args.fixed:
        fixed.append((path, ",".join(values)))
    reference = []
    if args.reference:
        try:
            reference = read_reference(args.reference)
            if args.reference_label:
                reference = [r for r in reference if args.reference_label in r["label"]]
        except (OSError, ValueError) as e:
            print(f"sweep: {e}", file=sys.stderr)
            return 2
    if not os.path.exists(args.pvsim):
        print(f"sweep: no pvsim binary at {args.pvsim} (build it, or give --pvsim)", file=sys.stderr)
        return 2
    names = [p for p, _ in args.axis]
    points = list(itertools.product(*[v for _, v in args.axis]))
    os.makedirs(os.path.join(args.output, "points"), exist_ok=True)
    results = {}
    start = time.time()
    tty = sys.stderr.isatty()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {}
        for point in points:
            label = "_".join(f"{n.split('.')[-1]}-{v}" for n, v in zip(names, point))
            outdir = os.path.join(args.output, "points", label)
            futures[pool.submit(run_point, args.pvsim, args.scenario, outdir, fixed + list(zip(names, point)),
                                args.seed)] = (point, outdir)
        done = 0
        for fut in concurrent.futures.as_completed(futures):
            point, outdir = futures[fut]
            rc, out = fut.result()
            done += 1
            if rc != 0:
                print(f"\nsweep: point {dict(zip(names, point))} failed (exit {rc}):\n{out}", file=sys.stderr)
                pool.shutdown(cancel_futures=True)
                return 1
            with open(os.path.join(outdir, "results.json")) as f:
                results[point] = json.load(f)
            elapsed = time.time() - start
            eta = elapsed / done * (len(points) - done)
            msg = f"[sweep] {done}/{len(points)} points, {elapsed:.1f} s, ETA {eta:.1f} s"
            print(("\r" + msg + "   ") if tty else msg, end="" if tty else "\n", file=sys.stderr, flush=True)
    if tty:
        print(file=sys.stderr)

    jobs = sorted({j for r in results.values() for j in r["jobs"]})
    csv_path = os.path.join(args.output, "sweep.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        header = list(names)
        for j in jobs:
            header += [f"{j}.iops", f"{j}.MBps", f"{j}.lat_mean_us", f"{j}.lat_p50_us", f"{j}.lat_p99_us"]
        header += ["lock_spin_us_per_request", "busiest_lock_held"]
        w.writerow(header)
        for point in points:
            row = list(point)
            for j in jobs:
                s = results[point]["jobs"].get(j)
                row += ([s["iops"], s["MBps"], s["latency_us"]["mean"], s["latency_us"]["p50"],
                         s["latency_us"]["p99"]] if s else [""] * 5)
            row += list(contention(results[point]))
            w.writerow(row)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    x_values = args.axis[0][1]
    others = [v for _, v in args.axis[1:]]
    drawn = set()
    for combo in itertools.product(*others) if others else [()]:
        series = [results[(x,) + combo] for x in x_values]
        iops = [sum(j["iops"] for j in r["jobs"].values()) / 1000 for r in series]
        lat = [max(j["latency_us"]["mean"] for j in r["jobs"].values()) for r in series]
        label = ", ".join(f"{n.split('.')[-1]}={v}" for n, v in zip(names[1:], combo)) or "all"
        line = ax1.plot(x_values, iops, marker="o", label=label)[0]
        ax2.plot(x_values, lat, marker="o", label=label)
        # Published points for the same values of the other axes, in the line's colour.
        short = [n.split(".")[-1] for n in names]
        by_label = {}
        for r in reference:
            # an axis the CSV has no column for matches every row (each published series is drawn once)
            if all(r.get(s) in (None, v) for s, v in zip(short[1:], combo)) and r.get(short[0]) in x_values:
                by_label.setdefault(r["label"], []).append((x_values.index(r[short[0]]), float(r["kiops"])))
        for ref_label, pts in by_label.items():
            if ref_label in drawn:
                continue
            drawn.add(ref_label)
            pts.sort()
            ax1.plot([x_values[i] for i, _ in pts], [k for _, k in pts], linestyle="--", marker="x",
                     color=line.get_color(), label=f"published: {ref_label}")
    for ax, ylabel in ((ax1, "total kIOPS"), (ax2, "mean latency (us)")):
        ax.set_xlabel(names[0])
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(os.path.basename(args.scenario))
    fig.tight_layout()
    png = os.path.join(args.output, "sweep.png")
    fig.savefig(png, dpi=120)
    print(f"sweep: {csv_path}, {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
