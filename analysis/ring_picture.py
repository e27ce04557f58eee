#!/usr/bin/python3
"""Pictures of a shared ring (a Xen blkif ring, a virtqueue) at chosen instants, from a pvsim trace.

Usage:
  /usr/bin/python3 analysis/ring_picture.py TRACE.json --ring NAME [--slots N] [--at T] [--frames K --every DT]
                                            [-o ring.png]
  NAME is the ring's track in the trace (`one_xvda.ring0`); T and DT in microseconds of simulated time (default: the
  middle of the traced window; 1 frame). Example, after the README's first command:
  /usr/bin/python3 analysis/ring_picture.py out/trace.json --ring one_xvda.ring0 --frames 6 --every 20

Each frame draws the ring's slots around a circle. A request takes the slot of its producer index when the frontend
pushes it (req_prod, modulo the slots); the slot is orange while the request is published and not yet taken by the
backend (between req_prod and req_cons), blue while the backend holds it and until the frontend has taken its
response (the response reuses the request's slot, as in blkif), white when free. Arrows mark req_prod (where the next
request goes), req_cons (the next request the backend takes) and rsp_cons (the next response the frontend takes).
The indices are counted from the first request traced, so they are relative: only requests inside the trace's
window are known (pvsim run --trace-window), so draw instants well inside it. req_event and rsp_event are not in the
trace and not drawn. Prints one line per frame (slots used, indices) and writes the PNG; exit 2 on bad arguments or a ring the trace does not have.
"""
import argparse
import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Wedge  # noqa: E402


def ring_requests(trace, ring):
    """{request id: [arrive_us, start_us, depart_us]} for the ring's track, from its wait and service slices."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    tracks = {(e["pid"], e["tid"]) for e in events
              if e.get("ph") == "M" and e.get("name") == "thread_name"
              and e["args"]["name"].split(" #")[0] == ring}
    reqs = {}
    for e in events:
        if e.get("ph") != "X" or (e["pid"], e["tid"]) not in tracks:
            continue
        rid = e["args"]["request"]
        r = reqs.setdefault(rid, [None, None, None])
        if e.get("cat") == "wait":
            r[0] = e["ts"]
            r[1] = e["ts"] + e["dur"]
        else:
            r[1] = e["ts"] if r[1] is None else min(r[1], e["ts"])
            r[2] = e["ts"] + e["dur"]
            if r[0] is None:
                r[0] = e["ts"]  # taken at once: no wait slice
    return {k: v for k, v in reqs.items() if None not in v}


def draw(ax, reqs, slots, t):
    order = sorted(reqs.items(), key=lambda kv: (kv[1][0], kv[0]))
    prod = sum(1 for _, (a, s, d) in order if a <= t)
    cons = sum(1 for _, (a, s, d) in order if s <= t)
    rsp = sum(1 for _, (a, s, d) in order if d <= t)
    state = ["free"] * slots
    for idx, (_, (a, s, d)) in enumerate(order):
        if a <= t < s:
            state[idx % slots] = "published"
        elif s <= t < d:
            state[idx % slots] = "backend"
    colors = {"free": "white", "published": "tab:orange", "backend": "tab:blue"}
    for i in range(slots):
        theta1 = 90 - (i + 1) * 360 / slots
        ax.add_patch(Wedge((0, 0), 1.0, theta1, theta1 + 360 / slots, width=0.35, facecolor=colors[state[i]],
                           edgecolor="black", linewidth=0.6))
    for label, index, radius, color in (("req_prod", prod, 1.18, "tab:orange"), ("req_cons", cons, 1.32, "tab:blue"),
                                        ("rsp_cons", rsp, 1.46, "black")):
        angle = math.radians(90 - (index % slots + 0.5) * 360 / slots)
        x, y = math.cos(angle), math.sin(angle)
        ax.annotate(label, xy=(1.02 * x, 1.02 * y), xytext=(radius * x, radius * y), fontsize=7, color=color,
                    ha="center", va="center", arrowprops={"arrowstyle": "->", "color": color, "lw": 0.8})
    busy = sum(1 for s in state if s != "free")
    print(f"t_us={t:.3f} used={busy} published={state.count('published')} backend={state.count('backend')} "
          f"req_prod={prod} req_cons={cons} rsp_cons={rsp}")
    ax.set_title(f"t = {t / 1000:.3f} ms: {busy}/{slots} slots used\n"
                 f"{state.count('published')} published, {state.count('backend')} at the backend", fontsize=8)
    ax.set_xlim(-1.7, 1.7)
    ax.set_ylim(-1.7, 1.7)
    ax.set_aspect("equal")
    ax.axis("off")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--ring", required=True)
    ap.add_argument("--slots", type=int, default=32)
    ap.add_argument("--at", type=float, help="first instant, in us of simulated time")
    ap.add_argument("--frames", type=int, default=1)
    ap.add_argument("--every", type=float, default=20.0, help="us between frames")
    ap.add_argument("-o", "--out", default="ring.png")
    args = ap.parse_args(argv)
    if args.slots < 1 or args.frames < 1 or args.every <= 0:
        print("ring_picture.py: --slots, --frames and --every must be positive", file=sys.stderr)
        return 2
    try:
        with open(args.trace) as f:
            trace = json.load(f)
    except (OSError, ValueError) as e:
        print(f"ring_picture.py: {args.trace}: {e}", file=sys.stderr)
        return 2
    reqs = ring_requests(trace, args.ring)
    if not reqs:
        print(f"ring_picture.py: {args.trace}: no track named '{args.ring}' with requests", file=sys.stderr)
        return 2
    first = min(a for a, _, _ in reqs.values())
    last = max(d for _, _, d in reqs.values())
    t0 = args.at if args.at is not None else (first + last) / 2
    fig, axes = plt.subplots(1, args.frames, figsize=(3.2 * args.frames, 3.6), squeeze=False)
    for k in range(args.frames):
        draw(axes[0][k], reqs, args.slots, t0 + k * args.every)
    fig.suptitle(f"{args.ring}: orange published (req_prod..req_cons), blue at the backend or its response not yet "
                 f"taken, white free", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
