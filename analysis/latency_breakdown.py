#!/usr/bin/python3
"""Where a request's time goes, per configuration: stacked bars of the mean time in each stage of the stack.

Usage:
  /usr/bin/python3 analysis/latency_breakdown.py SCENARIO.json --config LABEL=PATH=VALUE[,PATH=VALUE...] ... -o DIR

Each --config is one bar: the scenario with those --set values (an empty list after "=" keeps the scenario as it is).
For each one, `pvsim explain --summary --json` runs (one process per configuration, in parallel, with progress) and
gives the mean time of the requests completed after the warm-up in each queueing place (waiting and being served),
before the first place (submission on the vCPU), between places and after the last one (response, interrupt,
reaping); a shared ring's time is split by the requests' steps on it where the model publishes them (published and
waiting for the backend, taken by the backend, response published and waiting for the interrupt handler). The
segments of a bar add up to that configuration's mean latency. Writes breakdown.csv and breakdown.png.

Example (the default scenario's two guests are one bar each; the stages are named after their components):
  /usr/bin/python3 analysis/latency_breakdown.py scenarios/xen-blk-mq.json \\
      --config "1 ring=components.xvda.max_queues=1" --config "4 rings=components.xvda.max_queues=4" -o out/breakdown
Uses Debian's matplotlib.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_config(text):
    label, sep, sets = text.partition("=")
    if not sep or not label:
        raise argparse.ArgumentTypeError(f"expected LABEL=PATH=VALUE[,PATH=VALUE...], got {text!r}")
    pairs = [s for s in sets.split(",") if s]
    for p in pairs:
        if "=" not in p:
            raise argparse.ArgumentTypeError(f"{label}: expected PATH=VALUE, got {p!r}")
    return label, pairs


def run_config(pvsim, scenario, sets):
    cmd = [pvsim, "explain", scenario, "--summary", "--json"]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip() or p.stdout.strip())
    return json.loads(p.stdout)


def generic(stage):
    """A stage's name without the queue index, so that ring0..ring3 stack as one colour ("xvda.ring")."""
    return re.sub(r"(\D)\d+(\b|$)", r"\1", stage, count=1) if "." in stage.split(" ")[0] else stage


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario")
    ap.add_argument("--config", action="append", type=parse_config, required=True, help="LABEL=PATH=VALUE,...")
    ap.add_argument("-o", "--output", required=True, help="output directory")
    ap.add_argument("--pvsim", default=os.path.join(HERE, "..", "build", "pvsim"))
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_config, args.pvsim, args.scenario, sets): label for label, sets in args.config}
        for i, f in enumerate(concurrent.futures.as_completed(futures), 1):
            label = futures[f]
            try:
                results[label] = f.result()
            except RuntimeError as e:
                print(f"\nlatency_breakdown: {label}: {e}", file=sys.stderr)
                return 2
            print(f"\r[{i}/{len(futures)}] {label}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    labels = [label for label, _ in args.config]
    stages = []  # generic stage names, in order of first appearance
    means = {}
    for label in labels:
        for s in results[label]["stages"]:
            g = generic(s["stage"])
            if g not in stages:
                stages.append(g)
            means[(label, g)] = means.get((label, g), 0.0) + s["mean_us"]
    with open(os.path.join(args.output, "breakdown.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["config", "stage", "mean_us"])
        for label in labels:
            for g in stages:
                w.writerow([label, g, f"{means.get((label, g), 0.0):.3f}"])
    # The stage names are long (a ring's time is split by the requests' steps): the legend goes under the bars.
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(labels) + 4), 5 + 0.22 * len(stages)))
    bottom = [0.0] * len(labels)
    colours = plt.cm.tab20.colors
    for k, g in enumerate(stages):
        heights = [means.get((label, g), 0.0) for label in labels]
        ax.bar(range(len(labels)), heights, 0.6, bottom=bottom, label=g, color=colours[k % len(colours)])
        bottom = [b + h for b, h in zip(bottom, heights)]
    for x, label in enumerate(labels):
        ax.annotate(f"{results[label]['mean_latency_us']:.0f} us", (x, bottom[x]), ha="center", va="bottom",
                    fontsize=8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels)
    ax.set_ylabel("mean time per request (us)")
    ax.set_title(f"Where a request's time goes — {os.path.basename(args.scenario)}")
    ax.legend(fontsize=7, bbox_to_anchor=(0.5, -0.08), loc="upper center", ncol=1, frameon=False)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    path = os.path.join(args.output, "breakdown.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"breakdown: {os.path.join(args.output, 'breakdown.csv')}, {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
