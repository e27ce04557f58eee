#!/usr/bin/python3
"""AIO queue sizing (issue 19): per-disk IOPS, p99 and fairness against the number of disks on one IOThread, for every
AIO engine and every sizing policy of scenarios/qemu-aio-sizing.json, one pvsim process per point.

Usage:
  /usr/bin/python3 analysis/aio_sizing.py [-o OUTDIR] [--disks 1,2,4,8,16] [--engines native,threads,io_uring]
                                          [--policies fixed,per-disk,adaptive] [--seeds 1,2] [--deep]
                                          [--pvsim build/pvsim] [-j JOBS]
--deep makes the guests 512 deep per disk (past the LUNs' host request queues of 256: where more is worse).
Writes OUTDIR/aio_sizing.csv (one row per engine, policy, disks: per-disk IOPS as the mean over the disks and the
seeds, its spread over the seeds, the worst disk's p99 in us, Jain's fairness over the disks' IOPS, the queue's mean
length, the share of time io_submit slept, the queue's kernel memory) and OUTDIR/aio_sizing.png. Progress on stderr.
Exit 2 on bad arguments, 1 when a point fails.
"""
import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from pvsim_points import run_points, run_pvsim  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "..", "scenarios", "qemu-aio-sizing.json")


def int_list(text):
    try:
        return [int(x) for x in text.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}")


def run_point(pvsim, outdir, engine, policy, disks, seed, deep):
    sets = [f"components.iot.aio={engine}", f"components.iot.sizing={policy}", f"groups.disk.count={disks}",
            f"seed={seed}"]
    if deep:
        sets += ["groups.disk.components.fio{i}.iodepth=512", "groups.disk.components.vd{i}.queue_size=512"]
    results, err = run_pvsim(pvsim, SCENARIO, outdir, sets)
    return (summarize(results) if results is not None else None), err


def jain(values):
    s, s2 = sum(values), sum(v * v for v in values)
    return s * s / (len(values) * s2) if s2 > 0 else 1.0


def summarize(results):
    jobs = results["jobs"]
    iops = [j["iops"] for j in jobs.values()]
    iot = results["components"]["iot"]
    return {
        "iops": sum(iops) / len(iops),
        "p99_us": max(j["latency_us"]["p99"] for j in jobs.values()),
        "fairness": jain(iops),
        "mean_length": iot["sizing"]["mean_length"],
        "blocked_fraction": iot["host_queue"]["blocked_fraction"],
        "kernel_memory_bytes": iot["sizing"]["kernel_memory_bytes"],
    }


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", default="out/aio-sizing")
    ap.add_argument("--disks", type=int_list, default=[1, 2, 4, 8, 16])
    ap.add_argument("--engines", default="native,threads,io_uring")
    ap.add_argument("--policies", default="fixed,per-disk,adaptive")
    ap.add_argument("--seeds", type=int_list, default=[1, 2])
    ap.add_argument("--deep", action="store_true")
    ap.add_argument("--pvsim", default=os.path.join(HERE, "..", "build", "pvsim"))
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    policies = [p for p in args.policies.split(",") if p]
    if not os.path.exists(args.pvsim):
        print(f"aio_sizing.py: no pvsim at {args.pvsim} (build it first)", file=sys.stderr)
        return 2
    os.makedirs(os.path.join(args.out, "points"), exist_ok=True)
    points = [(e, p, d, s) for e in engines for p in policies for d in args.disks for s in args.seeds]
    def point(pt):
        outdir = os.path.join(args.out, "points", "{}-{}-{}-s{}".format(*pt))
        return run_point(args.pvsim, outdir, *pt, args.deep)

    runs, failed = run_points(points, point, args.jobs, "aio_sizing")
    if failed:
        return 1

    rows = []
    for e in engines:
        for p in policies:
            for d in args.disks:
                reps = [runs[(e, p, d, s)] for s in args.seeds]
                iops = [r["iops"] for r in reps]
                mean = lambda k: sum(r[k] for r in reps) / len(reps)  # noqa: E731
                rows.append({"engine": e, "policy": p, "disks": d, "iops_per_disk": round(sum(iops) / len(iops), 1),
                             "iops_spread": round(max(iops) - min(iops), 1), "p99_us": round(mean("p99_us"), 1),
                             "fairness": round(mean("fairness"), 4), "mean_length": round(mean("mean_length"), 1),
                             "blocked_fraction": round(mean("blocked_fraction"), 4),
                             "kernel_memory_bytes": int(mean("kernel_memory_bytes"))})
    with open(os.path.join(args.out, "aio_sizing.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)

    fig, axes = plt.subplots(2, len(engines), figsize=(5 * len(engines), 8), squeeze=False)
    styles = {"fixed": ("tab:gray", "o"), "per-disk": ("tab:blue", "s"), "adaptive": ("tab:red", "^")}
    for col, e in enumerate(engines):
        for p in policies:
            pts = [r for r in rows if r["engine"] == e and r["policy"] == p]
            color, marker = styles.get(p, (None, "x"))
            axes[0][col].errorbar([r["disks"] for r in pts], [r["iops_per_disk"] / 1000 for r in pts],
                                  yerr=[r["iops_spread"] / 2000 for r in pts], label=p, color=color, marker=marker,
                                  capsize=3)
            axes[1][col].plot([r["disks"] for r in pts], [r["p99_us"] / 1000 for r in pts], label=p, color=color,
                              marker=marker)
        axes[0][col].set_title(f"aio={e}: IOPS per disk")
        axes[0][col].set_ylabel("kIOPS per disk (bars: spread over seeds)")
        axes[1][col].set_title(f"aio={e}: worst disk's p99")
        axes[1][col].set_ylabel("p99 latency (ms)")
        for row in (0, 1):
            axes[row][col].set_xscale("log", base=2)
            axes[row][col].set_xticks(args.disks, [str(d) for d in args.disks])
            axes[row][col].set_xlabel("disks on one IOThread")
            axes[row][col].set_ylim(bottom=0)
            axes[row][col].grid(alpha=0.3)
            axes[row][col].legend()
    deep = ", guests 512 deep (past the host queues)" if args.deep else ", guests 256 deep per disk"
    fig.suptitle("qemu-aio-sizing.json: 20 ms LUNs of 256 host requests" + deep)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "aio_sizing.png"), dpi=110)
    print(f"wrote {os.path.join(args.out, 'aio_sizing.csv')} and {os.path.join(args.out, 'aio_sizing.png')}",
          file=sys.stderr)
    for r in rows:
        print(f"{r['engine']:9s} {r['policy']:9s} {r['disks']:3d} disks: {r['iops_per_disk']:9.0f} IOPS/disk "
              f"(±{r['iops_spread'] / 2:.0f}), p99 {r['p99_us'] / 1000:7.1f} ms, fairness {r['fairness']:.3f}, "
              f"length {r['mean_length']:7.0f}, io_submit asleep {r['blocked_fraction']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
