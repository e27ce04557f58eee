#!/usr/bin/python3
"""Plots of a pvsim run: latency CDF per job, IOPS per job and per queue.

Usage: /usr/bin/python3 analysis/plot_run.py OUTDIR/results.json [-o DIR]
Writes latency_cdf.png and iops.png next to results.json (or into DIR). Uses Debian's matplotlib.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def cdf_points(hist):
    """(latency_us, cumulative fraction) from a results.json histogram {"upper_ns": [...], "count": [...]}."""
    total = sum(hist["count"])
    xs, ys, run = [], [], 0
    for upper, count in zip(hist["upper_ns"], hist["count"]):
        run += count
        xs.append(upper / 1000.0)
        ys.append(run / total)
    return xs, ys


def plot_latency_cdf(results, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, job in sorted(results["jobs"].items()):
        if not job["histogram"]["count"]:
            continue
        xs, ys = cdf_points(job["histogram"])
        lat = job["latency_us"]
        ax.step(xs, ys, where="post", label=f"{name} (p50 {lat['p50']:.0f} us, p99 {lat['p99']:.0f} us)")
    ax.set_xscale("log")
    ax.set_xlabel("latency (us, log scale)")
    ax.set_ylabel("fraction of requests")
    ax.set_ylim(0, 1.01)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(f"Latency CDF per job — {results['scenario'].get('name') or 'scenario'}")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_iops(results, path):
    jobs = sorted(results["jobs"].items())
    queues = sorted(results["queues"].items())
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, items, title in ((axes[0], jobs, "IOPS per job"), (axes[1], queues, "IOPS per queue")):
        names = [n for n, _ in items]
        values = [v["iops"] / 1000.0 for _, v in items]
        bars = ax.bar(range(len(names)), values, color="tab:blue" if ax is axes[0] else "tab:orange")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("kIOPS")
        ax.set_title(title)
        ax.grid(True, axis="y", alpha=0.3)
        for b, v in zip(bars, values):
            ax.annotate(f"{v:.1f}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=7)
        if ax is axes[1]:
            for i, (_, q) in enumerate(items):
                ax.annotate(f"util {q['utilization']:.2f}", (i, 0), ha="center", va="bottom", fontsize=7,
                            color="white")
    fig.suptitle(results["scenario"].get("name") or "scenario")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="results.json written by pvsim run")
    ap.add_argument("-o", "--output", help="directory for the PNGs (default: next to results.json)")
    args = ap.parse_args(argv)
    try:
        with open(args.results) as f:
            results = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        print(f"plot_run: {args.results}: {e}", file=sys.stderr)
        return 2
    if results.get("format") != "pvsim-results":
        print(f"plot_run: {args.results}: not a pvsim results file", file=sys.stderr)
        return 2
    outdir = args.output or os.path.dirname(os.path.abspath(args.results))
    os.makedirs(outdir, exist_ok=True)
    cdf = os.path.join(outdir, "latency_cdf.png")
    iops = os.path.join(outdir, "iops.png")
    plot_latency_cdf(results, cdf)
    plot_iops(results, iops)
    print(f"plots: {cdf}, {iops}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
