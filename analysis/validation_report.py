#!/usr/bin/python3
"""Plots of `pvsim validate`: predicted vs measured IOPS and clat mean over iodepth and numjobs (with the MVA and
bound-interpolation baselines), clat CDF overlays (fio's percentiles vs pvsim's quantiles), one per trace, each run's
IOPS error against the repeat noise of its configuration (the band is +-2 x its IOPS coefficient of variation: a
point outside it is "outside noise"), each configuration's mean measurement and the range of its repeats against
pvsim's and the bound formula's, and, with --interval, the predicted 10th-90th percentile intervals around the
measurements.

usage: validation_report.py REPORT_DIR/validation.json REPORT_DIR
Writes iops.png, latency.png, cdf.png, errors.png, configurations.png (and intervals.png) into REPORT_DIR and appends a "Plots" section
to REPORT_DIR/report.md."""
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

    plots = ["iops.png", "latency.png", "cdf.png", errors_plot(doc, out), configurations_plot(doc, out)]
    if any("interval" in r for r in runs):
        plots.append(intervals_plot(doc, out))

    with open(os.path.join(out, "report.md"), "a") as f:
        f.write("\n## Plots\n\n" + "\n\n".join(f"![{p[:-4]}]({p})" for p in plots) + "\n")
    print(f"plots: {out}/" + ", ".join(plots))


def errors_plot(doc, out):
    """Each run's IOPS error (pvsim and the bound formula) with the +-2 x noise band of its configuration."""
    runs = doc["runs"]
    x = list(range(len(runs)))
    fig, ax = plt.subplots(figsize=(max(8, 0.35 * len(runs)), 5))
    band = [2 * r["noise"]["iops_cv_pct"] if r.get("noise") else None for r in runs]
    for i, b in zip(x, band):
        if b is not None:
            ax.fill_between([i - 0.4, i + 0.4], [-b, -b], [b, b], color="0.85", lw=0)
    ax.plot([], [], "s", color="0.85", label="+-2 x repeat noise (IOPS CV)")
    err = [r["error_pct"]["iops"] for r in runs]
    outside = [bool(r.get("outside_noise")) for r in runs]
    ax.plot([i for i, o in zip(x, outside) if not o], [e for e, o in zip(err, outside) if not o], "o", color="C0",
            label="pvsim, inside noise")
    ax.plot([i for i, o in zip(x, outside) if o], [e for e, o in zip(err, outside) if o], "o", color="C3",
            label="pvsim, outside noise")
    bi = [(i, r["baselines"]["bound_interpolation"]["error_pct"]["iops"]) for i, r in zip(x, runs)
          if "bound_interpolation" in r.get("baselines", {})]
    if bi:
        ax.plot([p[0] for p in bi], [p[1] for p in bi], "x", color="C1", label="bound interpolation")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(x)
    ax.set_xticklabels([r["trace"].removesuffix(".json") for r in runs], rotation=75, fontsize=6)
    ax.set_ylabel("IOPS error %")
    ax.set_title(doc.get("mode", "in-sample"), fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "errors.png"), dpi=110)
    plt.close(fig)
    return "errors.png"


def configurations_plot(doc, out):
    """Each configuration's runs: their mean measured IOPS and clat mean with the range of its repeats, against the
    mean of pvsim's predictions and the bound formula's (the "Against each configuration's mean" table, drawn)."""
    configs = {}
    for r in doc["runs"]:
        configs.setdefault(r["config"], []).append(r)
    order = sorted(configs, key=lambda c: (configs[c][0]["rw"], configs[c][0]["engine"],
                                           configs[c][0]["iodepth"] * configs[c][0]["numjobs"], c))
    x = list(range(len(order)))
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 0.6 * len(order)), 8), sharex=True)
    for ax, key, label in ((axes[0], "iops", "IOPS"), (axes[1], "clat_mean_us", "clat mean (us)")):
        meas = [[r["measured"][key] for r in configs[c]] for c in order]
        mean = [sum(m) / len(m) for m in meas]
        ax.errorbar(x, mean, yerr=[[mu - min(m) for mu, m in zip(mean, meas)],
                                   [max(m) - mu for mu, m in zip(mean, meas)]],
                    fmt="o", color="C3", mfc="none", capsize=3, label="measured: mean and range of the repeats")
        ax.plot(x, [sum(r["predicted"][key] for r in configs[c]) / len(configs[c]) for c in order], "x",
                color="C0", label="pvsim")
        bi = [(i, sum(r["baselines"]["bound_interpolation"][key] for r in configs[c]) / len(configs[c]))
              for i, c in zip(x, order)
              if all("bound_interpolation" in r.get("baselines", {}) for r in configs[c])]
        if bi:
            ax.plot([p[0] for p in bi], [p[1] for p in bi], "+", color="C1", label="bound interpolation")
        ax.set_ylabel(label)
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    axes[1].set_xticks(x)
    axes[1].set_xticklabels([f"{c} ({len(configs[c])})" for c in order], rotation=75, fontsize=6)
    bc = doc["summary"].get("by_configuration") or {}
    pv = bc.get("models", {}).get("pvsim")
    title = doc.get("mode", "in-sample")
    if pv:
        title += (f"\npvsim against {bc['configurations']} configurations' means: median |IOPS error| "
                  f"{pv['median_abs_error_pct']['iops']:.1f} %, worst {pv['worst_iops']['error_pct']:+.1f} %")
    axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "configurations.png"), dpi=110)
    plt.close(fig)
    return "configurations.png"


def intervals_plot(doc, out):
    """Measured IOPS and clat mean against pvsim's prediction and its bootstrap 10-90 % interval, run by run."""
    runs = [r for r in doc["runs"] if "interval" in r]
    x = list(range(len(runs)))
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 0.35 * len(runs)), 8), sharex=True)
    for ax, key, label in ((axes[0], "iops", "IOPS"), (axes[1], "clat_mean_us", "clat mean (us)")):
        pred = [r["predicted"][key] for r in runs]
        lo = [max(0.0, p - r["interval"][key][0]) for p, r in zip(pred, runs)]
        hi = [max(0.0, r["interval"][key][1] - p) for p, r in zip(pred, runs)]
        ax.errorbar(x, pred, yerr=[lo, hi], fmt="x", color="C0", capsize=3, label="pvsim, 10-90 % interval")
        ax.plot(x, [r["measured"][key] for r in runs], "o", color="C3", mfc="none", label="measured")
        ax.set_ylabel(label)
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    axes[1].set_xticks(x)
    axes[1].set_xticklabels([r["trace"].removesuffix(".json") for r in runs], rotation=75, fontsize=6)
    cov = doc["summary"].get("coverage", {})
    axes[0].set_title(f"{doc.get('mode', '')}: coverage IOPS {cov.get('iops', 0) * 100:.0f} %, clat mean "
                      f"{cov.get('clat_mean_us', 0) * 100:.0f} %", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "intervals.png"), dpi=110)
    plt.close(fig)
    return "intervals.png"


if __name__ == "__main__":
    main()
