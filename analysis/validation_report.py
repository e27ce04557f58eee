#!/usr/bin/python3
"""Plots of `pvsim validate`: predicted vs measured IOPS and clat mean over iodepth and numjobs (with the MVA and
bound-interpolation baselines), and clat CDF overlays (fio's percentiles vs pvsim's quantiles), one per trace.

usage: validation_report.py REPORT_DIR/validation.json REPORT_DIR
Writes iops.png, latency.png, cdf.png into REPORT_DIR and appends a "Plots" section to REPORT_DIR/report.md."""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    out = sys.argv[2]
    runs = doc["runs"]
    groups = {}
    for r in runs:
        groups.setdefault((r["rw"], r["engine"]), []).append(r)

    for key, ylabel, fname in (("iops", "IOPS", "iops.png"), ("clat_mean_us", "clat mean (us)", "latency.png")):
        fig, ax = plt.subplots(figsize=(8, 5))
        for (rw, engine), rs in sorted(groups.items()):
            rs = sorted(rs, key=lambda r: (r["iodepth"] * r["numjobs"], r["trace"]))
            n = [r["iodepth"] * r["numjobs"] for r in rs]
            label = f"{rw} {engine}"
            ax.plot(n, [r["measured"][key] for r in rs], "o", label=f"{label} measured")
            ax.plot(n, [r["predicted"][key] for r in rs], "x-", label=f"{label} pvsim")
            for b, style in (("mva", ":"), ("bound_interpolation", "--")):
                pts = [(x, r["baselines"][b][key]) for x, r in zip(n, rs) if b in r.get("baselines", {})]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=f"{label} {b}")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("requests in flight (iodepth x numjobs)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=110)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    for i, r in enumerate(runs):
        color = f"C{i % 10}"
        m = r["cdf"]["measured"]
        p = r["cdf"]["predicted"]
        if m:
            ax.plot([x for x, _ in m], [q for _, q in m], "-", color=color, label=f"{r['trace']} measured")
        if p:
            ax.plot([x for x, _ in p], [q for _, q in p], "--", color=color, label=f"{r['trace']} pvsim")
    ax.set_xscale("log")
    ax.set_xlabel("clat (us)")
    ax.set_ylabel("fraction of requests")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "cdf.png"), dpi=110)
    plt.close(fig)

    with open(os.path.join(out, "report.md"), "a") as f:
        f.write("\n## Plots\n\n![IOPS](iops.png)\n\n![clat mean](latency.png)\n\n![clat CDF](cdf.png)\n")
    print(f"plots: {out}/iops.png, latency.png, cdf.png")


if __name__ == "__main__":
    main()
