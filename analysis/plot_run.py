#!/usr/bin/python3
"""Plots of a pvsim run: latency CDF per job, IOPS per job and per queue.

Usage: /usr/bin/python3 analysis/plot_run.py OUTDIR/results.json [-o DIR]
Writes latency_cdf.png and iops.png next to results.json (or into DIR); when the run has them, also
queue_occupancy.png (the time series of every queue, scenario key "sample_interval") and per_queue.png (per ring:
notifications sent and suppressed, mean occupancy, backend batch sizes; per AIO engine: occupancy and requests that
waited; per blk-mq hardware queue: tag waits).
Uses Debian's matplotlib.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402


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
        if ax is axes[1]:  # the queue's utilization (busy servers / servers) under its name
            names = [f"{n} (util {q['utilization']:.2f})" for n, q in items]
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("kIOPS")
        ax.set_title(title)
        ax.grid(True, axis="y", alpha=0.3)
        for b, v in zip(bars, values):
            ax.annotate(f"{v:.1f}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=7)
    fig.suptitle(f"Throughput per job and per queue — {results['scenario'].get('name') or 'scenario'}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_time_series(results, path):
    ts = results.get("time_series")
    if not ts or not ts["t_s"]:
        return False
    fig, ax = plt.subplots(figsize=(8, 4.5))
    t_ms = [t * 1000 for t in ts["t_s"]]
    for name, values in sorted(ts["queues"].items()):
        ax.plot(t_ms, values, label=name, linewidth=1)
    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel("requests in the queue")
    ax.set_title("Queue occupancy every %g ms" % (ts["interval_s"] * 1000))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot_per_queue(results, path):
    """Per-ring notification counts, occupancy and batches; per-hctx tag waits."""
    rings, hctx, engines = [], [], []
    for comp, rep in sorted(results.get("components", {}).items()):
        for r in rep.get("rings", []):
            rings.append((f"{comp}.ring{r['queue']}", r))
        for h in rep.get("hw_queues", []):
            hctx.append((f"{comp}.hctx{h['hctx']}", h))
    if not any(h.get("tag_waits", 0) for _, h in hctx):
        hctx = []  # no request waited for a tag: no empty panel (said in the printout)
        if isinstance(rep.get("engine"), dict) and "mean_in_flight" in rep["engine"]:
            engines.append((comp, rep["engine"]))
    if not rings and not hctx and not engines:
        return False
    panels = (2 if rings else 0) + (1 if hctx else 0) + (1 if engines else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5), squeeze=False)
    axes = axes[0]
    i = 0
    if rings:
        ax = axes[i]
        i += 1
        names = [n for n, _ in rings]
        keys = [("requests_notified", "req notified"), ("requests_suppressed", "req suppressed"),
                ("responses_notified", "rsp notified"), ("responses_suppressed", "rsp suppressed")]
        width = 0.8 / len(keys)
        for k, (key, label) in enumerate(keys):
            ax.bar([x + k * width for x in range(len(names))], [r[key] for _, r in rings], width, label=label)
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(names))])
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("notifications (log scale)")
        ax.set_title("Notifications sent and suppressed per ring (whole run)")
        ax.legend(fontsize=7)
        ax = axes[i]
        i += 1
        batches = [(name, r, sorted((int(n), c) for n, c in r.get("backend_batches", {}).items())) for name, r in rings]
        batches = [(name, r, sizes) for name, r, sizes in batches if sizes]
        largest = max([sizes[-1][0] for _, _, sizes in batches], default=1)
        width = 0.8 / max(1, len(batches))
        for k, (name, r, sizes) in enumerate(batches):
            label = f"{name} (mean occupancy {r['mean_occupancy']:.1f}/{r['slots']} slots)"
            if largest <= 16:  # a histogram as bars side by side, one per ring at each batch size
                ax.bar([n - 0.4 + width * (k + 0.5) for n, _ in sizes], [c for _, c in sizes], width, label=label)
            else:  # many sizes: one outline per ring
                ax.hist([n for n, _ in sizes], bins=[n - 0.5 for n in range(1, largest + 2)],
                        weights=[c for _, c in sizes], histtype="step", linewidth=1.2, label=label)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("requests consumed per backend pass (batch size)")
        ax.set_ylabel("backend passes")
        ax.set_title("Backend batch sizes: bigger batches, fewer notifications")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    if engines:
        ax = axes[i]
        i += 1
        names = [f"{n} ({e.get('name', '')})" for n, e in engines]
        xs = range(len(names))
        ax.bar([x - 0.2 for x in xs], [e["mean_in_flight"] for _, e in engines], 0.4, label="mean in flight")
        ax.bar([x + 0.2 for x in xs], [e.get("max_in_flight", 0) for _, e in engines], 0.4, label="max in flight")
        for x, (_, e) in zip(xs, engines):
            ax.annotate(f"waited {e.get('waited', 0)}", (x, 0), ha="center", va="bottom", fontsize=7, color="white")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("requests in flight in the engine")
        ax.set_title("AIO engine: in flight (waited = found its queue full)")
        ax.legend(fontsize=7)
    if hctx:
        ax = axes[i]
        names = [n for n, _ in hctx]
        ax.bar(range(len(names)), [h["tag_waits"] for _, h in hctx], color="tab:red")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([f"{n}\ncpus {h['cpu_list']}" for n, h in hctx], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("requests that waited for a tag")
        ax.set_title("Tag exhaustion: waits per hardware queue")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [ax.get_title() for ax in axes]


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
    written = [cdf, iops]
    occupancy = os.path.join(outdir, "queue_occupancy.png")
    if plot_time_series(results, occupancy):
        written.append(occupancy)
    per_queue = os.path.join(outdir, "per_queue.png")
    panels = plot_per_queue(results, per_queue)
    if panels:
        written.append(per_queue)
    print("plots: " + ", ".join(written))
    if panels:
        print("per_queue.png panels: " + "; ".join(panels))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
